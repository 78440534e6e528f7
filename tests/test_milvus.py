"""The Milvus store (Milvus Lite, in-process) answers as the local store does: same eval figures,
same citations, same documents, and the same incremental rules when files change."""

from __future__ import annotations

import shutil
import subprocess
import sys

import numpy as np
import pytest
from helpers import CORPUS, ROOT

from assistant.errors import AssistantError

EVAL = ROOT / "eval" / "questions.jsonl"


@pytest.fixture(scope="module")
def milvus_seed(tmp_path_factory, embedder) -> str:
    """The seed corpus in a Milvus Lite collection, built with the real model."""
    from assistant.ingest.indexer import build_index

    location = f"milvus-lite:{tmp_path_factory.mktemp('milvus')}/seed.db/seed"
    build_index(CORPUS, location, embedder=embedder)
    return location


@pytest.fixture(scope="module")
def milvus_bot(milvus_seed, embedder):
    from assistant import Assistant

    return Assistant.open(milvus_seed, embedder=embedder)


def test_eval_figures_match_the_local_store(bot, milvus_bot):
    from assistant.tools.evaluate import evaluate, load_questions

    questions = load_questions(EVAL, "test")  # the held-out half: every set, both halves, in benchmarks/milvus_compare.py
    local, milvus = evaluate(bot, questions), evaluate(milvus_bot, questions)
    for metric, out_of in (("hit_at_1", local.answerable), ("hit_at_3", local.answerable), ("hit_at_5", local.answerable),
                           ("answer_accuracy", local.answerable), ("followup_hit_at_3", local.followups),
                           ("offtopic_flagged", local.offtopic), ("false_abstentions", local.answerable)):
        a, b = getattr(local, metric), getattr(milvus, metric)
        assert abs(a - b) * out_of <= 1 + 1e-9, (metric, a, b)  # within one question
    assert abs(local.mrr - milvus.mrr) <= 1 / local.answerable


def test_same_citations(bot, milvus_bot):
    from assistant.tools.evaluate import load_questions

    for item in load_questions(EVAL)[:40:5]:
        local, milvus = bot.ask(item["question"]), milvus_bot.ask(item["question"])
        assert (local.confident, local.answer, local.answer_source, local.answer_start, local.answer_end, local.answer_page) \
            == (milvus.confident, milvus.answer, milvus.answer_source, milvus.answer_start, milvus.answer_end,
                milvus.answer_page), item["question"]
        cite = [[(p.source, p.start, p.end, p.page, p.line, p.section, p.chunk_id) for p in r.passages] for r in (local, milvus)]
        assert cite[0] == cite[1], item["question"]


def test_keyword_search_runs_inside_milvus(bot, milvus_bot):
    """BM25 is the collection's sparse field, not a copy in memory: same scores, rarity and bounds."""
    from assistant.index.milvus_keyword import NO_TERMS, weights
    from assistant.text import tokenize

    assert weights([], {}, 50.0) == {NO_TERMS: 1.0}  # Milvus refuses an empty sparse vector

    local, milvus = bot.data, milvus_bot.data
    assert milvus.sparse is not None and not milvus._positions  # nothing scanned at open
    for question in ("Who chairs the integrated care board?", "How many GP practices are in Cambridgeshire?"):
        terms = {t: 1.0 for t in tokenize(question)} | {"zzunseen": 0.5}
        found, _ = local.keyword(terms, 10)
        got, of_ids = milvus.keyword(terms, 10, [i for i, _ in found[:5]])
        assert dict(got).keys() == dict(found).keys()
        assert np.allclose([s for _, s in got], sorted((s for _, s in found), reverse=True), rtol=1e-5)
        assert np.allclose(of_ids, [s for _, s in found[:5]], rtol=1e-5)
        assert milvus.known(list(terms)) == local.known(list(terms))
        assert milvus.idfs(list(terms)) == pytest.approx(local.idfs(list(terms)))
        assert milvus.ideal_score(terms) == pytest.approx(local.ideal_score(terms))


def test_documents_and_passages_match(bot, milvus_bot):
    assert milvus_bot.sources() == bot.sources()
    for info in bot.sources():
        assert milvus_bot.document(info.source) == bot.document(info.source)
        assert milvus_bot.data.chunks_of(info.source) == bot.data.chunks_of(info.source)
    chunk_id, chunk = bot.data.chunks_of(bot.sources()[0].source)[1]
    assert milvus_bot.locate(chunk.source, chunk.start + 1) == bot.locate(chunk.source, chunk.start + 1)
    # Milvus keeps float32 vectors; the local store's exact index keeps 8-bit codes of them.
    assert abs(milvus_bot.data.vectors([chunk_id]) - bot.data.vectors([chunk_id])).max() < 0.01
    assert len(milvus_bot.data) == len(bot.data)


