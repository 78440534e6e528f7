"""Users and tokens (README "Teams"): the CLI, what auth.sqlite keeps, and when the app refuses to start."""

from __future__ import annotations

import io
import os
import subprocess
import sys

import pytest
from helpers import ROOT, error_line

from assistant.apps.api.accounts import AUTH_FILE, UserStore, hash_token
from assistant.apps.api.auth import Auth, Sessions, SignInLimiter
from assistant.apps.cli import main
from assistant.apps.web.serve import check_exposure
from assistant.errors import AssistantError

PASSWORD = "correct horse battery"


def run(capsys, *argv: str, stdin: str | None = None) -> tuple[int, str, str]:
    if stdin is not None:
        sys.stdin = io.StringIO(stdin)
    try:
        code = main(list(argv))
    finally:
        sys.stdin = sys.__stdin__
    out, err = capsys.readouterr()
    return code, out, err


def test_users_and_tokens_from_the_command_line(tmp_path, capsys):
    index = str(tmp_path)
    assert run(capsys, "users", "add", "alice", "--collections", "hr, shared", "--password-stdin", "--index", index,
               stdin=PASSWORD + "\n")[0] == 0
    assert run(capsys, "users", "add", "root", "--admin", "--index", index)[0] == 0
    code, out, _ = run(capsys, "users", "list", "--index", index)
    assert out.splitlines() == ["alice\thr,shared\t0 tokens", "root\tadmin\t0 tokens"]
    code, token, _ = run(capsys, "tokens", "create", "alice", "--index", index)
    token = token.strip()
    assert code == 0 and len(token) >= 43 and "\n" not in token
    store = UserStore(tmp_path)
    assert store.user_of_token(token).collections == ("hr", "shared")
    assert store.check_password("alice", PASSWORD).name == "alice"
    assert store.check_password("alice", "wrong password") is None
    assert store.check_password("nobody", PASSWORD) is None
    assert run(capsys, "users", "list", "--json", "--index", index)[1].splitlines()[0] == (
        '{"name": "alice", "admin": false, "collections": ["hr", "shared"], "tokens": 1}')
    assert run(capsys, "tokens", "revoke", token, "--index", index)[0] == 0
    assert store.user_of_token(token) is None  # the running app's next request
    raw = (tmp_path / AUTH_FILE).read_bytes()
    assert PASSWORD.encode() not in raw and token.encode() not in raw and hash_token(token).encode() not in raw
    assert (tmp_path / AUTH_FILE).stat().st_mode & 0o077 == 0
    second = run(capsys, "tokens", "create", "alice", "--index", index)[1].strip()
    assert run(capsys, "users", "remove", "alice", "--index", index)[0] == 0
    assert store.user_of_token(second) is None and store.get("alice") is None  # tokens go with their user


@pytest.mark.parametrize("argv, stdin, message", [
    (["users", "add", "a/b", "--collections", "x"], None, "not a user name"),
    (["users", "add", "bob", "--collections", "../etc"], None, "not a collection name"),
    (["users", "add", "bob"], None, "at least one collection"),
    (["users", "add", "bob", "--collections", "x", "--password-stdin"], "short\n", "too short"),
    (["users", "add", "bob", "--collections", "x", "--password-stdin"], "", "nothing on stdin"),
    (["users", "add", "bob", "--admin", "--collections", "x"], None, "leave out --collections"),
    (["users", "remove", "nobody"], None, "no user named"),
    (["tokens", "create", "nobody"], None, "no user named"),
    (["tokens", "revoke", "not-a-token"], None, "no such token"),
])
def test_bad_input_is_one_line(tmp_path, capsys, argv, stdin, message):
    code, _, err = run(capsys, *argv, "--index", str(tmp_path), stdin=stdin)
    assert code == 1 and message in error_line(err)


def test_a_user_name_is_taken_once(tmp_path):
    store = UserStore(tmp_path)
    store.add("alice", ("hr",))
    with pytest.raises(AssistantError, match="exists already"):
        store.add("alice", ("shared",))


def test_sign_in_is_off_until_a_user_exists(tmp_path):
    auth = Auth(UserStore(tmp_path))
    assert not auth.enabled() and not (tmp_path / AUTH_FILE).exists()  # asking creates no file
    auth.store.add("alice", ("hr",))
    assert auth.enabled()


def test_sessions_end_and_the_limiter_counts_per_client():
    sessions = Sessions(seconds=60)
    one = sessions.start("alice")
    assert sessions.name_of(one) == "alice" and sessions.name_of(one + "x") is None
    sessions.end(one)
    assert sessions.name_of(one) is None
    assert Sessions(seconds=-1).name_of(Sessions(seconds=-1).start("a")) is None
    limiter = SignInLimiter(attempts=2, window=60)
    assert limiter.wait("a") == 0 and limiter.wait("a") == 0 and limiter.wait("a") > 0
    assert limiter.wait("b") == 0


def test_a_non_loopback_app_without_users_refuses_to_start(tmp_path, capsys):
    env = {**os.environ, "GRADIO_SERVER_NAME": "0.0.0.0", "ASSISTANT_INDEX": str(tmp_path), "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "app.py"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode != 0
    assert "assistant users add NAME" in error_line(done.stderr) and "--no-auth" in done.stderr
    check_exposure("127.0.0.1", tmp_path, no_auth=False)  # loopback: no sign-in needed
    check_exposure("0.0.0.0", tmp_path, no_auth=True)
    assert "warning: serving 0.0.0.0 with no sign-in" in capsys.readouterr().err
    UserStore(tmp_path).add("alice", ("hr",))
    check_exposure("0.0.0.0", tmp_path, no_auth=False)


def test_a_milvus_store_keeps_its_users_where_assistant_auth_says(tmp_path, capsys, monkeypatch):
    location = f"milvus-lite:{tmp_path / 'milvus.db'}/docs"  # no folder: the users need a file of their own
    monkeypatch.delenv("ASSISTANT_AUTH", raising=False)
    code, _, err = run(capsys, "users", "add", "alice", "--collections", "hr", "--index", location)
    assert code != 0 and "ASSISTANT_AUTH" in error_line(err)
    assert not UserStore(location).has_users() and not Auth(UserStore(location)).enabled()
    with pytest.raises(SystemExit, match="ASSISTANT_AUTH"):
        check_exposure("0.0.0.0", location, no_auth=False)

    monkeypatch.setenv("ASSISTANT_AUTH", str(tmp_path / "team" / "users.sqlite"))
    (tmp_path / "team").mkdir()
    assert run(capsys, "users", "add", "alice", "--collections", "hr", "--index", location)[0] == 0
    token = run(capsys, "tokens", "create", "alice", "--index", location)[1].strip()
    assert (tmp_path / "team" / "users.sqlite").exists() and not (tmp_path / "milvus.db").exists()
    assert Auth(UserStore(location)).enabled() and UserStore(location).user_of_token(token).name == "alice"
    check_exposure("0.0.0.0", location, no_auth=False)  # sign-in is on: the app may serve beyond loopback
