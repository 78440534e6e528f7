"""The index folder's housekeeping: the writer lock, stray generations, crash-test hooks.

Kept apart from store.py, which knows the index format; this module knows only folders.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import shutil
import signal
from pathlib import Path

from ..config import env
from ..errors import AssistantError, IndexLockedError

MANIFEST = "manifest.json"
LOCK = ".lock"
FAULT_ENV = "ASSISTANT_FAULT"  # test hook, see fault_point()


def fault_point(name: str) -> None:
    """Fault injection for the crash and full-disk tests.

    ASSISTANT_FAULT=kill:NAME sends SIGKILL to this process at point NAME; enospc:NAME fails
    there as a full disk would. Unset (always, outside tests) it does nothing.
    """
    action, _, point = env(FAULT_ENV).partition(":")
    if point != name:
        return
    if action == "kill":
        os.kill(os.getpid(), signal.SIGKILL)
    elif action == "enospc":
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextlib.contextmanager
def write_lock(index_dir: Path):
    """Exclusive writer lock: a second `assistant index` on the same folder fails clearly.

    flock is released by the kernel when the holder dies, so a killed run never leaves a
    stale lock behind.
    """
    try:
        index_dir.mkdir(parents=True, exist_ok=True)
        handle = open(index_dir / LOCK, "a+")
    except OSError as exc:
        raise AssistantError(f"cannot write to the index folder {index_dir} ({exc.strerror or exc})") from exc
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            raise IndexLockedError(
                f"index at {index_dir} is being written by {holder}; try again when it finishes") from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()}")
        handle.flush()
        yield
    finally:
        handle.close()


def clean_generations(index_dir: Path, keep_previous: str | None) -> None:
    """Remove leftovers of crashed runs and generations older than the previous one.

    Called under the write lock. The previous generation is kept so that a reader which read
    the old manifest just before the switch can still open its files.
    """
    current = None
    with contextlib.suppress(Exception):
        current = json.loads((index_dir / MANIFEST).read_text(encoding="utf-8")).get("generation")
    for entry in index_dir.iterdir():
        name = entry.name
        if name.endswith(".tmp") or (name.startswith("gen-") and name not in (current, keep_previous)):
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry, ignore_errors=True)
            else:
                with contextlib.suppress(OSError):
                    entry.unlink()
