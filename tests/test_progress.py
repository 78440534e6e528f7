"""`assistant index` with stderr not a terminal prints a progress line every few seconds, not nothing."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
from helpers import CORPUS

from assistant.ingest import progress
from assistant.ingest.indexer import embed_all


class _SlowEncoder:
    def encode(self, texts):
        return np.zeros((len(texts), 384), dtype=np.float32)


def test_a_bar_becomes_plain_lines_when_stderr_is_not_a_terminal(monkeypatch):
    log = io.StringIO()
    monkeypatch.setattr(sys, "stderr", log)
    monkeypatch.setattr(progress, "LINE_SECONDS", 0.0)
    embed_all(_SlowEncoder(), [f"chunk {n}" for n in range(40)], [], progress=True, slice_size=10)
    lines = log.getvalue().splitlines()
    assert "\r" not in log.getvalue() and len(lines) >= 4, lines
    assert lines[0].startswith("embedding: 0/40 chunks") and any(line.startswith("embedding: 40/40") for line in lines)
    assert all("chunks/s" in line or "?" in line for line in lines)


def test_no_lines_when_progress_is_off(monkeypatch):
    log = io.StringIO()
    monkeypatch.setattr(sys, "stderr", log)
    embed_all(_SlowEncoder(), ["a", "b"], [], progress=False)
    assert log.getvalue() == ""


def test_cli_index_into_a_pipe_prints_progress_lines(seed_index_dir, tmp_path):
    corpus, index = tmp_path / "corpus", tmp_path / "index"
    shutil.copytree(CORPUS, corpus)
    shutil.copytree(seed_index_dir, index)
    (corpus / "ferry.txt").write_text("The Hollin ferry leaves the north quay at noon.\n")
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
    quick = subprocess.run([sys.executable, "-m", "assistant.cli", "index", "--corpus", str(corpus), "--index", str(index)],
                           capture_output=True, text=True, timeout=300, env=env)
    assert quick.returncode == 0 and quick.stderr == ""  # a run shorter than the interval prints no progress
    (corpus / "tides.txt").write_text("High tide at the north quay is at six.\n")
    env["ASSISTANT_PROGRESS_SECONDS"] = "0"  # every redraw a line, from the start
    run = subprocess.run([sys.executable, "-m", "assistant.cli", "index", "--corpus", str(corpus), "--index", str(index)],
                         capture_output=True, text=True, timeout=300, env=env)
    assert run.returncode == 0, run.stderr
    lines = run.stderr.splitlines()
    assert any(line.startswith("reading:") and "0/1 " in line for line in lines), lines  # files read of those to read
    assert any(line.startswith("embedding: ") and "chunks" in line for line in lines), lines
    assert "\r" not in run.stderr
    quiet = subprocess.run([sys.executable, "-m", "assistant.cli", "index", "--corpus", str(corpus), "--index", str(index),
                            "--quiet"], capture_output=True, text=True, timeout=300, env=env)
    assert quiet.returncode == 0 and quiet.stderr == ""
