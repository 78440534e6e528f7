"""Paths and checks that several test modules share."""

from __future__ import annotations

import socket
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus"
ASSISTANT = Path(sys.executable).with_name("assistant")  # the installed console script
# Debian's Chromium, driven by Playwright (its own browser download fails offline).
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def free_port() -> int:
    """A 127.0.0.1 port nothing listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def error_line(err: str) -> str:
    """The single line a failing command printed on stderr: never a traceback."""
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    return lines[0]


def html_to_pdf(html: str, pdf_path: Path) -> Path:
    """Print an HTML page to PDF with the headless Chromium the browser tests use."""
    import subprocess

    source = pdf_path.with_suffix(".print.html")
    source.write_text(html, encoding="utf-8")
    subprocess.run([CHROMIUM, "--headless", *CHROMIUM_ARGS, "--no-pdf-header-footer",
                    f"--print-to-pdf={pdf_path}", source.as_uri()],
                   check=True, capture_output=True, timeout=120)
    source.unlink()
    return pdf_path