def test_incremental_update_on_milvus(tmp_path, embedder):
    """A changed file is re-chunked (unchanged passages keep their vectors), a removed one is gone,
    the rest is untouched: the Milvus store ends up holding what a fresh local build holds."""
    from assistant import Assistant
    from assistant.index.stores import open_store, verify
    from assistant.ingest.indexer import build_index

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    names = ["healthcare-in-cambridgeshire.txt", "healthcare-in-northamptonshire.txt",
             "northamptonshire-new-integrated-care-system.txt"]
    for name in names:
        shutil.copy(CORPUS / name, corpus / name)
    location = f"milvus-lite:{tmp_path}/inc.db/docs"
    # A first build inserts into the collections it made (no upserts: Lite looks each key up first);
    # one cut short before its manifest is run again over the rows it wrote, which are upserted.
    import pymilvus

    small, cut = tmp_path / "small", f"milvus-lite:{tmp_path}/inc.db/cut"
    small.mkdir()
    (small / "note.txt").write_text("The depot opens at seven.\n\nDeliveries arrive each Tuesday.\n", encoding="utf-8")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(pymilvus.MilvusClient, "upsert", lambda *a, **k: (_ for _ in ()).throw(OSError("cut")))
        with pytest.raises(AssistantError, match="run the same command again"):
            build_index(small, cut, embedder=embedder)
    assert build_index(small, cut, embedder=embedder).chunks == verify(cut)["chunks"] > 0
    first = build_index(corpus, location, embedder=embedder)
    assert (first.documents, first.reused, first.removed) == (3, 0, 0)
    again = build_index(corpus, location, embedder=embedder)
    assert (again.embedded, again.reused) == (0, 3)

    changed = corpus / names[1]
    changed.write_text(changed.read_text(encoding="utf-8") + "\n\nThe county's tulip festival is held each April.\n",
                       encoding="utf-8")
    (corpus / names[2]).unlink()
    update = build_index(corpus, location, embedder=embedder)
    assert (update.documents, update.reused, update.removed) == (2, 1, 1)
    assert 0 < update.embedded < first.chunks and update.vectors_reused > 0

    local = tmp_path / "local"
    build_index(corpus, local, embedder=embedder)
    milvus_store, local_store = open_store(location), open_store(local)
    try:
        assert milvus_store.sources() == local_store.sources()
        for name in names[:2]:
            assert milvus_store.chunks_of(name) == local_store.chunks_of(name)
            assert milvus_store.document(name) == local_store.document(name)
        assert milvus_store.chunks_of(names[2]) == [] and milvus_store.document(names[2]) is None
    finally:
        milvus_store.close()
        local_store.close()
    assert verify(location)["documents"] == 2
    stats = open_store(location).manifest["keyword_stats"]  # counted incrementally: removed chunks are gone
    assert stats["n_docs"] == len(open_store(local)) and stats["total_length"] == int(
        sum(s.postings.lengths.sum() for s in open_store(local).segments))
    reply = Assistant.open(location, embedder=embedder, warm=False).ask("When is the tulip festival held?")
    assert reply.confident and reply.passages[0].source == names[1] and "April" in reply.answer

    # A commit cut short after the new passages are written (before the old ones go) is finished by the next run.
    changed.write_text(changed.read_text(encoding="utf-8").replace("April", "May"), encoding="utf-8")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(pymilvus.MilvusClient, "delete", lambda *a, **k: (_ for _ in ()).throw(OSError("cut")))
        with pytest.raises(AssistantError, match="run the same command again"):
            build_index(corpus, location, embedder=embedder)
    with pytest.raises(AssistantError, match="inconsistent"):
        verify(location)  # the changed file's old and new passages side by side
    assert build_index(corpus, location, embedder=embedder).reused == 1
    build_index(corpus, local, embedder=embedder)
    milvus_store, local_store = open_store(location), open_store(local)
    try:
        assert milvus_store.sources() == local_store.sources()
        assert milvus_store.chunks_of(names[1]) == local_store.chunks_of(names[1])
        # the run after the cut recounted every statistic: BM25 is that of a fresh build exactly
        from assistant.index.bm25 import KeywordSearch

        held = [pair for s in milvus_store.sources() for pair in milvus_store.chunks_of(s.source)]
        fresh = KeywordSearch.from_texts(c.search_text for _, c in held)
        terms = {"tulip": 1.0, "festiv": 1.0, "may": 1.0, "care": 0.5}
        scores = fresh.scores(terms)[0]
        expected = sorted(((held[n][0], float(scores[n])) for n in np.flatnonzero(scores)), key=lambda p: -p[1])[:5]
        got = milvus_store.keyword(terms, 5)[0]
        assert [i for i, _ in got] == [i for i, _ in expected] and np.allclose([s for _, s in got], [s for _, s in expected])
    finally:
        milvus_store.close()
        local_store.close()

    # A running app picks up a commit made by `assistant index --store` (the manifest blob's generation).
    import time

    from assistant.apps.cli import main

    app = Assistant.open(location, embedder=embedder, warm=False)
    assert "May" in app.ask("When is the tulip festival held?").answer
    changed.write_text(changed.read_text(encoding="utf-8").replace("May", "June"), encoding="utf-8")
    assert main(["index", "--corpus", str(corpus), "--store", location]) == 0
    time.sleep(1.1)  # the store asks Milvus for the stamp at most once a second
    assert "June" in app.ask("When is the tulip festival held?").answer


