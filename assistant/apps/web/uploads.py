"""Adding and removing documents from the web page: safe names, size limits, one background re-index.

Files go into the corpus folder under a name made here from the uploaded name's words (no
folder, no path from the user ever reaches the file system), are written atomically, and are
indexed by one background worker: uploads that arrive during a run are picked up by the next
run, so two uploads at once or an upload during a rebuild lose nothing.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import threading
import time
import unicodedata
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from ...config import MAX_UPLOAD_BYTES
from ...errors import AssistantError
from ...ingest.reader import iter_files
from ...ingest.readers import SUFFIXES

log = logging.getLogger(__name__)

UPLOAD_ENV = "ASSISTANT_UPLOAD"  # "0" turns the Add documents control off
ALLOWED = ", ".join(sorted(SUFFIXES))


def safe_name(name: str) -> str:
    """A file name for the corpus made from an uploaded name: its last part, plain characters only.

    "../../etc/passwd.txt" -> "passwd.txt"; "Rapport d'été 2026.pdf" -> "Rapport-d-ete-2026.pdf".
    """
    base = re.split(r"[\\/]", str(name))[-1]
    stem, dot, suffix = base.rpartition(".")
    if not dot:
        stem, suffix = base, ""
    ascii_stem = unicodedata.normalize("NFKD", stem).encode("ascii", "ignore").decode("ascii")
    clean = re.sub(r"[^A-Za-z0-9]+", "-", ascii_stem).strip("-")[:80] or "document"
    suffix = re.sub(r"[^A-Za-z0-9]", "", suffix).lower()[:10]
    return f"{clean}.{suffix}" if suffix else clean


def check_upload(name: str, size: int) -> str | None:
    """Why an uploaded file is refused, or None when it may be added."""
    suffix = Path(safe_name(name)).suffix.lower()
    if suffix not in SUFFIXES:
        return f"{safe_name(name)}: not a supported type (supported: {ALLOWED})"
    if size > MAX_UPLOAD_BYTES:
        return f"{safe_name(name)}: too large ({size / 1048576:.1f} MiB; the limit is {MAX_UPLOAD_BYTES // 1048576} MiB)"
    if size == 0:
        return f"{safe_name(name)}: empty file"
    return None


def save_upload(corpus: Path, name: str, data_path: Path) -> str:
    """Copy an uploaded temp file into the corpus under a safe, unused name; returns that name.

    Written to a hidden temp name and renamed, so the indexer never reads half a file.
    """
    target_name = safe_name(name)
    stem, suffix = Path(target_name).stem, Path(target_name).suffix
    corpus.mkdir(parents=True, exist_ok=True)
    tmp = corpus / f"{PARTIAL}{os.getpid()}-{uuid.uuid4().hex}.tmp"
    try:
        with open(data_path, "rb") as source, open(tmp, "xb") as target:
            copied = 0
            for chunk in iter(lambda: source.read(1 << 20), b""):
                copied += len(chunk)
                if copied > MAX_UPLOAD_BYTES:
                    raise AssistantError(f"{target_name}: larger than {MAX_UPLOAD_BYTES // 1048576} MiB")
                target.write(chunk)
            target.flush()
            os.fsync(target.fileno())
        for n in range(1, 1000):
            candidate = corpus / (target_name if n == 1 else f"{stem}-{n}{suffix}")
            try:
                os.link(tmp, candidate)  # fails if the name is taken: never overwrites a document
            except FileExistsError:
                continue
            return candidate.name
        raise AssistantError(f"{target_name}: too many files with this name")
    except OSError as exc:
        raise AssistantError(f"{target_name}: could not be saved ({exc.strerror or exc})") from exc
    finally:
        with contextlib.suppress(OSError):
            tmp.unlink()


PARTIAL = ".upload-"  # an upload being written: hidden, so never indexed; named by the writing process's pid


def remove_partial_uploads(corpus: Path) -> list[str]:
    """Delete uploads left half-written by a process that died (kill -9 while saving); returns their names.

    A partial file carries the pid of the process writing it, so one still being written by a
    live process is left alone (older names without a pid are always leftovers).
    """
    removed = []
    with contextlib.suppress(OSError), os.scandir(corpus) as entries:
        for entry in entries:
            if not (entry.name.startswith(PARTIAL) and entry.name.endswith(".tmp")) or not entry.is_file(follow_symlinks=False):
                continue
            pid = entry.name[len(PARTIAL):].split("-", 1)[0]
            if pid.isdigit() and "-" in entry.name[len(PARTIAL):] and pid_alive(int(pid)):
                continue
            with contextlib.suppress(OSError):
                os.unlink(entry.path)
                removed.append(entry.name)
    return removed


def pid_alive(pid: int) -> bool:
    """Whether a process with this pid exists (a leftover's owner is gone when it does not)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def unindexed_files(corpus: Path, indexed: set[str]) -> list[str]:
    """Readable-looking corpus files the index does not name: saved, but not indexed before a crash."""
    try:
        return [source for source, path, _ in iter_files(corpus) if path is not None and source not in indexed]
    except AssistantError:
        return []


REMOVED = ".removed"  # inside the corpus; hidden, so never indexed


def remove_source(corpus: Path, source: str, indexed: set[str]) -> Path:
    """Move an indexed document's file out of the index's sight, into the corpus's `.removed/` folder.

    Only a file the index names, inside the corpus, is moved; nothing is deleted, so a wrong
    click costs a move back. Returns where the file went.
    """
    if source not in indexed:
        raise AssistantError(f"not an indexed document: {source[:200]!r}")
    path = corpus / source
    try:
        inside = path.resolve(strict=True).is_relative_to(corpus.resolve(strict=True))
    except OSError:
        inside = False
    if not inside or path.is_symlink() or not path.is_file():
        raise AssistantError(f"{source} is not a file in the corpus folder")
    target = corpus / REMOVED / f"{time.strftime('%Y%m%dT%H%M%S')}-{uuid.uuid4().hex[:6]}" / source
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(path, target)
    except OSError as exc:
        raise AssistantError(f"{source} could not be removed ({exc.strerror or exc})") from exc
    return target


@dataclass
class IndexStatus:
    """What the background indexer is doing, for the page to show."""

    running: bool = False
    message: str = ""
    skipped: list[str] = field(default_factory=list)


class Reindexer:
    """One background worker that brings the index up to date with the corpus folder.

    `request()` never blocks: it marks the index stale and starts the worker if it is idle.
    The worker runs until no request arrived during its last run, so every added or removed
    file is indexed by a run that started after it was saved.
    """

    def __init__(self, corpus: Path, index_dir: Path, embedder) -> None:
        self.corpus, self.index_dir, self.embedder = Path(corpus), Path(index_dir), embedder
        self.status = IndexStatus()
        self._lock = threading.Lock()
        self._stale = False
        self._thread: threading.Thread | None = None
        self.runs = 0  # index runs finished (or failed): a page that saw fewer shows a stale Sources list

    def request(self, reason: str) -> None:
        with self._lock:
            self._stale = True
            self.status.running = True
            self.status.message = f"Indexing: {reason}…"
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="reindex", daemon=True)
                self._thread.start()

    def wait(self, timeout: float = 300.0) -> bool:
        """Block until the worker is idle (tests and shutdown); False on timeout."""
        thread = self._thread
        if thread is not None:
            thread.join(timeout)
            return not thread.is_alive()
        return True

    def _run(self) -> None:
        from ...ingest.indexer import build_index

        while True:
            with self._lock:
                if not self._stale:
                    self.status.running = False
                    return
                self._stale = False
            try:
                summary = build_index(self.corpus, self.index_dir, embedder=self.embedder)
                with self._lock:
                    self.status.skipped = [f"{s.source}: {s.reason}" for s in summary.skipped]
                    self.status.message = (f"Index updated: {summary.documents} documents, {summary.chunks} passages"
                                           f" ({summary.embedded} new)" + (f"; {len(summary.skipped)} skipped"
                                                                           if summary.skipped else ""))
            except AssistantError as exc:
                with self._lock:
                    self.status.message = f"Indexing failed: {exc}"
            except Exception as exc:  # noqa: BLE001 - the worker must survive to serve the next request
                log.exception("background indexing failed")
                with self._lock:
                    self.status.message = f"Indexing failed: {exc.__class__.__name__}"
            with self._lock:
                self.runs += 1
