"""The local store: segment updates that cost what changed, merges, stable ids, and verification.

These use a small deterministic encoder (hashed words), since they test storage, not meaning;
the end-to-end tests use the real model.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

import numpy as np
import pytest
from helpers import all_chunks, error_line

from assistant import Assistant
from assistant.apps.cli import main as cli_main
from assistant.index import writer
from assistant.index.local import LocalStore
from assistant.index.manifest import read_manifest
from assistant.ingest.indexer import build_index


class FakeEncoder:
    """Unit vectors from hashed words: equal texts give equal vectors, shared words give closeness."""

    variant = "fp32"
    sha256 = "fake"

    def __init__(self) -> None:
        self.calls = 0
        self.texts = 0

    def encode(self, texts: list[str]) -> np.ndarray:
        self.calls += 1
        self.texts += len(texts)
        out = np.zeros((len(texts), 384), dtype=np.float32)
        for i, text in enumerate(texts):
            for word in text.lower().split():
                out[i, int(hashlib.md5(word.encode()).hexdigest(), 16) % 384] += 1.0
            out[i, 0] += 1e-3
        return out / np.linalg.norm(out, axis=1, keepdims=True)


def _doc(n: int, extra: str = "") -> str:
    return (f"# Topic {n}\n\nThe unit number {n} keeps records of item{n} and its care plan. "
            f"Staff at site{n} answer questions about item{n} every weekday. {extra}\n")


@pytest.fixture
def corpus(tmp_path) -> Path:
    folder = tmp_path / "corpus"
    folder.mkdir()
    for n in range(6):
        (folder / f"doc{n}.md").write_text(_doc(n), encoding="utf-8")
    return folder


def _files(index: Path) -> dict[str, tuple[int, int]]:
    """Every segment file with its inode and modification time."""
    return {p.relative_to(index).as_posix(): (p.stat().st_ino, p.stat().st_mtime_ns) for p in index.glob("seg-*/*")}


def _bot(index: Path, encoder) -> Assistant:
    return Assistant.open(index, embedder=encoder, warm=False)


def test_a_first_build_hands_the_writer_vectors_on_disk_read_a_batch_at_a_time(corpus, tmp_path, monkeypatch):
    """A build's memory must not grow with its corpus: the vectors reach the segment writer as files in
    a scratch folder of the index folder (gone after the commit), read back BATCH_ROWS rows at a time."""
    from assistant.index import spill

    index, seen, reads = tmp_path / "index", {}, []
    monkeypatch.setattr(spill, "BATCH_ROWS", 2)
    read = spill.RowFile.__getitem__
    monkeypatch.setattr(spill.RowFile, "__getitem__", lambda self, key: reads.append(key) or read(self, key))
    add = writer.LocalWriter.add
    monkeypatch.setattr(writer.LocalWriter, "add", lambda self, data: seen.update(data=data) or add(self, data))
    build_index(corpus, index, embedder=FakeEncoder())
    data = seen["data"]
    assert isinstance(data.vectors, spill.RowFile) and isinstance(data.sentence_codes, spill.RowFile)
    assert data.vectors.path.parent.parent == index and len(data.vectors) == 6 and len(data.sentence_codes) > 6
    assert reads and all(isinstance(key, slice) and key.stop - key.start <= 2 for key in reads)
    assert not list(index.glob("spill-*"))
    assert {c.source for _, c in all_chunks(_bot(index, FakeEncoder()).store)} == {f"doc{n}.md" for n in range(6)}


def test_a_changed_document_writes_one_small_segment_and_touches_nothing_else(corpus, tmp_path):
    encoder = FakeEncoder()
    index = tmp_path / "index"
    build_index(corpus, index, embedder=encoder)
    before, ids_before = _files(index), {c.source: i for i, c in all_chunks(_bot(index, encoder).store)}
    (corpus / "doc2.md").write_text(_doc(2, "The new wing opens in spring."), encoding="utf-8")
    (corpus / "doc5.md").unlink()
    summary = build_index(corpus, index, embedder=encoder)
    assert (summary.reused, summary.removed, summary.documents) == (4, 1, 5)
    after = _files(index)
    assert {k: v for k, v in after.items() if k in before} == before  # old files neither rewritten nor replaced
    manifest = read_manifest(index)
    old, new = manifest["segments"]
    assert sorted(old["deleted"]) == ["doc2.md", "doc5.md"] and new["documents"] == 1
    bot = _bot(index, encoder)
    assert [s.source for s in bot.sources()] == [f"doc{n}.md" for n in range(5)]
    assert bot.ask("When does the new wing open?").passages[0].source == "doc2.md"
    assert all(p.source != "doc5.md" for p in bot.ask("What does site5 answer?", k=10).passages)
    # Unchanged documents keep their chunk ids; the changed one gets new ones.
    ids_after = {c.source: i for i, c in all_chunks(bot.store)}
    assert all(ids_after[s] == ids_before[s] for s in ("doc0.md", "doc1.md", "doc3.md", "doc4.md"))
    assert ids_after["doc2.md"] != ids_before["doc2.md"]
    reply = bot.ask("What does site3 answer?", k=1).to_dict()
    assert reply["passages"][0]["chunk_id"] == f"{ids_after['doc3.md']:016x}"


def test_only_changed_text_is_embedded_again(corpus, tmp_path):
    encoder = FakeEncoder()
    index = tmp_path / "index"
    (corpus / "long.md").write_text("\n\n".join(f"## Part {i}\n\nPart {i} covers subject{i} in plain words. "
                                                f"It has a second sentence on subject{i}." for i in range(12)))
    first = build_index(corpus, index, embedder=encoder)
    (corpus / "long.md").write_text((corpus / "long.md").read_text() + "\n\n## Part 99\n\nA new part on fresh ground.")
    encoder.texts = 0
    second = build_index(corpus, index, embedder=encoder)
    assert second.embedded <= 2 and second.vectors_reused >= first.chunks - 6 - 2
    assert encoder.texts == second.embedded + second.sentences_embedded < 8


def test_a_moved_file_reuses_its_vectors(corpus, tmp_path):
    encoder = FakeEncoder()
    index = tmp_path / "index"
    first = build_index(corpus, index, embedder=encoder)
    (corpus / "hr").mkdir()
    (corpus / "doc2.md").rename(corpus / "hr" / "doc2.md")  # into a collection's folder
    encoder.texts = 0
    moved = build_index(corpus, index, embedder=encoder)
    assert moved.removed == 1 and moved.chunks == first.chunks
    assert moved.embedded == 0 and encoder.texts == 0  # the same text under a new name: nothing embedded
    assert "hr/doc2.md" in {s.source for s in _bot(index, encoder).sources()}


def _built_merging_early(corpus: Path, index: Path, monkeypatch, max_segments: int) -> FakeEncoder:
    """An index of the corpus whose writer merges two segments once there are more than max_segments."""
    monkeypatch.setattr(writer, "MAX_SEGMENTS", max_segments)
    monkeypatch.setattr(writer, "MERGE_FACTOR", 2)
    encoder = FakeEncoder()
    build_index(corpus, index, embedder=encoder)
    return encoder


def test_many_small_updates_are_merged_and_answers_stay_the_same(corpus, tmp_path, monkeypatch):
    index = tmp_path / "index"
    encoder = _built_merging_early(corpus, index, monkeypatch, 3)
    for n in range(6, 12):
        (corpus / f"doc{n}.md").write_text(_doc(n), encoding="utf-8")
        build_index(corpus, index, embedder=encoder)
        assert len(read_manifest(index)["segments"]) <= 3
    merged = _bot(index, encoder)
    fresh = tmp_path / "fresh"
    build_index(corpus, fresh, embedder=encoder)
    whole = _bot(fresh, encoder)
    assert [s.source for s in merged.sources()] == [s.source for s in whole.sources()]
    assert {i for i, _ in all_chunks(merged.store)} == {i for i, _ in all_chunks(whole.store)}
    for n in range(12):
        question = f"What does site{n} answer about item{n}?"
        assert merged.ask(question).passages[0].source == whole.ask(question).passages[0].source == f"doc{n}.md"
    # Only the segments of the current and the previous manifest are on disk.
    on_disk = {p.name for p in index.glob("seg-*")}
    assert {s["name"] for s in read_manifest(index)["segments"]} <= on_disk and len(on_disk) <= 6


def test_a_mostly_deleted_segment_is_rewritten(corpus, tmp_path):
    encoder = FakeEncoder()
    index = tmp_path / "index"
    build_index(corpus, index, embedder=encoder)
    for n in range(4):
        (corpus / f"doc{n}.md").unlink()
    build_index(corpus, index, embedder=encoder)
    [segment] = read_manifest(index)["segments"]
    assert segment["documents"] == 2 and not segment["deleted"]
    assert [s.source for s in _bot(index, encoder).sources()] == ["doc4.md", "doc5.md"]


def test_a_changed_chunker_fingerprint_rechunks_but_reuses_vectors(corpus, tmp_path, monkeypatch):
    from assistant.ingest import fingerprint

    encoder = FakeEncoder()
    index = tmp_path / "index"
    build_index(corpus, index, embedder=encoder)
    real = fingerprint.fingerprint(build_index.__defaults__[0])
    monkeypatch.setattr("assistant.ingest.indexer.chunk_fingerprint",
                        lambda settings: type(real)(**{**real.__dict__, "digest": "0" * 64}))
    summary = build_index(corpus, index, embedder=encoder)
    assert summary.reused == 0 and summary.embedded == 0 and summary.vectors_reused == summary.chunks


def test_verify_reads_every_byte_that_opening_skips(corpus, tmp_path, monkeypatch, capsys):
    from assistant.index import manifest

    monkeypatch.setattr(manifest, "FULL_CHECK_BYTES", 4096)  # so the test's small files count as large
    monkeypatch.setattr(manifest, "EDGE_BYTES", 1024)
    encoder = FakeEncoder()
    index = tmp_path / "index"
    build_index(corpus, index, embedder=encoder)
    assert cli_main(["verify", "--index", str(index)]) == 0
    assert "is intact: 6 documents" in capsys.readouterr().out
    table = next(index.glob("seg-*/table.sqlite"))
    data = bytearray(table.read_bytes())
    assert len(data) > 3 * 4096
    data[len(data) // 2] ^= 0x01
    table.write_bytes(data)
    LocalStore.open(index).close()  # sizes and edges still match: opening stays cheap
    bot = _bot(index, encoder)
    bot.verify_in_background().join()
    assert "is corrupt (checksum mismatch)" in bot.integrity_problem and "warning:" in bot.describe()
    assert cli_main(["verify", "--index", str(index)]) == 1
    assert error_line(capsys.readouterr().err) == (
        f"assistant: error: index file {table} is corrupt (checksum mismatch): "
        f"rebuild it with: assistant index --corpus CORPUS --index {index}")
    os.truncate(table, len(data) - 1)  # a size change is caught at open
    with pytest.raises(Exception, match="is corrupt"):
        LocalStore.open(index)
    shutil.rmtree(index)


def test_a_failed_commit_during_a_merge_leaves_the_old_index(corpus, tmp_path, monkeypatch):
    """The merge writes its segment before the manifest; a failure then removes it and keeps the old index."""
    from assistant.errors import AssistantError

    index = tmp_path / "index"
    encoder = _built_merging_early(corpus, index, monkeypatch, 1)
    before = (index / "manifest.json").read_bytes()
    on_disk = {p.name for p in index.iterdir()}
    (corpus / "doc9.md").write_text(_doc(9), encoding="utf-8")

    def full_disk(path, manifest):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(writer, "write_manifest", full_disk)
    with pytest.raises(AssistantError, match="No space left on device.*the previous index is unchanged"):
        build_index(corpus, index, embedder=encoder)
    assert (index / "manifest.json").read_bytes() == before
    assert {p.name for p in index.iterdir()} == on_disk  # the new and the merged segment are gone
    monkeypatch.undo()
    build_index(corpus, index, embedder=encoder)
    assert "doc9.md" in {s.source for s in _bot(index, encoder).sources()}


def test_files_unchanged_since_indexing_are_not_read_again(corpus, tmp_path, monkeypatch):
    """Size and modification time as recorded: an unchanged corpus costs a stat per file, not a read."""
    from assistant.ingest.sandbox import Sandbox

    old = 1_600_000_000
    for path in corpus.iterdir():
        os.utime(path, (old, old))
    encoder = FakeEncoder()
    index = tmp_path / "index"
    build_index(corpus, index, embedder=encoder)
    read = []
    real = Sandbox.read
    monkeypatch.setattr(Sandbox, "read", lambda self, path, *a: read.append(path.name) or real(self, path, *a))
    again = build_index(corpus, index, embedder=encoder)
    assert read == [] and (again.documents, again.reused, again.embedded) == (6, 6, 0)
    (corpus / "doc1.md").write_text(_doc(1, "Now open on Sundays."), encoding="utf-8")  # new size, new time
    same_size = (corpus / "doc2.md").read_text().replace("weekday", "WEEKDAY")
    (corpus / "doc2.md").write_text(same_size, encoding="utf-8")
    os.utime(corpus / "doc2.md", (old + 5, old + 5))  # same size, another (old) modification time
    third = build_index(corpus, index, embedder=encoder)
    assert sorted(read) == ["doc1.md", "doc2.md"] and third.reused == 4
    assert "Sundays" in _bot(index, encoder).read_source("doc1.md")
    assert "WEEKDAY" in _bot(index, encoder).read_source("doc2.md")


def test_the_scale_bench_builds_measures_and_updates_a_synthetic_index(seed_index_dir, tmp_path):
    """`assistant bench --scale` at its smallest size: every figure is there and plausible."""
    from assistant.tools.bench import BenchResult
    from assistant.tools.bench_scale import run_scale

    store = LocalStore.open(seed_index_dir)
    segment = store.segments[0]
    base = np.concatenate([segment.dense.reconstruct(np.arange(len(segment))),
                           segment.sentence_vectors(0, len(segment.sentence_codes))])
    page = tmp_path / "page.txt"
    page.write_text("The Wisbech clinic opens at eight on weekdays and at nine on Saturdays. " * 20)
    result = BenchResult()
    [row] = run_scale([1000], tmp_path, base, result, page)
    assert row["recall_at_10"] >= 0.95 and row["dense_kind"] == "flat-sq8" and row["added_found"]
    assert 380 <= row["dense_bytes_per_chunk"] <= 600 and row["ask_p50_ms"] > 0 and row["open_s"] > 0
    assert len(result.rows) == 7 and all("1,000 chunks" in what for what, _, _ in result.rows)
    index = tmp_path / "scale-1000"
    assert cli_main(["verify", "--index", str(index)]) == 0
    assert "added/one-page.txt" in {s.source for s in LocalStore.open(index).sources()}


def test_every_store_reads_a_chunk_back_through_one_from_row(seed_index_dir):
    """The segment, Milvus and Ray all deserialise chunks with Chunk.from_row: a chunk's JSON row
    (sentence spans come back as lists) gives the same chunk, and so does a segment's SQL row."""
    import json

    from assistant.types import Chunk

    store = LocalStore.open(seed_index_dir)
    chunk_id, chunk = next((i, c) for i, c in all_chunks(store) if c.sentences)
    assert Chunk.from_row(json.loads(json.dumps(chunk.to_dict()))) == chunk
    assert store.chunks([chunk_id])[chunk_id] == chunk
