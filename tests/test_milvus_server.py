"""The `milvus://` path against a real Milvus server process (2.3.5, from the `milvus` wheel): index,
ask, verify, and live reload. Milvus 2.3 has no sparse vectors, so keyword search falls back to the
in-memory BM25 and answers stay those of the local store."""

from __future__ import annotations

import shutil

import pytest
from helpers import CORPUS

NAMES = ["healthcare-in-cambridgeshire.txt", "healthcare-in-northamptonshire.txt",
         "northamptonshire-new-integrated-care-system.txt"]
QUESTION = "When is the tulip festival held?"


@pytest.fixture(scope="module")
def remembering(embedder):
    """The model asked once per text: the three files go into Milvus and into a local index."""
    from helpers import RememberingEncoder

    return RememberingEncoder(embedder)


@pytest.mark.slow
def test_index_and_ask_on_a_real_milvus_server(milvus_server, tmp_path, remembering):
    from assistant import Assistant
    from assistant.index.stores import open_store, verify
    from assistant.ingest.indexer import build_index

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for name in NAMES:
        shutil.copy(CORPUS / name, corpus / name)
    location = f"milvus://127.0.0.1:{milvus_server}/docs"
    assert build_index(corpus, location, embedder=remembering).documents == 3
    embedded = remembering.encoded
    build_index(corpus, tmp_path / "local", embedder=remembering)
    assert remembering.encoded == embedded  # the local index got the same vectors, none encoded again
    store = open_store(location)
    try:
        assert store.client.get_server_version().startswith("v2.3")
        assert store.sparse is None and "keyword_stats" not in store.manifest
    finally:
        store.close()
    assert verify(location)["documents"] == 3

    app = Assistant.open(location, embedder=remembering, warm=False)
    local = Assistant.open(tmp_path / "local", embedder=remembering, warm=False)
    for question in ("How many GP practices are there in Cambridgeshire?", "Who leads the integrated care system?"):
        a, b = app.ask(question), local.ask(question)
        assert (a.answer, a.answer_source, a.answer_start) == (b.answer, b.answer_source, b.answer_start)
        assert [p.chunk_id for p in a.passages] == [p.chunk_id for p in b.passages]
    assert not app.ask(QUESTION).confident

    # a running app switches to a commit made meanwhile (the manifest blob's generation moves)
    changed = corpus / NAMES[1]
    changed.write_text(changed.read_text(encoding="utf-8") + "\n\nThe county's tulip festival is held each April.\n",
                       encoding="utf-8")
    stamp = app.store.stamp()
    build_index(corpus, location, embedder=remembering)
    import time

    time.sleep(1.1)  # the store asks Milvus for the stamp at most once a second
    assert app.store.stamp() != stamp
    reply = app.ask(QUESTION)
    assert reply.confident and "April" in reply.answer
