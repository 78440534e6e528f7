"""Limits the web app enforces before any work is done: request body sizes, Gradio's upload
route (per request and in total), and the temporary folder the app owns.

A pure ASGI middleware, so a body over the limit is refused while it arrives (HTTP 413), before
Gradio parses it, and the question inside it is never tokenized or normalised.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import stat
import tempfile
from pathlib import Path

from ...config import (
    MAX_REQUEST_BYTES,
    MAX_UPLOAD_FILES,
    MAX_UPLOAD_REQUEST_BYTES,
    MAX_UPLOAD_TOTAL_BYTES,
    MAX_UPLOAD_TOTAL_FILES,
)
from .uploads import MAX_UPLOAD_BYTES, pid_alive

UPLOAD_PATHS = ("/gradio_api/upload", "/upload")
# With "Add documents" on (uploads.py: 20 MiB a document, the corpus's own limit), the upload route
# takes five such documents per request, and the app's folder holds ten until they are moved into the corpus.
UPLOAD_LIMITS = {"upload_request_bytes": 5 * MAX_UPLOAD_BYTES + 1024 * 1024, "upload_total_bytes": 10 * MAX_UPLOAD_BYTES}


class _TooLarge(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


def _mib(n: int) -> str:
    return f"{n / (1024 * 1024):g} MiB" if n >= 1024 * 1024 else f"{n // 1024} KiB"


class RequestLimits:
    """ASGI middleware: refuse oversized bodies and uploads; upload replies name no server path."""

    def __init__(self, app, upload_dir: str | os.PathLike, upload_request_bytes: int | None = None,
                 upload_total_bytes: int | None = None) -> None:  # None: the module's limits
        self.app = app
        self.upload_dir = Path(upload_dir)
        self.upload_request_bytes, self.upload_total_bytes = upload_request_bytes, upload_total_bytes
        self.in_flight = 0  # upload bytes announced by requests still being received

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        path = scope["path"].rstrip("/")
        root = scope.get("root_path", "").rstrip("/")
        upload = any(path in (p, root + p) for p in UPLOAD_PATHS)
        limit = (self.upload_request_bytes or MAX_UPLOAD_REQUEST_BYTES) if upload else MAX_REQUEST_BYTES
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        try:
            declared = int(headers.get("content-length", "0") or 0)
        except ValueError:
            declared = 0
        started = False

        async def send_watched(message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            if declared > limit:
                raise _TooLarge(413, f"request body too large: {declared:,} bytes; the limit is {_mib(limit)}")
            if upload:
                self._check_space(declared)
                self.in_flight += declared
                try:
                    await self.app(scope, _counting(receive, limit, _boundary(headers)),
                                   _relative_paths(send_watched, self.upload_dir))
                finally:
                    self.in_flight -= declared
            else:  # small bodies: read whole first, so one sent without a length is refused the same way
                fix = (lambda body: _absolute_paths(body, self.upload_dir)) \
                    if headers.get("content-type", "").startswith("application/json") else None
                await self.app(scope, await _buffered(_counting(receive, limit, None), receive, fix), send_watched)
        except _TooLarge as exc:
            if started:
                return
            body = json.dumps({"error": exc.message, "detail": exc.message}).encode()
            await send({"type": "http.response.start", "status": exc.status,
                        "headers": [(b"content-type", b"application/json"), (b"connection", b"close")]})
            await send({"type": "http.response.body", "body": body})

    def _check_space(self, incoming: int) -> None:
        """Refuse an upload that would take the app's folder past its total limits (HTTP 507)."""
        files, size = 0, 0
        for folder, _, names in os.walk(self.upload_dir):
            for name in names:
                with contextlib.suppress(OSError):
                    size += os.lstat(os.path.join(folder, name)).st_size
                    files += 1
        total = self.upload_total_bytes or MAX_UPLOAD_TOTAL_BYTES
        if size + self.in_flight + incoming > total or files + MAX_UPLOAD_FILES > MAX_UPLOAD_TOTAL_FILES:
            raise _TooLarge(507, f"upload space full: the app keeps at most {_mib(total)} "
                                 f"and {MAX_UPLOAD_TOTAL_FILES:,} files of uploads")


def _boundary(headers: dict[str, str]) -> bytes | None:
    content_type = headers.get("content-type", "")
    for part in content_type.split(";"):
        key, _, value = part.strip().partition("=")
        if key.lower() == "boundary" and value:
            return b"--" + value.strip('"').encode("latin-1")
    return None


