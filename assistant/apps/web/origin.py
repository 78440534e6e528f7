"""Host and Origin checks: no page on another origin or host name may drive the web app.

Why: the app hands answers, full document texts, originals, uploads and Remove to whoever can
send it HTTP requests, and a browser sends requests for any page the user visits. Gradio's CORS
middleware treats a request as local only when its Host is exactly `localhost`, `127.0.0.1` or
`0.0.0.0`, and for any other Host grants every Origin CORS with credentials; browsers send
`*.localhost` to loopback and DNS rebinding sends any name there. So, before Gradio sees a
request (HTTP or websocket), `HostOriginGuard` refuses:

- a Host the app does not serve: loopback names, the bound address, `ASSISTANT_ALLOWED_HOSTS`
  (this is what stops DNS rebinding: the attacker's page keeps its own name in Host);
- an `Origin` that is not the app's own (`Origin: null` included): a page on another origin,
  another port of 127.0.0.1 included, cannot post to it or open a websocket;
- a request Fetch Metadata marks as cross-site or same-site that is not a top-level GET
  navigation (the "resource isolation policy"), and a request without Origin whose Referer is
  another origin, unless it is such a navigation (browsers that send no Fetch Metadata);

and it removes every `access-control-allow-*` header from what it lets through, so no other
origin is ever granted CORS. Clients that send none of these headers (curl, gradio_client,
Python) pass when the Host is allowed.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from typing import Any
from urllib.parse import urlsplit

from ...config import env
from ...errors import AssistantError

log = logging.getLogger(__name__)

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

ALLOWED_HOSTS_ENV = "ASSISTANT_ALLOWED_HOSTS"
LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "[::1]"})
ANY_ADDRESS = frozenset({"", "0.0.0.0", "[::]"})  # binding these says nothing about the names clients use
CHECKED = "assistant.host_origin_checked"  # scope key: set by the guard, required by GuardCheck
DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443}

# A host name or IPv4 address, or a bracketed IPv6 address, then an optional port; nothing else
# (no trailing dot, no user info, no non-ASCII), so one spelling of a name means one thing.
_HOST = re.compile(r"(?P<name>[a-z0-9_](?:[a-z0-9_.-]*[a-z0-9_])?|\[[0-9a-f:.]+\])(?::(?P<port>[0-9]{1,5}))?")

HOST_REFUSED = "Refused: this app does not answer to that host name. If the name is yours, add it to ASSISTANT_ALLOWED_HOSTS."
ORIGIN_REFUSED = "Refused: a request from another origin. Only the app's own pages may call it."
GUARD_MISSING = "Refused: the app's Host and Origin check is not installed, so it answers nothing."


def split_host(value: str) -> tuple[str, int | None] | None:
    """(name, port) of a Host header or `host[:port]`, lower-cased; None when it is not one."""
    match = _HOST.fullmatch(value.strip().lower())
    if match is None:
        return None
    port = int(match["port"]) if match["port"] else None
    if port is not None and not 0 < port < 65536:
        return None
    return match["name"], port


def _bracketed(name: str) -> str:
    """An IPv6 address as it appears in Host and URLs (`::1` -> `[::1]`)."""
    return f"[{name}]" if name.count(":") >= 2 and not name.startswith("[") else name


def allowed_hosts(server_name: str, setting: str | None = None) -> frozenset[str]:
    """The host names the app answers to: loopback names, the bound address and ASSISTANT_ALLOWED_HOSTS.

    `setting` defaults to the environment; an entry that is not a plain host name (a URL, a
    wildcard, a path) raises AssistantError with one line, since a typo there would either lock
    the proxy out or, if it were read loosely, let other names in.
    """
    names = set(LOOPBACK_NAMES)
    bound = split_host(_bracketed(server_name or ""))
    if bound is not None and bound[0] not in ANY_ADDRESS:
        names.add(bound[0])
    setting = env(ALLOWED_HOSTS_ENV) if setting is None else setting
    for entry in setting.split(","):
        if not entry.strip():
            continue
        parsed = split_host(_bracketed(entry.strip()))
        if parsed is None or parsed[0] in ANY_ADDRESS:
            raise AssistantError(f"{ALLOWED_HOSTS_ENV}: {entry.strip()!r} is not a host name; give names such as "
                                 "docs.example.org or 192.0.2.7, separated by commas (no scheme, path or wildcard)")
        names.add(parsed[0])
    return frozenset(names)


def _same_origin(url: str, host: tuple[str, int | None]) -> bool:
    """Whether an Origin or Referer URL names the request's own host and port (the scheme is the proxy's affair).

    A port left out on either side is the URL scheme's default, as browsers leave it out of Host.
    """
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return False
    default = DEFAULT_PORTS.get(parts.scheme.lower())
    netloc = parts.netloc.rpartition("@")[2]
    other = split_host(netloc) if default is not None and netloc else None
    if other is None:
        return False  # `null`, opaque and unknown schemes: never the app's own
    return other[0] == host[0] and (other[1] or default) == (host[1] or default)


class HostOriginGuard:
    """ASGI middleware, installed outermost: refuse foreign hosts and cross-origin requests, grant no CORS."""

    def __init__(self, app: ASGIApp, allowed: Iterable[str]) -> None:
        self.app = app
        self.allowed = frozenset(allowed)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        reason = self.refusal(scope)
        if reason is not None:
            await refuse(scope, send, reason)
            return
        scope[CHECKED] = True
        await self.app(scope, receive, _without_cors(send))

    def refusal(self, scope: Scope) -> str | None:
        """Why this request is refused, or None to let it through."""
        headers: dict[str, list[str]] = {}
        for key, value in scope.get("headers", []):
            headers.setdefault(key.decode("latin-1").lower(), []).append(value.decode("latin-1"))
        hosts = headers.get("host", [])
        host = split_host(hosts[0]) if len(hosts) == 1 else None
        if host is None or host[0] not in self.allowed:
            log.info("refused host %r for %s", hosts, scope.get("path"))
            return HOST_REFUSED
        origins = headers.get("origin")
        if origins is not None and (len(origins) != 1 or not _same_origin(origins[0], host)):
            return ORIGIN_REFUSED

        def first(name: str) -> str:
            return (headers.get(name) or [""])[0].strip().lower()

        site, mode, dest = first("sec-fetch-site"), first("sec-fetch-mode"), first("sec-fetch-dest")
        get = scope["type"] == "http" and scope.get("method") in ("GET", "HEAD")
        # A top-level navigation: a link followed or an address typed. Its reply goes to the user's
        # window, not to the page that started it. Without Fetch Metadata, a GET asking for HTML.
        if mode:
            navigation = get and mode == "navigate" and dest in ("document", "")
        else:
            navigation = get and "text/html" in first("accept")
        if site not in ("", "same-origin", "none") and not navigation:
            return ORIGIN_REFUSED
        referer = first("referer")
        if origins is None and referer and not _same_origin(referer, host) and not navigation:
            return ORIGIN_REFUSED
        return None


def _without_cors(send: Send) -> Send:
    """`send`, with every access-control-allow-* header taken out of the response head."""

    async def send_stripped(message: Message) -> None:
        if message["type"] == "http.response.start":
            message = {**message, "headers": [(k, v) for k, v in message.get("headers", [])
                                              if not k.lower().startswith(b"access-control-allow-")]}
        await send(message)

    return send_stripped


async def refuse(scope: Scope, send: Send, reason: str, status: int = 403) -> None:
    """A short plain-text refusal (a websocket is closed before it opens, which the server answers with 403)."""
    if scope["type"] == "websocket":
        await send({"type": "websocket.close", "code": 1008, "reason": reason[:120]})
        return
    body = (reason + "\n").encode()
    await send({"type": "http.response.start", "status": status, "headers": [
        (b"content-type", b"text/plain; charset=utf-8"), (b"content-length", str(len(body)).encode()),
        (b"x-content-type-options", b"nosniff"), (b"cache-control", b"no-store")]})
    await send({"type": "http.response.body", "body": body if scope.get("method") != "HEAD" else b""})


class GuardCheck:
    """Inner ASGI middleware that fails closed: it refuses (500) any request the guard did not pass.

    The guard is wrapped around the app at startup (install_outermost); if a Gradio or Starlette
    change ever skipped that step, every request would otherwise go through unchecked.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket") and scope.get(CHECKED) is not True:
            log.error("the Host and Origin check is not installed; refusing %s", scope.get("path"))
            await refuse(scope, send, GUARD_MISSING, status=500)
            return
        await self.app(scope, receive, send)


def install_outermost(app: Any, allowed: Iterable[str]) -> None:
    """Wrap a Starlette/FastAPI app's whole middleware stack in HostOriginGuard.

    Why not `app_kwargs["middleware"]`: Gradio's `App.create_app` adds its CustomCORSMiddleware
    (and Brotli) with `add_middleware` after FastAPI has taken that list, and `add_middleware`
    puts them in front, so a middleware from the list runs inside Gradio's CORS, which answers
    preflights itself and adds its grant to every reply. Call this from the app's lifespan:
    uvicorn runs the lifespan before it accepts a connection, and Starlette has built the stack
    by then (the lifespan message went through it), so the guard ends up in front of everything.
    """
    stack = app.middleware_stack if app.middleware_stack is not None else app.build_middleware_stack()
    if not isinstance(stack, HostOriginGuard):
        app.middleware_stack = HostOriginGuard(stack, allowed)
