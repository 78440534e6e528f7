"""The REST API: JSON over HTTP for programs and `curl`, beside the web page on the same server.

Why a FastAPI app of its own, mounted at /api/v1: its OpenAPI schema then describes exactly
these routes (Gradio's internal routes stay out of it), and its error handlers turn every
failure into `{"error": "..."}` with a status, never a traceback. It is mounted inside the
Gradio app, so the Host/Origin guard, sign-in (auth.py) and the request limits (web/limits.py)
wrap it as they wrap the page. Every answer goes through the Assistant, as the CLI's does.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import tempfile
import threading
from pathlib import Path
from typing import Any

from fastapi import Depends, FastAPI, File, Form, Request, UploadFile
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.security import HTTPBearer
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException

from ...errors import AssistantError
from ...index.access import SHARED
from ..output import document_json, reply_json, source_json
from ..web.files import original_response
from ..web.uploads import MAX_UPLOAD_BYTES, Reindexer, check_upload, collection_folder, remove_source, save_upload
from .accounts import User, check_collection
from .auth import USER_KEY
from .docs_page import DOCS_HTML, DOCS_JS
from .grants import may_change, source_in, view_of
from .schemas import ERRORS, AskRequest, DocumentOut, RemoveOut, ReplyOut, SourceOut, UploadOut

log = logging.getLogger(__name__)

PREFIX = "/api/v1"
ASKING_AT_ONCE = 2  # one model call per core, as the page's queue
ASK_WAITING = 64  # beyond this: 503, as the page's queue answers "busy"
UPLOADS_OFF = "adding and removing documents is turned off for this app (see ASSISTANT_UPLOAD in SECURITY.md)"


class ApiError(Exception):
    """A refusal with its HTTP status; the message is the one line the client reads."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


class AskGate:
    """At most ASKING_AT_ONCE questions answered at once and ASK_WAITING waiting; then 503."""

    def __init__(self) -> None:
        self._slots = threading.BoundedSemaphore(ASKING_AT_ONCE)
        self._lock = threading.Lock()
        self._waiting = 0

    @contextlib.contextmanager
    def turn(self):
        with self._lock:
            if self._waiting >= ASK_WAITING + ASKING_AT_ONCE:
                raise ApiError(503, "busy: too many questions waiting; try again shortly")
            self._waiting += 1
        try:
            with self._slots:
                yield
        finally:
            with self._lock:
                self._waiting -= 1


def caller(request: Request) -> User | None:
    """The signed-in user (auth.AuthGate put it in the scope); None when sign-in is off."""
    return request.scope.get(USER_KEY)


def visible(request: Request) -> dict[str, Any]:
    """Keyword arguments that limit an Assistant call to the caller's collections (all when sign-in is off)."""
    return view_of(caller(request))


def _json_error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status, headers={"Cache-Control": "no-store"})


