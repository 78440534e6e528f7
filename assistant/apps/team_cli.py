"""`assistant users ...` and `assistant tokens ...`: who may use the team server (README "Teams")."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path

from ..errors import AssistantError


def add_commands(commands, parser_class: type, index_arg: Callable[[argparse.ArgumentParser], None]) -> None:
    """The `users` and `tokens` sub-commands, on the main parser's sub-parser list."""
    users = commands.add_parser("users", help="add, list and remove the people who may use the web app and API")
    actions = users.add_subparsers(dest="action", required=True, parser_class=parser_class)
    add = actions.add_parser("add", help="add a user (sign-in turns on for the app once one exists)")
    add.add_argument("name")
    add.add_argument("--collections", default="", metavar="A,B",
                     help="top-level corpus folders the user may read and add to (`shared`: files at the root)")
    add.add_argument("--admin", action="store_true", help="every collection, now and later")
    add.add_argument("--password-stdin", action="store_true",
                     help="read the password from the first line of stdin (without it: tokens only)")
    listing = actions.add_parser("list", help="list the users")
    listing.add_argument("--json", action="store_true")
    remove = actions.add_parser("remove", help="remove a user and their tokens")
    remove.add_argument("name")
    tokens = commands.add_parser("tokens", help="create and revoke API tokens")
    token_actions = tokens.add_subparsers(dest="action", required=True, parser_class=parser_class)
    create = token_actions.add_parser("create", help="print a new token for a user on one line")
    create.add_argument("name")
    revoke = token_actions.add_parser("revoke", help="revoke a token (refused from the next request on)")
    revoke.add_argument("token")
    for sub in (add, listing, remove, create, revoke):
        index_arg(sub)


def _store(index: Path | str):
    from .api.accounts import UserStore

    return UserStore(index)  # a Milvus location needs ASSISTANT_AUTH: the store says so at first use


def cmd_users(args, index: Path | str) -> int:
    from .api.accounts import parse_collections

    store = _store(index)
    if args.action == "add":
        if args.admin and args.collections:
            raise AssistantError("--admin reads every collection: leave out --collections")
        collections = () if args.admin else parse_collections(args.collections)
        password = _password() if args.password_stdin else None
        user = store.add(args.name, collections, admin=args.admin, password=password)
        print(f"added {user.name}: {'admin' if user.admin else ', '.join(collections)}", file=sys.stderr)
    elif args.action == "remove":
        store.remove(args.name)
        print(f"removed {args.name} and their tokens", file=sys.stderr)
    else:
        for user, tokens in store.users():
            if args.json:
                print(json.dumps({"name": user.name, "admin": user.admin,
                                  "collections": None if user.collections is None else list(user.collections),
                                  "tokens": tokens}))
            else:
                print(f"{user.name}\t{'admin' if user.admin else ','.join(user.collections or ())}\t{tokens} tokens")
    return 0


def cmd_tokens(args, index: Path | str) -> int:
    store = _store(index)
    if args.action == "create":
        print(store.create_token(args.name))
    else:
        store.revoke_token(args.token)
        print("revoked", file=sys.stderr)
    return 0


def _password() -> str:
    line = sys.stdin.readline()
    if not line:
        raise AssistantError("--password-stdin: nothing on stdin")
    return line.rstrip("\r\n")
