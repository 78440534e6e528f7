"""Users and API tokens, kept in `auth.sqlite` in the index folder (or the file ASSISTANT_AUTH
names); nothing secret is stored in clear.

Why here and why this way: the index folder is what the app and `assistant users` already share
(a Milvus store has no folder, so there ASSISTANT_AUTH names the file), and SQLite gives
transactions, so two commands at once never lose a user. Passwords are hashed with scrypt and a
per-user salt (slow to guess from a stolen file); tokens are 32 random bytes, so a SHA-256 of
them is enough (nothing to guess), and a lookup by hash is one index probe.
A revoked token or a removed user is gone at the next request: nothing is cached.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import secrets
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from ...config import env
from ...errors import AssistantError
from ...index.access import SHARED
from ...index.stores import milvus_location

AUTH_FILE = "auth.sqlite"
SCRYPT = {"n": 2**14, "r": 8, "p": 1, "maxmem": 64 * 1024 * 1024, "dklen": 32}
MIN_PASSWORD = 8
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
_SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
    name TEXT PRIMARY KEY, salt BLOB NOT NULL, password BLOB, collections TEXT NOT NULL,
    admin INTEGER NOT NULL DEFAULT 0, created REAL NOT NULL);
CREATE TABLE IF NOT EXISTS tokens (
    hash TEXT PRIMARY KEY, user TEXT NOT NULL REFERENCES users(name) ON DELETE CASCADE, created REAL NOT NULL);
"""


@dataclass(frozen=True)
class User:
    """Who is signed in: the collections they may read and write (None: every collection, an admin)."""

    name: str
    collections: tuple[str, ...] | None
    admin: bool = False

    def may_use(self, collection: str) -> bool:
        return self.collections is None or collection in self.collections


def check_collection(name: str) -> str:
    """A collection is a top-level folder of the corpus (or `shared`): one plain folder name."""
    name = name.strip()
    if (not name or name in (".", "..") or name.startswith(".") or len(name) > 100
            or any(c in name for c in "/\\\0") or not name.isprintable()):
        raise AssistantError(f"not a collection name: {name[:100]!r} (a top-level folder of the corpus, or {SHARED})")
    return name


def parse_collections(value: str) -> tuple[str, ...]:
    """`hr,shared` -> ("hr", "shared"), each checked."""
    names = tuple(dict.fromkeys(check_collection(part) for part in value.split(",") if part.strip()))
    if not names:
        raise AssistantError("give at least one collection, e.g. --collections hr,shared")
    return names


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def _scrypt(password: str, salt: bytes) -> bytes:
    return hashlib.scrypt(password.encode("utf-8", "surrogatepass"), salt=salt, **SCRYPT)


_DUMMY_SALT = secrets.token_bytes(16)


def auth_file(index: str | os.PathLike) -> Path | None:
    """The users-and-tokens file of this index: ASSISTANT_AUTH, else `auth.sqlite` in the index folder;
    None for a Milvus location without ASSISTANT_AUTH (no folder to keep it in: sign-in is off)."""
    named = env("ASSISTANT_AUTH")
    if named:
        return Path(named).expanduser()
    return None if milvus_location(index) is not None else Path(index) / AUTH_FILE


