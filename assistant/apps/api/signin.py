"""The sign-in page, sign-in and sign-out: a self-contained form (no script, no outside asset).

The session cookie is HttpOnly (no script reads it) and SameSite=Strict (no other site's page
sends it), holds only a random id, and is ended by the server at sign-out. Sign-in attempts
are limited per client address; a wrong name and a wrong password get the same answer.
"""

from __future__ import annotations

import html

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from .auth import SESSION_COOKIE, SESSION_SECONDS, Auth

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sign in · Document assistant</title>
<style>
body{{font:16px system-ui,sans-serif;display:flex;justify-content:center;margin:12vh 1em;color:#18181b}}
form{{display:flex;flex-direction:column;gap:.6em;width:min(22em,100%)}}
input,button{{font:inherit;padding:.5em;border:1px solid #71717a;border-radius:6px}}
button{{background:#1d4ed8;color:#fff;border:0;cursor:pointer}}
.error{{color:#b91c1c}}
</style></head>
<body><form method="post" action="signin">
<h1>Document assistant</h1>
{message}
<label for="name">Name</label><input id="name" name="name" autocomplete="username" required autofocus>
<label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password" required>
<input type="hidden" name="next" value="{next}">
<button type="submit" id="sign-in">Sign in</button>
</form></body></html>
"""


def safe_next(value: str) -> str:
    """Where to go after signing in: a path on this app only (never `//other.site` or a URL)."""
    value = value or ""
    if not value.startswith("/") or value.startswith(("//", "/\\")) or any(c in value for c in "\r\n\\"):
        return "/"
    return value


def _page(message: str, next_path: str, status: int, headers: dict | None = None) -> HTMLResponse:
    shown = f'<p class="error" role="alert">{html.escape(message)}</p>' if message else ""
    return HTMLResponse(PAGE.format(message=shown, next=html.escape(next_path, quote=True)), status_code=status,
                        headers={"Cache-Control": "no-store", **(headers or {})})


def sign_in_routes(auth: Auth) -> list[Route]:
    """GET/POST /signin and POST /signout for the app (added beside Gradio's routes)."""

    async def sign_in(request: Request) -> Response:
        root = request.scope.get("root_path", "").rstrip("/")
        if request.method == "GET":
            return _page("", safe_next(request.query_params.get("next", "")), 200)
        client = request.client.host if request.client else "?"
        wait = auth.limiter.wait(client)
        form = await request.form()
        next_path = safe_next(str(form.get("next", "")))
        if wait > 0:
            return _page(f"Too many sign-in attempts; try again in {int(wait) + 1} s.", next_path, 429,
                         {"Retry-After": str(int(wait) + 1)})
        user = None
        if auth.store is not None:
            # scrypt takes ~50-250 ms of CPU: in a worker thread, never on the event loop every request shares
            user = await run_in_threadpool(auth.store.check_password, str(form.get("name", ""))[:64],
                                           str(form.get("password", ""))[:1024])
        if user is None:
            return _page("Wrong name or password.", next_path, 401)
        response = RedirectResponse(root + next_path, status_code=303)
        response.set_cookie(SESSION_COOKIE, auth.sessions.start(user.name), max_age=SESSION_SECONDS, path="/",
                            httponly=True, samesite="strict", secure=request.url.scheme == "https")
        return response

    async def sign_out(request: Request) -> Response:
        session_id = request.cookies.get(SESSION_COOKIE)
        if session_id:
            auth.sessions.end(session_id)
        root = request.scope.get("root_path", "").rstrip("/")
        response = RedirectResponse(f"{root}/signin", status_code=303)
        response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="strict")
        return response

    return [Route("/signin", sign_in, methods=["GET", "POST"]), Route("/signout", sign_out, methods=["POST"])]


SIGN_OUT_FORM = ('<form method="post" action="signout" id="sign-out-form">'
                 '<button type="submit" id="sign-out">Sign out</button></form>')