def build_api(bot: Any, reindexer: Reindexer | None = None) -> FastAPI:
    """The /api/v1 app over an opened Assistant; with a `reindexer`, documents can be added and removed."""
    api = FastAPI(title="Document assistant API", version="1",
                  description="Ask questions about the indexed documents, read them, add and remove them. "
                              "With users defined, send `Authorization: Bearer TOKEN` (`assistant tokens create NAME`).",
                  openapi_url="/openapi.json", docs_url=None, redoc_url=None,
                  dependencies=[Depends(HTTPBearer(auto_error=False, description="a token from `assistant tokens create`"))])
    gate = AskGate()
    full_schema = api.openapi

    def schema() -> dict:
        """FastAPI's schema without its 422 replies: a bad request is answered 400 here (bad_request)."""
        spec = full_schema()
        for operations in spec.get("paths", {}).values():
            for operation in operations.values():
                operation.get("responses", {}).pop("422", None)
        return spec

    api.openapi = schema  # type: ignore[method-assign]

    @api.exception_handler(ApiError)
    async def api_error(request: Request, exc: ApiError) -> JSONResponse:
        return _json_error(exc.status, exc.message)

    @api.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> JSONResponse:
        return _json_error(exc.status_code, str(exc.detail) if exc.status_code != 404 else "no such route")

    @api.exception_handler(RequestValidationError)
    async def bad_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(part) for part in first.get("loc", ()) if part != "body")
        return _json_error(400, f"{where + ': ' if where else ''}{first.get('msg', 'invalid request')}")

    @api.exception_handler(Exception)
    async def failure(request: Request, exc: Exception) -> JSONResponse:
        log.error("API %s %s failed: %s: %s", request.method, request.url.path, exc.__class__.__name__, exc)
        return _json_error(500, "internal error; the server's log has the details")

    @api.post("/ask", response_model=None, responses={200: {"model": ReplyOut}, **ERRORS},
              summary="Answer a question from the documents (the reply of `assistant ask --json`)")
    def ask(body: AskRequest, request: Request) -> dict:
        with gate.turn():
            try:
                reply = bot.ask(body.question, history=body.history or None, k=body.k, **visible(request))
            except AssistantError as exc:
                raise ApiError(400, str(exc)) from None
        return reply_json(reply)

    @api.get("/sources", response_model=None, responses={200: {"model": list[SourceOut]}, **ERRORS},
             summary="The indexed documents (as `assistant sources --json`)")
    def sources(request: Request) -> list[dict]:
        return [source_json(info) for info in bot.sources(**visible(request))]

    @api.get("/documents/{source:path}/original", response_class=Response, responses={
        200: {"content": {"application/pdf": {}, "application/octet-stream": {}}}, **ERRORS},
        summary="The original file, only while it is what was indexed (PDF inline, other formats as a download)")
    async def original(source: str, request: Request) -> Response:
        try:
            raw = await run_in_threadpool(bot.original, source, **visible(request))
        except AssistantError as exc:
            raise ApiError(404, str(exc)) from None
        return original_response(source, raw)

    @api.get("/documents/{source:path}", response_model=None, responses={200: {"model": DocumentOut}, **ERRORS},
             summary="A document's text, blocks and pages (as `assistant show --json`)")
    def document(source: str, request: Request) -> dict:
        try:
            return document_json(bot.document(source, **visible(request)))
        except AssistantError as exc:
            raise ApiError(404, str(exc)) from None

    @api.post("/documents", response_model=None, responses={200: {"model": UploadOut}, **ERRORS},
              summary="Add files to a collection (a top-level folder of the corpus; `shared`: its root) and index them")
    def upload(request: Request, files: list[UploadFile] = File(...), collection: str = Form(SHARED)) -> dict:
        if reindexer is None:
            raise ApiError(403, UPLOADS_OFF)
        try:
            collection = check_collection(collection)
        except AssistantError as exc:
            raise ApiError(400, str(exc)) from None
        user = caller(request)
        if user is not None and not user.may_use(collection):
            raise ApiError(403, f"you may not add documents to the collection {collection!r}")
        try:
            folder = collection_folder(reindexer.corpus, collection)
        except AssistantError as exc:
            raise ApiError(400, str(exc)) from None
        for item in files:
            if (item.size or 0) > MAX_UPLOAD_BYTES:
                raise ApiError(413, check_upload(item.filename or "", item.size or 0) or "file too large")
        added, refused = [], []
        for item in files:
            try:
                added.append(source_in(collection, save_uploaded(folder, item)))
            except AssistantError as exc:
                refused.append(str(exc))
        if not added:
            raise ApiError(400, "; ".join(refused) or "no file given")
        reindexer.request(f"added {', '.join(added)}")
        return {"collection": collection, "added": added, "refused": refused, "status": reindexer.status.message}

    @api.delete("/documents/{source:path}", response_model=None, responses={200: {"model": RemoveOut}, **ERRORS},
                summary="Remove a document (its file is moved to the corpus's .removed/ folder) and re-index")
    def remove(source: str, request: Request) -> dict:
        if reindexer is None:
            raise ApiError(403, UPLOADS_OFF)
        indexed = {s.source for s in bot.sources(**visible(request))}
        try:
            remove_source(reindexer.corpus, source, indexed if may_change(caller(request), source) else set())
        except AssistantError as exc:
            raise ApiError(404, str(exc)) from None
        reindexer.request(f"removed {source}")
        return {"removed": source, "status": reindexer.status.message}

    @api.get("/docs", include_in_schema=False)
    async def docs() -> Response:
        return Response(DOCS_HTML, media_type="text/html; charset=utf-8")

    @api.get("/docs.js", include_in_schema=False)
    async def docs_js() -> Response:
        return Response(DOCS_JS, media_type="text/javascript; charset=utf-8")

    return api


def save_uploaded(folder: Path, item: UploadFile) -> str:
    """Check and save one uploaded file (through a temporary copy in the app's own upload folder)."""
    name = item.filename or ""
    reason = check_upload(name, item.size or 0)
    if reason is not None:
        raise AssistantError(reason)
    temp_dir = os.environ.get("GRADIO_TEMP_DIR") or None  # the app's folder: its space limit counts this copy
    with tempfile.NamedTemporaryFile(dir=temp_dir, prefix="api-", suffix=".part", delete=False) as temp:
        item.file.seek(0)
        shutil.copyfileobj(item.file, temp, 1 << 20)
    try:
        return save_upload(folder, name, Path(temp.name))
    finally:
        with contextlib.suppress(OSError):
            os.unlink(temp.name)
