"""Sign-in for every route of the app: API tokens, browser sessions, and when it is on at all.

Why one ASGI middleware: the page, Gradio's own API, the REST API, originals and uploads are
all routes of one server, and a check in each handler would miss the next route someone adds.
`AuthGate` sits inside the Host/Origin guard (origin.py) and before the request limits, so an
unknown client is refused before it can spend upload space or a model call. With no user
defined it lets everything through unchanged (the single-user app on loopback); the moment a
user exists (`assistant users add`), every route needs a token or a session.
"""

from __future__ import annotations

import hashlib
import json
import logging
import secrets
import threading
import time
from collections import deque
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from starlette.requests import cookie_parser

from ..web.origin import ASGIApp, Receive, Scope, Send, refuse
from .accounts import User, UserStore

log = logging.getLogger(__name__)

SESSION_COOKIE = "assistant_session"
SESSION_SECONDS = 12 * 3600
USER_KEY = "assistant.user"  # scope key: the signed-in User (None when sign-in is off)
# The only routes served before sign-in: the form, and Gradio's own once-only start call (launch() makes
# it without credentials; it reveals nothing and runs the app's start-up events only the first time).
OPEN_PATHS = ("/signin", "/gradio_api/startup-events")
SIGN_IN_ATTEMPTS = 10  # per client and window, right or wrong
SIGN_IN_WINDOW = 60.0
NEED_SIGN_IN = "sign in first: send 'Authorization: Bearer TOKEN' (a token from `assistant tokens create NAME`)"
NOBODY = User("", ())  # a request with sign-in on but no valid token or session: reads nothing
BAD_TOKEN = "this token is not valid (revoked, or its user removed)"


class Sessions:
    """Browser sessions held by the server: the cookie carries a random id, the server its SHA-256."""

    def __init__(self, seconds: float = SESSION_SECONDS) -> None:
        self.seconds = seconds
        self._lock = threading.Lock()
        self._held: dict[str, tuple[str, float]] = {}

    @staticmethod
    def _key(session_id: str) -> str:
        return hashlib.sha256(session_id.encode("utf-8", "surrogatepass")).hexdigest()

    def start(self, name: str) -> str:
        session_id = secrets.token_urlsafe(32)
        with self._lock:
            now = time.monotonic()
            self._held = {k: v for k, v in self._held.items() if v[1] > now}
            self._held[self._key(session_id)] = (name, now + self.seconds)
        return session_id

    def name_of(self, session_id: str) -> str | None:
        with self._lock:
            held = self._held.get(self._key(session_id))
        return held[0] if held and held[1] > time.monotonic() else None

    def end(self, session_id: str) -> None:
        with self._lock:
            self._held.pop(self._key(session_id), None)


class SignInLimiter:
    """At most SIGN_IN_ATTEMPTS sign-ins per client address in SIGN_IN_WINDOW seconds (then HTTP 429)."""

    def __init__(self, attempts: int = SIGN_IN_ATTEMPTS, window: float = SIGN_IN_WINDOW) -> None:
        self.attempts, self.window = attempts, window
        self._lock = threading.Lock()
        self._seen: dict[str, deque[float]] = {}

    def wait(self, client: str) -> float:
        """0 when this attempt may go ahead (and it is counted), else the seconds to wait."""
        now = time.monotonic()
        with self._lock:
            seen = self._seen.setdefault(client, deque())
            while seen and seen[0] <= now - self.window:
                seen.popleft()
            if len(seen) >= self.attempts:
                return seen[0] + self.window - now
            seen.append(now)
            if len(self._seen) > 10_000:  # forget idle clients, so the table stays small
                self._seen = {k: v for k, v in self._seen.items() if v and v[-1] > now - self.window}
            return 0.0


class Auth:
    """The users, the sessions and the sign-in limiter of one app."""

    def __init__(self, store: UserStore | None, limiter: SignInLimiter | None = None) -> None:
        self.store = store
        self.sessions = Sessions()
        self.limiter = limiter or SignInLimiter()

    def enabled(self) -> bool:
        """Sign-in is on while any user is defined (checked per request: `users add` takes effect at once)."""
        return self.store is not None and self.store.has_users()

    def from_headers(self, headers: Mapping[str, str]) -> tuple[User | None, str | None]:
        """(user, None) for a valid token or session, else (None, why): a bearer token is checked first."""
        assert self.store is not None
        authorization = headers.get("authorization", "")
        if authorization:
            scheme, _, token = authorization.partition(" ")
            user = self.store.user_of_token(token.strip()) if scheme.lower() == "bearer" and token.strip() else None
            return (user, None) if user else (None, BAD_TOKEN)
        session_id = cookie_parser(headers.get("cookie", "")).get(SESSION_COOKIE)
        name = self.sessions.name_of(session_id) if session_id else None
        user = self.store.get(name) if name else None  # a removed user's session ends with them
        return (user, None) if user else (None, NEED_SIGN_IN)

    def user_of(self, request: Any) -> User | None:
        """The signed-in user of a Starlette or Gradio request; None when sign-in is off.

        Fails closed: with sign-in on, a request whose token or session is gone (or no request)
        gets NOBODY, who may read no collection, never None (which would mean everything).
        """
        if not self.enabled():
            return None
        if request is None:
            return NOBODY
        headers = {k.lower(): v for k, v in dict(getattr(request, "headers", {}) or {}).items()}
        return self.from_headers(headers)[0] or NOBODY


def _headers(scope: Scope) -> dict[str, str]:
    return {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}


def wants_page(scope: Scope, headers: Mapping[str, str]) -> bool:
    """A browser opening a page (sent to the sign-in form) rather than a program (told 401)."""
    path = scope.get("path", "")
    return (scope.get("method") in ("GET", "HEAD") and "text/html" in headers.get("accept", "")
            and not path.startswith(("/api/", "/gradio_api/")))


class AuthGate:
    """ASGI middleware: with users defined, only a valid token or session gets past it."""

    def __init__(self, app: ASGIApp, auth: Auth) -> None:
        self.app = app
        self.auth = auth

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket") or not self.auth.enabled():
            await self.app(scope, receive, send)
            return
        root = scope.get("root_path", "").rstrip("/")
        path = scope.get("path", "")
        path = path[len(root):] if root and path.startswith(root) else path
        headers = _headers(scope)
        if path in OPEN_PATHS:
            await self.app(scope, receive, send)
            return
        user, why = self.auth.from_headers(headers)
        if user is not None:
            scope[USER_KEY] = user
            await self.app(scope, receive, send)
            return
        if scope["type"] == "websocket":
            await refuse(scope, send, why or NEED_SIGN_IN)
        elif wants_page(scope, headers):
            query = scope.get("query_string", b"").decode("latin-1")
            target = quote(path + (f"?{query}" if query else ""), safe="")
            await _send(send, 303, b"", [(b"location", f"{root}/signin?next={target}".encode("latin-1"))])
        else:
            body = json.dumps({"error": why or NEED_SIGN_IN}).encode()
            await _send(send, 401, body, [(b"content-type", b"application/json"),
                                          (b"www-authenticate", b'Bearer realm="assistant"')])


async def _send(send: Send, status: int, body: bytes, headers: list[tuple[bytes, bytes]]) -> None:
    await send({"type": "http.response.start", "status": status, "headers": [
        *headers, (b"content-length", str(len(body)).encode()), (b"cache-control", b"no-store")]})
    await send({"type": "http.response.body", "body": body})
