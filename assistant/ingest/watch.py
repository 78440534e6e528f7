"""Keeping the index in step with its corpus folder: watch the folder, re-index after a quiet spell.

Files dropped into, edited in or deleted from the corpus are noticed through the kernel's
file events (inotify, through `watchfiles`), or by polling where those are unavailable (a
network share, an exhausted inotify limit, or `watchfiles` not installed). Changes are
gathered until the folder has been quiet for a moment (`QUIET_SECONDS`), so copying a hundred
files costs one run, not a hundred, and a half-copied file is not read while it still grows.
The callback is the `Reindexer`'s `request` (one worker, requests coalesce) or, for
`assistant index --watch`, an ordinary index run.

Hidden names are ignored: the app's own `.removed/` folder and `.upload-*.tmp` files, editors'
swap files, and the index folder should it live inside the corpus. The indexer never reads
those, so re-indexing for them would be wasted work, and for the index folder an endless loop.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from ..config import env

log = logging.getLogger(__name__)

WATCH_ENV = "ASSISTANT_WATCH"  # "0" turns the watcher off; "poll" polls instead of using file events
QUIET_SECONDS = 2.0  # changes are gathered until the folder has been quiet this long
MAX_WAIT_SECONDS = 30.0  # ... but a folder that never goes quiet is still re-indexed this often
POLL_SECONDS = 1.0  # between two looks at the folder when polling


def watch_setting() -> str:
    """"off", "poll" or "events", from $ASSISTANT_WATCH (anything but 0/off/no/false/poll means events)."""
    value = env(WATCH_ENV).strip().lower()
    if value in ("0", "off", "no", "false"):
        return "off"
    return "poll" if value == "poll" else "events"


class CorpusWatcher:
    """Calls `on_change(sources)` with the corpus-relative names that changed, after each quiet spell.

    `start()` runs it on a daemon thread (the web app); `run()` blocks until `stop()` (the CLI).
    An exception in `on_change` is logged and watching goes on: one failed run must not stop
    the folder from being kept in step.
    """

    def __init__(self, corpus: Path, on_change: Callable[[list[str]], None], *, ignore: Path | None = None,
                 quiet: float = QUIET_SECONDS, max_wait: float = MAX_WAIT_SECONDS, polling: bool = False) -> None:
        self.corpus = Path(corpus).resolve()
        self.on_change = on_change
        self.ignore = Path(ignore).resolve() if ignore is not None else None
        self.quiet, self.max_wait, self.polling = quiet, max_wait, polling
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def relevant(self, path: str | os.PathLike) -> str | None:
        """The corpus-relative name of a changed path, or None when it is hidden, the index's, or outside."""
        resolved = Path(os.path.abspath(path))
        if self.ignore is not None and (resolved == self.ignore or self.ignore in resolved.parents):
            return None
        try:
            parts = resolved.relative_to(self.corpus).parts
        except ValueError:
            return None
        if not parts or any(part.startswith(".") for part in parts):
            return None
        return "/".join(parts)

    def start(self) -> CorpusWatcher:
        self._thread = threading.Thread(target=self.run, name="corpus-watch", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout)

    def run(self) -> None:
        """Watch until `stop()`: each batch of changes, once quiet, goes to `on_change`."""
        for batch in self._batches():
            if self._stop.is_set():
                return
            try:
                self.on_change(sorted(batch))
            except Exception:  # noqa: BLE001 - keep watching; the next change gets another run
                log.exception("re-indexing after a change in the corpus failed")

    def _batches(self) -> Iterator[set[str]]:
        if not self.polling:
            try:
                import watchfiles  # noqa: F401
            except ImportError:
                log.info("watchfiles is not installed: polling the corpus folder instead")
            else:
                yield from self._events()
                return
        yield from self._polled()

    def _events(self) -> Iterator[set[str]]:
        """Batches from kernel file events; polling when the events cannot be had (watchfiles' own fallback)."""
        import watchfiles

        force = self.polling
        while not self._stop.is_set():
            try:
                for changes in watchfiles.watch(
                    self.corpus, watch_filter=lambda _change, path: self.relevant(path) is not None,
                    step=int(self.quiet * 1000), debounce=int(self.max_wait * 1000), stop_event=self._stop,
                    rust_timeout=1000, yield_on_timeout=False, raise_interrupt=False, force_polling=force,
                    poll_delay_ms=int(POLL_SECONDS * 1000), ignore_permission_denied=True,
                ):
                    batch = {name for _change, path in changes if (name := self.relevant(path))}
                    if batch:
                        yield batch
                return
            except OSError as exc:  # e.g. the inotify limit: poll instead
                if force:
                    raise
                log.warning("cannot watch %s for file events (%s): polling it instead", self.corpus, exc)
                force = True

    def _polled(self) -> Iterator[set[str]]:
        """Batches from comparing (size, mtime) of every file between looks, without `watchfiles`."""
        before = self._snapshot()
        while not self._stop.wait(POLL_SECONDS):
            now = self._snapshot()
            if now == before:
                continue
            changed, first, last = _differences(before, now), time.monotonic(), time.monotonic()
            while time.monotonic() - first < self.max_wait and time.monotonic() - last < self.quiet:
                if self._stop.wait(min(POLL_SECONDS, self.quiet)):
                    return
                later = self._snapshot()
                if later != now:
                    changed |= _differences(now, later)
                    now, last = later, time.monotonic()
            before = now
            yield changed

    def _snapshot(self) -> dict[str, tuple[int, int]]:
        seen: dict[str, tuple[int, int]] = {}
        for folder, dirs, files in os.walk(self.corpus):
            dirs[:] = [d for d in dirs if self.relevant(os.path.join(folder, d)) is not None]
            for name in files:
                path = os.path.join(folder, name)
                source = self.relevant(path)
                if source is None:
                    continue
                try:
                    stat = os.stat(path, follow_symlinks=False)
                except OSError:
                    continue
                seen[source] = (stat.st_size, stat.st_mtime_ns)
        return seen


def _differences(before: dict[str, tuple[int, int]], after: dict[str, tuple[int, int]]) -> set[str]:
    return {name for name in before.keys() | after.keys() if before.get(name) != after.get(name)}


def describe(sources: list[str], shown: int = 3) -> str:
    """"a.txt, b.pdf and 4 more changed in the corpus folder": why a run started, on one line."""
    head = ", ".join(sources[:shown])
    more = f" and {len(sources) - shown} more" if len(sources) > shown else ""
    return f"{head}{more} changed in the corpus folder"
