"""Indexing on Ray (`assistant index --ray`): the same index as the local path, built on a local Ray.

One local Ray is started for the session (about 10 s); every test here shares it. Skipped when
the `cluster` extra is not installed (`make test` installs it).
"""

from __future__ import annotations

import json
import shutil
import sys

import numpy as np
import pytest
from conftest import CORPUS, EVAL
from helpers import all_chunks, error_line

from assistant import Assistant
from assistant.apps.cli import main as cli_main
from assistant.index.local import LocalStore
from assistant.index.manifest import read_manifest
from assistant.ingest.indexer import build_index


@pytest.fixture(scope="session")
def local_ray():
    ray = pytest.importorskip("ray")
    pytest.importorskip("ray.data")
    started = not ray.is_initialized()
    if started:
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield ray
    if started:
        ray.shutdown()


class CountingEngine:
    """The Ray engine, counting the texts it is asked to embed."""

    def __init__(self, actors: int = 2) -> None:
        from assistant.ingest.ray_index import RayEngine

        self.engine = RayEngine(actors)
        self.texts = 0

    def read_and_chunk(self, *args):
        return self.engine.read_and_chunk(*args)

    def embed(self, variant, chunk_texts, sentences, progress):
        self.texts += len(chunk_texts) + len(sentences)
        return self.engine.embed(variant, chunk_texts, sentences, progress)


def _same_index(ray_dir, local_dir) -> None:
    """Same manifest (but the build time), chunk ids, chunks and sentence spans; vectors to float tolerance."""
    ours, theirs = read_manifest(ray_dir), read_manifest(local_dir)
    for manifest in (ours, theirs):
        # The time, file names carrying it, and the files re-checked by hash (run history: Ray ran twice here).
        for key in ("created", "files", "manifest_sha256", "verified"):
            manifest.pop(key)
        for segment in manifest["segments"]:
            segment.pop("name")
    assert ours == theirs
    a, b = LocalStore.open(ray_dir), LocalStore.open(local_dir)
    try:
        assert a.sources() == b.sources()
        pairs = all_chunks(a)
        assert pairs == all_chunks(b) and len(pairs) > 20
        ids = [i for i, _ in pairs]
        np.testing.assert_allclose(a.vectors(ids), b.vectors(ids), atol=2e-5)
        ours_s, theirs_s = a.sentences(ids), b.sentences(ids)
        for i in ids:
            assert ours_s[i][0] == theirs_s[i][0]
            assert np.abs(ours_s[i][1].astype(np.float32) - theirs_s[i][1].astype(np.float32)).max(initial=0) < 0.02
        for info in a.sources():
            assert a.document(info.source) == b.document(info.source)
    finally:
        a.close()
        b.close()


@pytest.mark.slow
def test_the_seed_corpus_indexed_on_ray_is_the_local_index(local_ray, seed_index_dir, bot, embedder, tmp_path):
    engine = CountingEngine(actors=2)
    index = tmp_path / "index"
    summary = build_index(CORPUS, index, embedder=None, engine=engine)
    assert summary.documents == 5 and summary.embedded == summary.chunks and engine.texts > summary.chunks
    _same_index(index, seed_index_dir)
    on_ray = Assistant.open(index, embedder=embedder)
    questions = [json.loads(line)["question"] for line in EVAL.read_text().splitlines()[:25]]
    for question in questions:
        ours, theirs = on_ray.ask(question), bot.ask(question)
        assert (ours.answer, ours.answer_source, ours.answer_start) == (theirs.answer, theirs.answer_source,
                                                                         theirs.answer_start)
        assert [p.chunk_id for p in ours.passages] == [p.chunk_id for p in theirs.passages]


@pytest.mark.slow
def test_an_incremental_run_on_ray_embeds_only_what_changed(local_ray, seed_index_dir, corpus_copy, embedder,
                                                            tmp_path):
    # Both start from the local build of the seed corpus (the test above shows Ray builds the same one).
    on_ray, local = tmp_path / "on-ray", tmp_path / "local"
    shutil.copytree(seed_index_dir, on_ray)
    shutil.copytree(seed_index_dir, local)
    changed = sorted(corpus_copy.iterdir())[0]
    changed.write_text(changed.read_text() + "\n\nA closing paragraph on the new rota for weekend clinics.\n")
    (corpus_copy / sorted(p.name for p in corpus_copy.iterdir())[-1]).unlink()
    engine = CountingEngine(actors=2)
    second = build_index(corpus_copy, on_ray, engine=engine)
    assert (second.reused, second.removed) == (3, 1)
    assert 1 <= second.embedded <= 2 and second.vectors_reused >= 1
    assert engine.texts == second.embedded + second.sentences_embedded < 20
    third = build_index(corpus_copy, on_ray, engine=engine)  # nothing changed: nothing embedded
    assert third.embedded == 0 and engine.texts == second.embedded + second.sentences_embedded
    build_index(corpus_copy, local, embedder=embedder)
    _same_index(on_ray, local)


@pytest.mark.slow
def test_ray_without_the_extra_is_a_one_line_error(monkeypatch, tmp_path, capsys):
    monkeypatch.setitem(sys.modules, "ray", None)  # as if Ray were not installed
    code = cli_main(["index", "--corpus", str(CORPUS), "--index", str(tmp_path / "index"), "--ray"])
    assert code == 1
    assert error_line(capsys.readouterr().err) == "assistant: error: --ray needs Ray: pip install 'assistant[cluster]'"
    assert not (tmp_path / "index").exists()


def test_ray_actors_needs_ray(tmp_path, capsys):
    code = cli_main(["index", "--corpus", str(CORPUS), "--index", str(tmp_path / "index"), "--ray-actors", "2"])
    assert code == 1 and error_line(capsys.readouterr().err) == "assistant: error: --ray-actors needs --ray"
