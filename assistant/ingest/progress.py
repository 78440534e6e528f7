"""Progress for a long index run, on a terminal and in a log alike.

On a terminal tqdm redraws one bar in place. Redirected to a file or a service's journal the same
redraws are carriage returns nobody sees until the end (or nothing, when progress was simply off),
so a ten-minute run looked dead: there each bar prints a plain line every `LINE_SECONDS` instead
(files read of the total, chunks embedded of the total, and the rate).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterable
from typing import Any, TextIO

from tqdm import tqdm

from ..config import env

# Between two progress lines when stderr is not a terminal, and before the first (ASSISTANT_PROGRESS_SECONDS sets it).
LINE_SECONDS = float(env("ASSISTANT_PROGRESS_SECONDS"))


class _Lines:
    """A file for tqdm that keeps each redraw as a whole line, and drops the blank one that clears a bar."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream

    def write(self, text: str) -> None:
        line = text.replace("\r", "").strip()
        if line:
            self.stream.write(line + "\n")

    def flush(self) -> None:
        self.stream.flush()


def progress_bar(iterable: Iterable | None = None, *, enabled: bool, **kwargs: Any) -> tqdm:
    """A tqdm bar on stderr: redrawn in place on a terminal, a line every few seconds elsewhere."""
    stream = sys.stderr
    if not enabled or _is_terminal(stream):
        return tqdm(iterable, disable=not enabled, **kwargs)
    # delay: a run shorter than one interval prints nothing, so a quick run's stderr holds only what matters.
    return tqdm(iterable, file=_Lines(stream), mininterval=LINE_SECONDS, maxinterval=LINE_SECONDS, miniters=1,
                delay=LINE_SECONDS, ncols=80, ascii=True, **kwargs)


def progress_note(message: str, started: float, enabled: bool) -> None:
    """A one-off progress line on stderr: always on a terminal, elsewhere only once the run has taken an interval."""
    if enabled and (_is_terminal(sys.stderr) or time.perf_counter() - started >= LINE_SECONDS):
        print(message, file=sys.stderr)


def _is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # a closed or stand-in stream
        return False