def test_cli_takes_a_store_location(milvus_seed, monkeypatch, capsys):
    from assistant.apps.cli import main

    assert main(["sources", "--store", milvus_seed]) == 0
    assert "healthcare-in-cambridgeshire.txt" in capsys.readouterr().out
    assert main(["verify", "--store", milvus_seed]) == 0
    assert "intact" in capsys.readouterr().out
    monkeypatch.setenv("ASSISTANT_STORE", milvus_seed)
    assert main(["show", "healthcare-in-cambridgeshire.txt"]) == 0
    assert "Cambridgeshire" in capsys.readouterr().out
    missing = milvus_seed.rsplit("/", 1)[0] + "/nothing_here"
    assert main(["sources", "--store", missing]) == 1
    err = capsys.readouterr().err
    assert err.startswith("assistant: error: no index at") and err.count("\n") == 1 and "Traceback" not in err


@pytest.mark.parametrize("text", ["milvus://", "milvus://host:19530/", "milvus://host/1bad", "milvus-lite:data/docs",
                                  "milvus-lite:x.db/bad-name", "milvus:host:19530/docs"])
def test_bad_locations_are_one_line_errors(text):
    from assistant.index.stores import open_store

    with pytest.raises(AssistantError, match="location|collection name"):
        open_store(text)


def test_locations_parse():
    from assistant.index.milvus import parse_location

    server = parse_location("milvus://db.example.org:19530/docs")
    assert (server.uri, server.collection, server.lite) == ("http://db.example.org:19530", "docs", False)
    assert parse_location("milvus:/db.example.org/docs").uri == "http://db.example.org:19530"  # as a Path prints it
    lite = parse_location("milvus-lite:some/dir/data.db/my_docs")
    assert (lite.uri, lite.collection, lite.lite) == ("some/dir/data.db", "my_docs", True)
    assert parse_location("index") is None


def test_missing_extra_is_a_one_line_error(monkeypatch):
    from assistant.index.stores import open_store

    monkeypatch.setitem(sys.modules, "pymilvus", None)  # as if the [cluster] extra were not installed
    with pytest.raises(AssistantError, match=r"pip install 'assistant\[cluster\]'"):
        open_store("milvus-lite:x.db/docs")


def test_default_paths_do_not_import_pymilvus():
    code = ("import sys, assistant.apps.cli, assistant.api, assistant.ingest.indexer; "
            "from assistant.index.stores import open_store, open_writer; "
            "assert 'pymilvus' not in sys.modules and 'milvus_lite' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)


@pytest.mark.parametrize("args, message", [
    (["--store", "milvus-lite:x.db/syn"], "--store and --json go with --scale SIZES"),
    (["--json"], "--store and --json go with --scale SIZES"),
    (["--scale", "1000", "--store", "some/folder"], "--store takes a Milvus location"),
])
def test_bench_store_flags_are_checked(args, message, capsys):
    from assistant.apps.cli import main

    assert main(["bench", *args]) == 1
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1