class UserStore:
    """The users and tokens of one index (see `auth_file`); safe to share between threads."""

    def __init__(self, index_dir: str | os.PathLike) -> None:
        self.path = auth_file(index_dir)  # None: no users, and adding one says why
        self.location = os.fspath(index_dir)
        self._lock = threading.Lock()
        self._db: sqlite3.Connection | None = None

    def _conn(self) -> sqlite3.Connection:
        if self._db is None:
            if self.path is None:
                raise AssistantError(f"{self.location} is a Milvus store, which has no folder for users: "
                                     "set ASSISTANT_AUTH to the file to keep them in (the app needs it too)")
            if not self.path.parent.is_dir():
                raise AssistantError(f"no folder at {self.path.parent} for the users file {self.path.name}")
            fresh = not self.path.exists()
            db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None, timeout=10)
            db.execute("PRAGMA foreign_keys = ON")
            if fresh:
                os.chmod(self.path, 0o600)  # hashes only, but nobody else needs to read them
            db.executescript(_SCHEMA)
            self._db = db
        return self._db

    def _write(self, sql: str, args: tuple = ()) -> int:
        """One statement in its own immediate transaction; returns the rows changed."""
        with self._lock:
            db = self._conn()
            db.execute("BEGIN IMMEDIATE")
            try:
                changed = db.execute(sql, args).rowcount
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
            return changed

    def _read(self, sql: str, args: tuple = ()) -> list[tuple]:
        with self._lock:
            return self._conn().execute(sql, args).fetchall()

    def has_users(self) -> bool:
        """Whether sign-in is on: any user defined. Costs no file when there is none."""
        if self._db is None and (self.path is None or not self.path.exists()):
            return False
        return bool(self._read("SELECT 1 FROM users LIMIT 1"))

    # -- users

    def add(self, name: str, collections: tuple[str, ...], admin: bool = False, password: str | None = None) -> User:
        if not _NAME.fullmatch(name or ""):
            raise AssistantError(f"not a user name: {name[:64]!r} (letters, digits, '.', '_', '-'; at most 64)")
        salt = secrets.token_bytes(16)
        hashed = None
        if password is not None:
            if len(password) < MIN_PASSWORD:
                raise AssistantError(f"the password is too short: at least {MIN_PASSWORD} characters")
            hashed = _scrypt(password, salt)
        try:
            self._write("INSERT INTO users (name, salt, password, collections, admin, created) VALUES (?, ?, ?, ?, ?, ?)",
                        (name, salt, hashed, json.dumps(list(collections)), int(admin), time.time()))
        except sqlite3.IntegrityError:
            raise AssistantError(f"user {name!r} exists already; `assistant users remove {name}` first") from None
        return User(name, None if admin else tuple(collections), admin)

    def remove(self, name: str) -> None:
        if not self._write("DELETE FROM users WHERE name = ?", (name,)):
            raise AssistantError(f"no user named {name[:64]!r}")

    def get(self, name: str) -> User | None:
        rows = self._read("SELECT name, collections, admin FROM users WHERE name = ?", (name,))
        return _user(rows[0]) if rows else None

    def users(self) -> list[tuple[User, int]]:
        """Every user with their number of tokens."""
        rows = self._read("SELECT u.name, u.collections, u.admin, COUNT(t.hash) FROM users u "
                          "LEFT JOIN tokens t ON t.user = u.name GROUP BY u.name ORDER BY u.name")
        return [(_user(row[:3]), row[3]) for row in rows]

    def check_password(self, name: str, password: str) -> User | None:
        """The user when the password is theirs; the same work is done for an unknown name."""
        rows = self._read("SELECT name, collections, admin, salt, password FROM users WHERE name = ?", (name,))
        salt, stored = (rows[0][3], rows[0][4]) if rows else (_DUMMY_SALT, None)
        given = _scrypt(password, salt)
        if rows and stored is not None and hmac.compare_digest(given, stored):
            return _user(rows[0][:3])
        return None

    # -- tokens

    def create_token(self, name: str) -> str:
        if self.get(name) is None:
            raise AssistantError(f"no user named {name[:64]!r}")
        token = secrets.token_urlsafe(32)
        self._write("INSERT INTO tokens (hash, user, created) VALUES (?, ?, ?)", (hash_token(token), name, time.time()))
        return token

    def revoke_token(self, token: str) -> None:
        if not self._write("DELETE FROM tokens WHERE hash = ?", (hash_token(token.strip()),)):
            raise AssistantError("no such token (it may have been revoked already)")

    def user_of_token(self, token: str) -> User | None:
        rows = self._read("SELECT u.name, u.collections, u.admin FROM tokens t JOIN users u ON u.name = t.user "
                          "WHERE t.hash = ?", (hash_token(token),))
        return _user(rows[0]) if rows else None


def _user(row: tuple) -> User:
    name, collections, admin = row
    return User(name, None if admin else tuple(json.loads(collections)), bool(admin))
