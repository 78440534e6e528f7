"""Collections and access inside retrieval (issue 23): a caller allowed some collections gets
exactly what an index of only those documents would give, and nothing else of the others."""

from __future__ import annotations

import numpy as np
import pytest

from assistant.api import NOT_FOUND
from assistant.errors import AssistantError

# One made-up document in the `hr` folder; the seed corpus stays at the root (collection `shared`).
LEAVE = """# Annual leave at Harwick Pumps

Every employee of Harwick Pumps receives 27 days of paid annual leave each year, plus bank holidays.
Leave requests are approved by the line manager at least two weeks before the first day away.

## Carrying leave over

Up to five unused days of annual leave may be carried over into the next leave year, and must be taken by the end of March.

## Parental leave

Harwick Pumps pays parental leave at full salary for the first sixteen weeks.
"""
HR_QUESTION = "How many unused leave days can be carried over?"
SEED_QUESTION = "Who provides out-of-hours services in Northamptonshire?"


@pytest.fixture(scope="module")
def split(seed_index_dir, tmp_path_factory, embedder):
    """The seed corpus at the root plus hr/leave.md, indexed (seed vectors reused: only the new file is embedded)."""
    from helpers import writable_index

    from assistant import Assistant

    def prepare(corpus):
        (corpus / "hr").mkdir()
        (corpus / "hr" / "leave.md").write_text(LEAVE, encoding="utf-8")

    corpus, index = writable_index(seed_index_dir, tmp_path_factory.mktemp("split"), embedder, prepare)
    return Assistant.open(index, embedder=embedder, warm=False)


def _shown(reply):
    return (reply.answer, reply.confident, reply.answer_source, reply.answer_start, reply.answer_end,
            [(p.source, p.start, p.end, p.score, p.strength, p.page, p.chunk_id) for p in reply.passages])


def test_collection_of():
    from assistant.index.access import collection_of

    assert collection_of("hr/pay/2024.pdf") == "hr"
    assert collection_of("notes.md") == "shared"


def test_what_is_made_per_set_of_collections_is_bounded_and_made_once():
    """api.Assistant.view and CollectionRows keep one value per Allowed in a Bounded mapping."""
    from assistant.index.bounded import Bounded

    kept, made = Bounded(2), []
    for key in ("a", "b", "a", "c", "a"):
        kept.get(key, lambda key=key: made.append(key) or key.upper())
    assert made == ["a", "b", "c", "a"]  # "a" made once until "c" pushed the oldest out
    assert len(kept) == 2 and "a" in kept and "c" in kept and "b" not in kept


def test_shared_alone_answers_as_an_index_of_only_its_documents(split, bot):
    """Scores, passages, answers and the abstention come out exactly as from the seed index, which
    holds only the shared documents: nothing of `hr` (not even its word counts) reaches them."""
    for question in (SEED_QUESTION, HR_QUESTION, "What is the capital of Australia?"):
        assert _shown(split.ask(question, collections=["shared"])) == _shown(bot.ask(question)), question
    hr_reply = split.ask(HR_QUESTION, collections=["shared"])
    assert hr_reply.answer == NOT_FOUND and not hr_reply.confident  # the same words as a question about nothing
    assert all(p.source.count("/") == 0 for p in hr_reply.passages) and len(hr_reply.passages) == 5  # top k filled
    assert split.ask(HR_QUESTION).answer_source == "hr/leave.md"  # ...while everything finds it
    assert _shown(split.ask(SEED_QUESTION, collections=[])) == _shown(split.ask(SEED_QUESTION, collections=["nothing"]))
    assert split.ask(SEED_QUESTION, collections=[]).passages == []


def test_hr_alone_sees_only_hr(split):
    reply = split.ask(SEED_QUESTION, collections=["hr"])
    chunks = len(split.store.chunks_of("hr/leave.md"))
    assert {p.source for p in reply.passages} == {"hr/leave.md"} and len(reply.passages) == min(5, chunks)
    answered = split.ask(HR_QUESTION, collections={"hr"})
    assert answered.confident and "five unused days" in answered.answer
    assert [s.source for s in split.sources(collections=["hr"])] == ["hr/leave.md"]
    assert split.example_questions(collections=["hr"]) and all("Harwick" in q or "leave" in q.lower()
                                                                  for q in split.example_questions(collections=["hr"]))
    assert split.locate("healthcare-in-cambridgeshire.txt", 10, collections=["hr"]) is None
    assert split.sources_named("leave.md", collections=["shared"]) == []
    assert "1 documents" in split.describe(collections=["hr"])
    assert split.collections() == ["hr", "shared"] and split.collections(collections=["hr", "x"]) == ["hr"]


