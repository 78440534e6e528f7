"""Paths and checks that several test modules share."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus"
ASSISTANT = Path(sys.executable).with_name("assistant")  # the installed console script


def error_line(err: str) -> str:
    """The single line a failing command printed on stderr: never a traceback."""
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    return lines[0]
