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


def make_docx(path: Path) -> Path:
    """A Word file with a title, headings, a table and a bulleted list (facts found nowhere else)."""
    import docx

    document = docx.Document()
    document.core_properties.title = "Millbrook Library Guide"
    document.add_heading("Millbrook Library Guide", 0)
    document.add_paragraph("Millbrook Library lends books, films and tools to everyone who lives in the parish.")
    document.add_heading("Opening hours", level=1)
    document.add_paragraph("The library keeps the following hours through the year.")
    table = document.add_table(rows=3, cols=2)
    for row, (day, time) in zip(table.rows, [("Day", "Opens"), ("Weekdays", "9:00"), ("Saturday", "10:30")]):
        row.cells[0].text, row.cells[1].text = day, time
    document.add_heading("Borrowing", level=1)
    document.add_paragraph("Members may borrow up to fourteen items at once.", style="List Bullet")
    document.add_paragraph("Tools are lent for a week and must come back cleaned.", style="List Bullet")
    document.save(path)
    return path


def all_chunks(store) -> list:
    """Every (id, chunk) of an index, document by document."""
    return [pair for info in store.sources() for pair in store.chunks_of(info.source)]


# A Markdown page with a fact in a table, a command in a code block, reference links, front
# matter, an HTML comment holding a decoy and Hugo shortcodes (tests/test_markdown.py, test_formats.py).
MARKDOWN_PAGE = """---
title: "Harbour Tools Guide"
weight: 3
---

# Harbour Tools Guide

<!-- YAML
added: v0.1.0 moonbeam-decoy
-->

{{% note %}}
Harbour runs on **every** dock listed in the [registry][reg].
{{% /note %}}

## Installing

To install the harbour client, run:

```bash
harbour-cli install --tide-mode=spring
```

> **Warning:** never install during a *storm surge*.

## Berths

| Berth | Length | Crane |
|-------|--------|-------|
| Quayside North | 310 metres | Gantry 7 |
| Eastern Mole | 95 metres | none |

1. Book the berth with `harbour book`.
2. Wait for the pilot.
   - The pilot boards at the outer buoy.

See the [pilot rules](https://example.org/pilots "Pilot rules") for details.

[reg]: https://example.org/registry
"""


def writable_index(seed_index_dir: Path, root: Path, embedder, prepare=None) -> tuple[Path, Path]:
    """(corpus, index) under `root`: copies of the seed corpus and its index, brought up to date (the seed
    vectors are reused, so only what `prepare(corpus)` adds is embedded)."""
    import shutil

    from assistant.ingest.indexer import build_index

    corpus, index = root / "corpus", root / "index"
    shutil.copytree(CORPUS, corpus)
    shutil.copytree(seed_index_dir, index)
    if prepare is not None:
        prepare(corpus)
    build_index(corpus, index, embedder=embedder)
    return corpus, index


def start_milvus_server(data: Path, timeout: float = 90.0):
    """`milvus-server --data DATA` on a free proxy port, once it answers: (process, port)."""
    import shutil
    import subprocess
    import time

    import pytest

    binary = Path(sys.executable).with_name("milvus-server")
    if not binary.exists() and not shutil.which("milvus-server"):
        pytest.skip("the milvus wheel (cluster extra) is not installed")
    port = free_port()
    log = open(data / "server.log", "wb")  # noqa: SIM115 (the server writes it until stopped)
    process = subprocess.Popen([str(binary if binary.exists() else "milvus-server"), "--data", str(data / "data"),
                                "--proxy-port", str(port)], stdout=log, stderr=subprocess.STDOUT,
                               start_new_session=True)
    from pymilvus import MilvusClient

    deadline = time.monotonic() + timeout
    while True:
        try:
            client = MilvusClient(uri=f"http://127.0.0.1:{port}", timeout=5)
            client.get_server_version()
            client.close()
            return process, port
        except Exception:
            if process.poll() is not None or time.monotonic() > deadline:
                stop_process(process)
                raise RuntimeError(f"milvus-server did not start: {(data / 'server.log').read_text()[-2000:]}") from None
            time.sleep(0.5)


def stop_process(process) -> None:
    """Stop a process started in its own session, and everything it started (SIGINT, then SIGKILL)."""
    import os
    import signal
    import subprocess

    for sig, wait in ((signal.SIGINT, 20), (signal.SIGKILL, 10)):
        try:
            os.killpg(process.pid, sig)
            process.wait(wait)
            break
        except ProcessLookupError:
            break
        except subprocess.TimeoutExpired:
            continue
    try:
        os.killpg(process.pid, signal.SIGKILL)  # whatever it started and left behind
    except ProcessLookupError:
        pass


class RememberingEncoder:
    """The real encoder, asked once per distinct text: a test module that indexes the same files
    into two stores, or asks the same questions in several ways (alone, after other questions,
    in each search mode), pays the model once for each text. A text keeps the vector of the batch
    it was first encoded in (the model's batches differ by about 3e-8 per component)."""

    def __init__(self, encoder) -> None:
        self.encoder = encoder
        self.vectors: dict[str, object] = {}
        self.encoded = 0  # texts the model was asked for

    def __getattr__(self, name: str):  # name, sha256, dimension, variant: the model's own
        return getattr(self.encoder, name)

    def encode(self, texts: list[str], batch_size: int = 32, progress: bool = False):
        import numpy as np

        missing = list(dict.fromkeys(t for t in texts if t not in self.vectors))
        if missing:
            self.vectors.update(zip(missing, self.encoder.encode(missing, batch_size=batch_size, progress=progress)))
            self.encoded += len(missing)
        out = np.zeros((len(texts), self.encoder.dimension), dtype=np.float32)
        for n, text in enumerate(texts):
            out[n] = self.vectors[text]
        return out