def test_a_restricted_question_reads_no_chunk_row_twice(split, monkeypatch):
    """The view knows the ids its own filtered searches returned are permitted and does not read
    their rows again to check (on Milvus a round trip per question); an id it did not return is
    still read and dropped when it is of another collection."""
    store, reads = split.store, []
    read = store.chunks

    def counted(ids):
        ids = list(ids)
        reads.append(len(ids))
        return read(ids)

    monkeypatch.setattr(store, "chunks", counted)
    everything = split.ask(SEED_QUESTION)
    unrestricted, reads[:] = list(reads), []
    restricted = split.ask(SEED_QUESTION, collections=["hr", "shared"])
    assert _shown(restricted) == _shown(everything)
    assert reads == unrestricted  # the same chunk reads as a question over the whole index
    view, reads[:] = split.view(["shared"]), []
    hidden = store.chunks_of("hr/leave.md")[0][0]
    assert not view.vectors([hidden]).any() and view.sentences([hidden]) == {}
    assert view.keyword({"leave": 1.0}, 5, [hidden])[1].tolist() == [0.0]
    assert reads == [1, 1, 1]  # each checked against its row


def test_other_collections_documents_are_no_such_document(split):
    """A document of another collection fails with the same message as one that does not exist."""
    def message(source, collections):
        with pytest.raises(AssistantError) as caught:
            split.document(source, collections=collections)
        return str(caught.value).replace(source, "X")

    assert message("hr/leave.md", ["shared"]) == message("hr/nothing.md", ["shared"])
    assert "did you mean" not in message("leave.md", ["shared"])  # no hint naming the hidden file
    for read in (split.original, split.read_source):
        with pytest.raises(AssistantError, match="not an indexed document"):
            read("hr/leave.md", collections=["shared"])
    assert split.read_source("hr/leave.md", collections=["hr"]).startswith("Annual leave")
    assert split.original("hr/leave.md", collections=["hr"]) == LEAVE.encode()


def test_bad_collections_are_one_line_errors(split):
    for bad in ("hr", [""], ["a/b"], [3]):
        with pytest.raises(AssistantError, match="collection"):
            split.sources(collections=bad)


def test_cli_collections(split, capsys):
    import json

    from assistant.apps.cli import main

    index = str(split.index_dir)
    assert main(["sources", "--index", index, "--collections", "hr"]) == 0
    assert capsys.readouterr().out.split("\t")[0] == "hr/leave.md"
    assert main(["ask", HR_QUESTION, "--index", index, "--collections", "shared", "--json"]) == 0
    reply = json.loads(capsys.readouterr().out)
    assert reply["answer"] == NOT_FOUND and all("/" not in p["source"] for p in reply["passages"])
    assert main(["ask", HR_QUESTION, "--index", index, "--collections", "hr,finance"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("assistant: error: no collection 'finance'") and err.count("\n") == 1


@pytest.mark.parametrize("quantizer", ["sq8", "pq"])
def test_ivf_selector_fills_k_from_few_permitted_rows(quantizer):
    """IVF scans only nprobe lists: with few permitted rows the search probes more until it has k."""
    from types import SimpleNamespace

    from assistant.index.dense import DenseSettings, build_dense, synthetic_vectors
    from assistant.index.local import search_within

    base = np.random.default_rng(0).standard_normal((50, 384)).astype(np.float32)
    vectors = synthetic_vectors(1000, 1, base / np.linalg.norm(base, axis=1, keepdims=True))
    dense = build_dense(vectors, DenseSettings(exact_below=0, nlist_per_sqrt=0.1, nprobe=1, quantizer=quantizer, pq_m=8))
    assert dense.kind.startswith("ivf")
    keep = np.zeros(1000, dtype=bool)
    keep[::125] = True  # 8 rows spread over the lists
    assert len(dense.search(vectors[1], 5, ~keep)[0]) < 5  # one list alone holds too few of them
    rows, _ = search_within(SimpleNamespace(dense=dense), vectors[1], 5, keep)
    assert len(rows) == 5 and keep[rows].all()


def test_milvus_lite_filters_inside_the_search(tmp_path, embedder):
    from assistant import Assistant
    from assistant.index.access import Allowed
    from assistant.ingest.indexer import build_index

    corpus = tmp_path / "corpus"
    (corpus / "hr").mkdir(parents=True)
    (corpus / "hr" / "leave.md").write_text(LEAVE, encoding="utf-8")
    (corpus / "walks.md").write_text("# Walking guide\n\nThe ridge walk to Brackenfold takes four hours and starts "
                                     "at the village car park.\n", encoding="utf-8")
    location = f"milvus-lite:{tmp_path}/a.db/split"
    build_index(corpus, location, embedder=embedder)
    bot = Assistant.open(location, embedder=embedder, warm=False)
    shared = bot.ask(HR_QUESTION, collections=["shared"])
    assert {p.source for p in shared.passages} == {"walks.md"} and shared.answer == NOT_FOUND
    hr = bot.ask(HR_QUESTION, collections=["hr"])
    assert {p.source for p in hr.passages} == {"hr/leave.md"} and "five unused days" in hr.answer
    assert len(hr.passages) == min(5, len(bot.store.chunks_of("hr/leave.md")))
    assert bot.store.known(["harwick"]) == {"harwick"}
    assert bot.store.known(["harwick"], allowed=Allowed(frozenset({"shared"}))) == set()
    assert [s.source for s in bot.sources(collections=["shared"])] == ["walks.md"]