def _counting(receive, limit: int, boundary: bytes | None):
    """`receive` that stops a body at `limit` bytes, and an upload at MAX_UPLOAD_FILES parts."""
    seen, parts, tail = 0, 0, b""

    async def wrapped():
        nonlocal seen, parts, tail
        message = await receive()
        if message["type"] == "http.request":
            chunk = message.get("body", b"")
            seen += len(chunk)
            if seen > limit:
                raise _TooLarge(413, f"request body too large: over {_mib(limit)}")
            if boundary is not None:
                window = tail + chunk
                parts += window.count(boundary) - tail.count(boundary)
                tail = window[-len(boundary):]
                if parts - 1 > MAX_UPLOAD_FILES:
                    raise _TooLarge(413, f"too many files in one upload: the limit is {MAX_UPLOAD_FILES}")
        return message

    return wrapped


async def _buffered(counted, receive, fix=None):
    """The whole body, read through `counted` (which stops it at the limit), replayed as one message.

    `fix`, if given, rewrites the whole body before it is replayed (see `_absolute_paths`).
    """
    parts = []
    while True:
        message = await counted()
        if message["type"] != "http.request":
            return _replay([message], receive)
        parts.append(message.get("body", b""))
        if not message.get("more_body", False):
            body = b"".join(parts)
            return _replay([{"type": "http.request", "body": fix(body) if fix else body, "more_body": False}], receive)


def _replay(messages: list[dict], receive):
    async def wrapped():
        return messages.pop(0) if messages else await receive()

    return wrapped


def _absolute_paths(body: bytes, upload_dir: Path) -> bytes:
    """Uploaded files named back by the page (relative, as `_relative_paths` gave them) made whole again.

    Gradio resolves a file's path against the working folder, so the path the upload reply
    named inside the app's folder is joined to that folder here. Only a relative path that
    stays inside the folder is changed; anything else is passed on for Gradio to refuse.
    """
    if b'"path"' not in body:
        return body
    try:
        data = json.loads(body)
    except ValueError:
        return body
    root = upload_dir.resolve()

    def fix(value):
        if isinstance(value, dict):
            path = value.get("path")
            if isinstance(path, str) and path and not os.path.isabs(path):
                full = (root / path).resolve()
                if full.is_relative_to(root) and full.is_file():
                    value = {**value, "path": str(full)}
            return {k: fix(v) if k != "path" else v for k, v in value.items()}
        if isinstance(value, list):
            return [fix(v) for v in value]
        return value

    return json.dumps(fix(data)).encode()


def _relative_paths(send, upload_dir: Path):
    """The upload route answers with the files' paths: name them inside the app's folder only."""
    prefix = (str(upload_dir.resolve()) + os.sep).encode()
    held: list[dict] = []  # the response start and body parts, until the body is complete

    async def wrapped(message) -> None:
        if message["type"] not in ("http.response.start", "http.response.body"):
            await send(message)
            return
        held.append(message)
        if message["type"] == "http.response.start" or message.get("more_body", False):
            return
        start, *parts = held
        body = b"".join(m.get("body", b"") for m in parts).replace(prefix, b"")
        headers = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"]
        await send({**start, "headers": [*headers, (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})

    return wrapped


# ---------------------------------------------------------------- the app's own temporary folder


def _base() -> Path:
    """$TMPDIR/assistant-web-<uid>: created 0700 and checked to be this user's own folder."""
    base = Path(tempfile.gettempdir()) / f"assistant-web-{os.getuid()}"
    with contextlib.suppress(FileExistsError):
        base.mkdir(mode=0o700)
    info = os.lstat(base)
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid() or info.st_mode & 0o077:
        raise RuntimeError(f"{base} is not a private folder of this user; remove it and start again")
    return base


def make_temp_folder() -> Path:
    """A new folder for Gradio's uploads, owned by this process; folders left by dead ones are removed."""
    base = _base()
    for entry in base.iterdir():
        pid = entry.name.split("-", 1)[0]
        if pid.isdigit() and not pid_alive(int(pid)):
            shutil.rmtree(entry, ignore_errors=True)
    return Path(tempfile.mkdtemp(prefix=f"{os.getpid()}-", dir=base))


def remove_temp_folder(folder: Path) -> None:
    shutil.rmtree(folder, ignore_errors=True)
