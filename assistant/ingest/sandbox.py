"""Parsing files in a worker process with a memory and a time limit, so no file can take the app down.

A 27 KB PDF can inflate to 16 GB and a 3 MB Word file to 1 GB: parsed in the indexing or web
process, one such file took the process to 9 GB and an abort, and `make run` then died at every
start. Every file is therefore parsed by a child process (`python -m assistant.ingest.sandbox`) whose
address space is capped (RLIMIT_AS) and whose every request has a deadline. A file that needs
more memory or time costs at most the limit and is skipped with the reason; the worker is
replaced and the next file is read by a fresh one. The same worker renders PDF pages for the
web viewer, so the web app's process never parses a document itself.

Requests and replies are one JSON line each over the worker's stdin and stdout (plain data, no
pickle); the worker's own fd 1 is pointed at stderr so a library that prints cannot corrupt them.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import resource
import select
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from ..config import READ_MEMORY_MB as MEMORY_MB
from ..config import env, env_number
from ..errors import AssistantError
from ..types import Document, Skipped

MEMORY_ENV = "ASSISTANT_READ_MEMORY_MB"
SECONDS_ENV = "ASSISTANT_READ_SECONDS"
_WORKER_ENV = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MALLOC_ARENA_MAX": "2"}


class WorkerFailed(Exception):
    """The worker could not answer: it ran out of memory or time, or died; `reason` says which."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def limits() -> tuple[int, float]:
    """(memory in MB, seconds per file) from the environment, else the defaults."""
    return int(env_number(MEMORY_ENV)), env_number(SECONDS_ENV)


class Sandbox:
    """One worker process, started at the first request and replaced after any failure.

    Thread-safe: requests are answered one at a time. Use as a context manager, or call
    `close()`, so the worker does not outlive its user.
    """

    def __init__(self, memory_mb: int | None = None, seconds: float | None = None) -> None:
        default_memory, default_seconds = limits()
        self.memory_mb = memory_mb or default_memory
        self.seconds = seconds or default_seconds
        self._process: subprocess.Popen | None = None
        self._lock = threading.Lock()

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- what the worker does

    def read(self, path: Path, source: str, allow_hard_links: bool = False) -> Document | Skipped:
        """The file read and parsed by the worker, or a `Skipped` with why (its own or the limit's)."""
        try:
            reply = self.call({"op": "read", "path": str(path), "source": source, "allow_hard_links": allow_hard_links})
        except WorkerFailed as failed:
            from .reader import file_sha256

            return Skipped(source, failed.reason, file_sha256(path, allow_hard_links))
        if "skipped" in reply:
            return Skipped(source, str(reply["skipped"]), reply.get("sha256"))
        return Document.from_row(reply["document"])

    def page_view(self, raw: bytes, start: int, end: int):
        """`pdfview.page_view` in the worker: the page of a span rendered with its boxes, or None."""
        from .pdfview import PageView

        try:
            reply = self.call({"op": "page_view", "raw": base64.b64encode(raw).decode("ascii"),
                               "start": int(start), "end": int(end)})
        except WorkerFailed as failed:
            raise AssistantError(f"the page could not be shown: {failed.reason}") from None
        view = reply.get("view")
        if view is None:
            return None
        return PageView(view["page"], base64.b64decode(view["png"]), tuple(tuple(b) for b in view["boxes"]))

    # -- the worker process

    def call(self, request: dict) -> dict:
        """Send one request and wait for its reply; raises WorkerFailed (the worker is then replaced)."""
        with self._lock:
            process = self._ensure()
            line = json.dumps(request).encode("utf-8") + b"\n"
            try:
                try:
                    process.stdin.write(line)
                    process.stdin.flush()
                except BrokenPipeError:
                    raise self._died() from None
                reply = self._reply(process)
            except WorkerFailed:
                self._stop()
                raise
            if "error" in reply:
                self._stop()  # after a MemoryError the worker's heap is not to be trusted
                raise WorkerFailed(self._error_reason(str(reply["error"])))
            return reply

    def _ensure(self) -> subprocess.Popen:
        if self._process is None or self._process.poll() is not None:
            package_root = str(Path(__file__).resolve().parents[2])
            worker_env = {**os.environ, **_WORKER_ENV,
                          "PYTHONPATH": os.pathsep.join(filter(None, [package_root, os.environ.get("PYTHONPATH")])),
                          "ASSISTANT_SANDBOX_MEMORY": str(self.memory_mb * 1024 * 1024)}
            stderr = None if env("ASSISTANT_DEBUG") else subprocess.DEVNULL
            self._process = subprocess.Popen([sys.executable, "-m", "assistant.ingest.sandbox"], stdin=subprocess.PIPE,
                                             stdout=subprocess.PIPE, stderr=stderr, env=worker_env, close_fds=True)
        return self._process

    def _reply(self, process: subprocess.Popen) -> dict:
        """One JSON line from the worker within the time limit."""
        fd = process.stdout.fileno()
        deadline = time.monotonic() + self.seconds
        parts: list[bytes] = []
        while True:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([fd], [], [], left)[0]:
                raise WorkerFailed(f"took longer than {self.seconds:g} s to read (the limit per file; {SECONDS_ENV})")
            data = os.read(fd, 1 << 20)
            if not data:
                raise self._died()
            parts.append(data)
            if data.endswith(b"\n"):
                return json.loads(b"".join(parts))

    def _died(self) -> WorkerFailed:
        """Why the worker closed its end: the signal that ended it, or its exit code (it is stopped by the caller)."""
        try:
            code = self._process.wait(5) if self._process is not None else None
        except subprocess.TimeoutExpired:
            code = None
        if code is not None and code < 0:
            name = signal.Signals(-code).name
            return WorkerFailed(f"the reader crashed ({name}); it may need more than the "
                                f"{self.memory_mb} MB memory limit ({MEMORY_ENV})")
        return WorkerFailed(f"the reader stopped (exit code {code})")

    def _error_reason(self, error: str) -> str:
        if error == "MemoryError":
            return f"needs more than {self.memory_mb} MB of memory to read (the limit; {MEMORY_ENV}): expands past it"
        return f"the reader failed ({error})"

    def _stop(self, graceful: bool = False) -> None:
        """End the worker: `graceful` lets it finish at end of input first; otherwise (a failure) it is killed."""
        process, self._process = self._process, None
        if process is None:
            return
        if graceful:
            with contextlib.suppress(OSError, subprocess.TimeoutExpired):
                process.stdin.close()  # the worker ends at end of input
                process.wait(2)
        if process.poll() is None:
            process.kill()
        process.wait()
        for stream in (process.stdin, process.stdout):
            with contextlib.suppress(OSError):
                stream.close()

    def close(self) -> None:
        with self._lock:
            self._stop(graceful=True)


