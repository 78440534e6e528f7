"""The ONNX encoder: same vectors as the torch model, a checked export, the right encoder per index."""

from __future__ import annotations

import json
import os
import shutil

import numpy as np
import pytest
from helpers import all_chunks

from assistant import Assistant
from assistant.api import _encoder_for
from assistant.embed.embedder import Embedder
from assistant.embed.encoder import CACHE_ENV, EXPORTER_VERSION, OnnxEncoder
from assistant.errors import AssistantError, IndexMismatchError
from assistant.index.manifest import MANIFEST, read_manifest
from assistant.index.manifest import manifest_sha256 as _manifest_sha256
from assistant.text import normalize

QUESTION = "How many partners does Lakeside Surgery have?"


@pytest.mark.slow
def test_onnx_vectors_equal_the_torch_models(bot, embedder):
    """The export keeps the model: cosine 1.0000 on questions, sentences and long (truncated) chunks."""
    chunks = [c for _, c in all_chunks(bot.store)]
    texts = [QUESTION, "Who is the independent chair of NHCP?", "", "word " * 600]
    texts += [c.search_text for c in chunks[:40]]
    texts += [normalize(bot.read_source(c.source)[s:e]) for c in chunks[:10] for s, e in c.sentences]
    onnx = embedder.encode(texts)
    torch = Embedder().encode(texts)
    assert onnx.dtype == np.float32 and onnx.shape == (len(texts), 384)
    assert np.allclose(np.linalg.norm(onnx, axis=1), 1.0, atol=1e-5)
    assert float((onnx * torch).sum(axis=1).min()) > 0.9999


def test_encode_keeps_input_order_across_length_sorted_batches(embedder):
    texts = ["a much longer text about hospitals and care records " * 5, "short", "medium length text here"]
    together = embedder.encode(texts, batch_size=2)
    alone = np.vstack([embedder.encode([t]) for t in texts])
    assert np.allclose(together, alone, atol=1e-5)
    assert embedder.encode([]).shape == (0, 384)


def test_a_tampered_export_is_refused(embedder, tmp_path, monkeypatch):
    monkeypatch.setenv(CACHE_ENV, str(tmp_path))
    shutil.copy(embedder.path, tmp_path / embedder.path.name)
    record = embedder.path.with_suffix(".json")
    shutil.copy(record, tmp_path / record.name)
    with open(tmp_path / embedder.path.name, "r+b") as handle:
        handle.seek(-10, 2)
        handle.write(b"0123456789")
    with pytest.raises(AssistantError, match="does not match its record"):
        OnnxEncoder("fp32")
    assert json.loads(record.read_text())["exporter_version"] == EXPORTER_VERSION


def test_the_manifest_records_the_encoder(seed_index_dir, embedder):
    encoder = read_manifest(seed_index_dir)["encoder"]
    assert encoder == {"variant": "fp32", "sha256": embedder.sha256}


def _rewrite_manifest(index_dir, change) -> None:
    path = index_dir / MANIFEST
    manifest = json.loads(path.read_text(encoding="utf-8"))
    change(manifest)
    manifest["manifest_sha256"] = _manifest_sha256(manifest)
    path.write_text(json.dumps(manifest), encoding="utf-8")


def test_an_index_built_by_the_torch_encoder_keeps_working(seed_index_dir, tmp_path, bot):
    """fp32 ONNX gives the torch vectors, so an index from before the export answers as before."""
    copy = tmp_path / "index"
    shutil.copytree(seed_index_dir, copy)
    _rewrite_manifest(copy, lambda m: m.pop("encoder"))
    old = Assistant.open(copy, warm=False)
    assert old.embedder.variant == "fp32"
    assert old.ask(QUESTION).to_dict() | {"seconds": 0} == bot.ask(QUESTION).to_dict() | {"seconds": 0}


def test_a_question_is_encoded_by_the_variant_that_built_the_index(seed_index_dir, tmp_path, embedder, monkeypatch):
    copy = tmp_path / "index"
    shutil.copytree(seed_index_dir, copy)
    _rewrite_manifest(copy, lambda m: m.update(encoder={"variant": "int8", "sha256": "x"}))
    bot = Assistant.open(copy, warm=False)
    assert _encoder_for(bot.data, copy) == "int8"  # loaded at the first question, not before
    monkeypatch.setenv("ASSISTANT_ENCODER", "torch")
    assert _encoder_for(bot.data, copy) == "int8"
    with pytest.raises(IndexMismatchError, match="rebuild it with: assistant index"):
        Assistant.open(copy, embedder=embedder)
    _rewrite_manifest(copy, lambda m: m.update(encoder={"variant": "word2vec"}))
    with pytest.raises(IndexMismatchError, match="unknown encoder"):
        Assistant.open(copy)


def test_an_unknown_encoder_setting_is_one_clear_error(monkeypatch):
    from assistant.embed.embedder import get_embedder

    monkeypatch.setenv("ASSISTANT_ENCODER", "gpu")
    with pytest.raises(AssistantError, match="not an encoder"):
        get_embedder()


def test_an_unwritable_cache_is_one_clear_error(tmp_path, monkeypatch):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    monkeypatch.setenv(CACHE_ENV, str(blocker / "cache"))
    with pytest.raises(AssistantError, match="set ASSISTANT_CACHE to a writable folder"):
        OnnxEncoder("fp32")


def test_another_installation_of_the_same_model_reuses_the_export(embedder, tmp_path):
    """Two virtualenvs (or a reinstall) share the cache: the second hashes its weights, finds the
    same model and keeps the export, rather than exporting again (which imports torch and made
    the two installations take turns replacing the file)."""
    import json
    import shutil
    import subprocess
    import sys

    from assistant.embed.embedder import model_dir
    from assistant.embed.encoder import cache_dir, ensure_export

    onnx_path, _ = ensure_export(model_dir(), "fp32")
    shutil.copy(onnx_path, tmp_path / onnx_path.name)
    record_path = onnx_path.with_suffix(".json")
    record = json.loads(record_path.read_text())
    record.pop("weights_stats", None)
    record["weights_stat"] = [1, 2]  # weights of another installation
    (tmp_path / record_path.name).write_text(json.dumps(record))
    before = (tmp_path / onnx_path.name).stat().st_mtime_ns
    probe = ("import json, sys; from assistant.embed.encoder import ensure_export; "
             "from assistant.embed.embedder import model_dir; "
             "ensure_export(model_dir(), 'fp32'); print(json.dumps(sorted(m for m in sys.modules if '.' not in m)))")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=300,
                          env={**os.environ, "ASSISTANT_CACHE": str(tmp_path)})
    assert done.returncode == 0, done.stderr
    assert "torch" not in json.loads(done.stdout.strip().splitlines()[-1]) and "preparing" not in done.stderr
    assert (tmp_path / onnx_path.name).stat().st_mtime_ns == before
    assert len(json.loads((tmp_path / record_path.name).read_text())["weights_stats"]) == 2
    assert cache_dir() != tmp_path
