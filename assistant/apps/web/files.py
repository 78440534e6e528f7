"""The original file behind a citation, served by the app: only indexed files, only as they were indexed.

A PDF opens in the browser's own viewer at the cited page (`/original?source=a.pdf#page=3`);
any other format is offered as a download, never rendered on our origin (an HTML page could
run its scripts there). The bytes come from `Assistant.original`, which opens only a source
the index names and refuses a file whose SHA-256 no longer matches.
"""

from __future__ import annotations

from pathlib import PurePosixPath
from typing import Any
from urllib.parse import quote, urlencode

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from ...errors import AssistantError
from ..api.auth import USER_KEY
from ..api.grants import view_of

PATH = "/original"


def original_link(source: str, page: int | None = None) -> str:
    """The app-relative URL of a source's original file, opened at a page for PDFs."""
    return f"{PATH.lstrip('/')}?{urlencode({'source': source})}" + (f"#page={int(page)}" if page else "")


def original_response(source: str, raw: bytes) -> Response:
    """A PDF inline (the browser's viewer), anything else as a download; never sniffed or cached."""
    name = quote(PurePosixPath(source).name)
    headers = {"X-Content-Type-Options": "nosniff", "Cache-Control": "no-store"}
    if source.lower().endswith(".pdf"):
        headers["Content-Disposition"] = f"inline; filename*=UTF-8''{name}"
        return Response(raw, media_type="application/pdf", headers=headers)
    headers["Content-Disposition"] = f"attachment; filename*=UTF-8''{name}"
    return Response(raw, media_type="application/octet-stream", headers=headers)


def original_route(bot: Any) -> Route:
    """A Starlette route serving `bot`'s indexed originals (added to the Gradio app at launch)."""

    async def original(request: Request) -> Response:
        source = request.query_params.get("source", "")
        try:
            # Signed in: only the user's collections (the gate put the user in the scope).
            raw = await run_in_threadpool(bot.original, source, **view_of(request.scope.get(USER_KEY)))
        except AssistantError as exc:
            return PlainTextResponse(str(exc), status_code=404)
        return original_response(source, raw)

    return Route(PATH, original, methods=["GET"])