# ---------------------------------------------------------------- inside the worker


def _handle(request: dict) -> dict:
    op = request.get("op")
    if op == "read":
        from .reader import read_document

        result = read_document(Path(request["path"]), request["source"], bool(request.get("allow_hard_links")))
        if isinstance(result, Skipped):
            return {"skipped": result.reason, "sha256": result.sha256}
        return {"document": result.to_row()}
    if op == "page_view":
        from .pdfview import page_view

        view = page_view(base64.b64decode(request["raw"]), int(request["start"]), int(request["end"]))
        if view is None:
            return {"view": None}
        return {"view": {"page": view.page, "png": base64.b64encode(view.png).decode("ascii"),
                         "boxes": [list(b) for b in view.boxes]}}
    return {"error": f"unknown request {op!r}"}


def _serve() -> None:
    """The worker's loop: cap the address space, then answer requests until stdin closes."""
    memory = int(env("ASSISTANT_SANDBOX_MEMORY") or MEMORY_MB * 1024 * 1024)
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))  # an abort must not write a core file of the bomb
    replies = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # anything a library prints goes to stderr, never into the replies
    sys.stdout = sys.stderr
    for line in sys.stdin.buffer:
        try:
            reply = _handle(json.loads(line))
        except MemoryError:
            reply = {"error": "MemoryError"}
        except Exception as exc:  # noqa: BLE001 - the parent decides; the worker reports and goes on
            reply = {"error": exc.__class__.__name__}
        try:
            data = json.dumps(reply).encode("utf-8") + b"\n"
        except MemoryError:
            data = b'{"error": "MemoryError"}\n'
        replies.write(data)
        replies.flush()


if __name__ == "__main__":
    _serve()

