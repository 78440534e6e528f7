"""Start-up and indexing behaviour that speed depends on; the timings themselves are `assistant bench`'s."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest
from helpers import ASSISTANT, CORPUS, ROOT

from assistant.ingest.indexer import build_index

HEAVY = ("torch", "transformers", "sentence_transformers")
REPORT = """
import io, json, sys, contextlib
from assistant.apps.cli import main
with contextlib.redirect_stdout(io.StringIO()):
    code = main(sys.argv[1:])
print(json.dumps({"code": code, "modules": sorted(m for m in sys.modules if "." not in m)}))
"""


def _modules(*args: str) -> set[str]:
    done = subprocess.run([sys.executable, "-c", REPORT, *args], capture_output=True, text=True, timeout=300,
                          env=dict(os.environ, HF_HUB_OFFLINE="1"))
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["code"] == 0, done.stderr
    return set(report["modules"])


def test_ask_does_not_import_torch(seed_index_dir):
    loaded = _modules("ask", "How many partners does Lakeside Surgery have?", "--index", str(seed_index_dir))
    assert "onnxruntime" in loaded
    assert not loaded & set(HEAVY)


@pytest.mark.parametrize("args", [["sources"], ["sources", "--json"], ["show", "healthcare-in-cambridgeshire.txt"]])
def test_commands_that_need_no_model_load_none(seed_index_dir, args):
    loaded = _modules(*args, "--index", str(seed_index_dir))
    assert not loaded & {"onnxruntime", "tokenizers", *HEAVY}


def test_help_loads_nothing_heavy():
    done = subprocess.run([sys.executable, "-c", "import sys, json; from assistant.apps.cli import build_parser; "
                           "build_parser(); print(json.dumps(sorted(m for m in sys.modules if '.' not in m)))"],
                          capture_output=True, text=True, timeout=60)
    assert not {"numpy", "faiss", "onnxruntime", *HEAVY} & set(json.loads(done.stdout))


def test_index_progress_says_files_chunks_rate_and_time_left(tmp_path, embedder, capsys, monkeypatch):
    from assistant.ingest import progress

    monkeypatch.setattr(progress, "LINE_SECONDS", 0.0)  # captured stderr is not a terminal: a line per redraw at once
    build_index(CORPUS, tmp_path / "index", embedder=embedder, progress=True)
    err = capsys.readouterr().err
    assert "read 5 files" in err and "chunks to embed" in err
    assert "117/117 chunks" in err and "chunks/s" in err and "<" in err  # done of total, rate, elapsed<left


def test_length_sorted_embedding_matches_one_text_at_a_time(embedder):
    from assistant.ingest.indexer import embed_all

    chunks = ["a long passage about the shared care record " * 6, "short one"]
    sentences = ["a sentence", "another rather longer sentence about hospitals", "x"]
    together = embed_all(embedder, chunks, sentences, slice_size=2)
    alone = embedder.encode(chunks + sentences, batch_size=1)
    assert together.shape == (5, 384)
    assert abs(together - alone).max() < 1e-5


@pytest.mark.slow
def test_bench_smoke(tmp_path):
    """`assistant bench` runs end to end on a tiny corpus and writes its table (no timing checked)."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for name in ("healthcare-in-cambridgeshire.txt", "northamptonshire-new-integrated-care-system.txt"):
        shutil.copy(CORPUS / name, corpus / name)
    out = tmp_path / "BENCH.md"
    done = subprocess.run([str(ASSISTANT), "bench", "--corpus", str(corpus), "--n", "3", "--runs", "1",
                           "--questions", str(ROOT / "eval" / "questions.jsonl"), "--output", str(out)],
                          capture_output=True, text=True, timeout=600, env=dict(os.environ, HF_HUB_OFFLINE="1"))
    assert done.returncode == 0, done.stderr
    table = out.read_text(encoding="utf-8")
    for row in ("warm ask", "bare encoder", "cold `assistant ask`", "peak", "`python app.py` to first answer",
                "chunks/s", "per chunk", "Machine: ", "cores"):
        assert row in table, row
    assert table.strip() in done.stdout
