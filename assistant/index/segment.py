"""One index segment: an immutable folder of open-format files for a set of whole documents.

Files of a segment (written once, fsynced, never modified; the manifest lists their checksums):
- `table.sqlite`: documents (clean text, title, blocks, pages), chunks (by position `seq`
  and by stable `id`) and the keyword vocabulary. Opened read-only and immutable, so a query
  fetches the handful of rows it shows in constant time however large the index is.
- `dense.faiss`: the chunk vectors (assistant/index/dense.py chooses exact or approximate).
- `ids.npy`: stable chunk id per position; `sentences.npy` (int8) with `sentence_scales.npy`
  and `sentence_keys.npy`: one vector per answer sentence, in chunk order, and the content hash
  it was embedded from; `kw_*.npy`: BM25 postings (assistant/index/bm25.py). All memory-mapped.

A segment never changes; deleting a document from it is recorded in the manifest (see
assistant/index/local.py), and merging rewrites live documents into a new segment.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

import numpy as np

from ..types import Block, Chunk, Document
from .bm25 import FILES as KEYWORD_FILES
from .bm25 import Postings, build_postings, tokenize_all
from .dense import DenseIndex, DenseSettings, build_dense, dequantize_rows
from .spill import RowFile, save_rows

TABLE = "table.sqlite"
NPY = ("ids.npy", "sentences.npy", "sentence_scales.npy", "sentence_keys.npy")
FILES = (TABLE, "dense.faiss", *NPY, *KEYWORD_FILES)  # every file of a segment
# Long texts come last in a row: SQLite reads a row's columns in order through its overflow pages,
# so listing sources, sizes or counts never reads the documents' text.
_SCHEMA = """
CREATE TABLE documents (source TEXT PRIMARY KEY, sha256 TEXT NOT NULL, title TEXT NOT NULL, encoding TEXT NOT NULL,
    format TEXT NOT NULL, chunks INTEGER NOT NULL, chars INTEGER NOT NULL, size INTEGER, mtime_ns INTEGER,
    blocks TEXT NOT NULL, pages TEXT NOT NULL, text TEXT NOT NULL);
CREATE TABLE chunks (seq INTEGER PRIMARY KEY, id INTEGER NOT NULL UNIQUE, source TEXT NOT NULL, title TEXT NOT NULL,
    section TEXT NOT NULL, start INTEGER NOT NULL, "end" INTEGER NOT NULL, line INTEGER NOT NULL, page INTEGER,
    search_text TEXT NOT NULL, sentences TEXT NOT NULL, sent_lo INTEGER NOT NULL, vec_key INTEGER NOT NULL);
CREATE INDEX chunks_source ON chunks(source);
CREATE TABLE terms (term TEXT PRIMARY KEY, tid INTEGER NOT NULL) WITHOUT ROWID;
"""
_CHUNK_COLUMNS = ('c.seq, c.id, c.source, c.title, c.section, c.start, c."end", c.line, c.page, c.search_text, '
                  'c.sentences, c.sent_lo, substr(d.text, c.start + 1, c."end" - c.start)')


@dataclass
class SegmentData:
    """What a new segment is made of: whole documents, their chunks and every vector."""

    documents: list[Document]
    chunks: list[Chunk]
    ids: np.ndarray  # int64 stable id per chunk
    vec_keys: np.ndarray  # int64 content hash of each chunk's embedded text
    vectors: np.ndarray | RowFile  # float32 (chunks, dim), unit rows; a build's are on disk (spill.py)
    sentence_codes: np.ndarray | RowFile  # int8 (sentences, dim), chunk order
    sentence_scales: np.ndarray  # float32 (sentences,)
    sentence_keys: np.ndarray  # int64 content hash of each sentence's embedded text
    token_lists: list[list[str]] | None = None  # keyword tokens per chunk, when already made
    file_stats: dict[str, tuple[int, int]] = field(default_factory=dict)  # source -> (size, mtime_ns) when read


def write_segment(folder: Path, data: SegmentData, dense: DenseSettings) -> tuple[list[str], dict]:
    """Write a segment's files into an empty folder; returns the file names and its statistics."""
    tokens = data.token_lists if data.token_lists is not None else tokenize_all(c.search_text for c in data.chunks)
    terms, postings = build_postings(tokens)  # a batch of chunks tokenized at a time
    _write_table(folder / TABLE, data, terms)
    names = [TABLE]
    build_dense(data.vectors, dense).save(folder / "dense.faiss")
    names.append("dense.faiss")
    for name, array, dtype in zip(NPY, (data.ids, data.sentence_codes, data.sentence_scales, data.sentence_keys),
                                  (np.int64, np.int8, np.float32, np.int64), strict=True):
        save_rows(folder / name, array, dtype)  # np.save's bytes, a batch at a time (the codes may be on disk)
        names.append(name)
    names += postings.save(folder)
    stats = {"chunks": len(data.chunks), "documents": len(data.documents), "sentences": int(len(data.sentence_codes)),
             "tokens": int(np.sum(postings.lengths, dtype=np.int64)), "terms": len(terms)}
    return names, stats


def _write_table(path: Path, data: SegmentData, terms: list[str]) -> None:
    counts: dict[str, int] = {}
    for chunk in data.chunks:
        counts[chunk.source] = counts.get(chunk.source, 0) + 1
    # Built in memory and written by Python: a full disk is then an OSError with its errno, like
    # every other file of the index, rather than SQLite's "disk I/O error".
    connection = sqlite3.connect(":memory:")
    try:
        connection.executescript(_SCHEMA)
        connection.executemany(
            "INSERT INTO documents VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            ((d.source, d.sha256, d.title, d.encoding, d.format, counts.get(d.source, 0), len(d.text),
              *data.file_stats.get(d.source, (None, None)),
              json.dumps(d.stored_blocks()), json.dumps(list(d.pages)), d.text)
             for d in data.documents))
        offsets = np.concatenate([[0], np.cumsum([len(c.sentences) for c in data.chunks], dtype=np.int64)])
        connection.executemany(
            "INSERT INTO chunks VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            ((seq, int(data.ids[seq]), c.source, c.title, c.section, c.start, c.end, c.line, c.page, c.search_text,
              json.dumps([list(s) for s in c.sentences]), int(offsets[seq]), int(data.vec_keys[seq]))
             for seq, c in enumerate(data.chunks)))
        connection.executemany("INSERT INTO terms VALUES (?, ?)", ((t, i) for i, t in enumerate(terms)))
        connection.commit()
        image = connection.serialize()
    finally:
        connection.close()
    with open(path, "wb") as handle:
        handle.write(image)


class Segment:
    """An open segment: SQLite read-only and immutable, arrays memory-mapped, the dense index loaded."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._db = sqlite3.connect(f"file:{quote(str(folder / TABLE))}?mode=ro&immutable=1", uri=True,
                                   check_same_thread=False)
        self._lock = threading.Lock()  # one connection shared by the app's threads
        self.ids = np.load(folder / "ids.npy", mmap_mode="r", allow_pickle=False)
        self.sentence_codes = np.load(folder / "sentences.npy", mmap_mode="r", allow_pickle=False)
        self.sentence_scales = np.load(folder / "sentence_scales.npy", mmap_mode="r", allow_pickle=False)
        self.sentence_keys = np.load(folder / "sentence_keys.npy", mmap_mode="r", allow_pickle=False)
        self.postings = Postings.load(folder)
        self.dense = DenseIndex.load(folder / "dense.faiss")
        n = len(self.ids)
        if not (n == self.postings.n_docs == self.dense.ntotal
                and len(self.sentence_codes) == len(self.sentence_scales) == len(self.sentence_keys)):
            raise ValueError(f"segment {folder.name} is inconsistent (component sizes differ)")

    def __len__(self) -> int:
        return len(self.ids)

    def close(self) -> None:
        self._db.close()

    def query(self, sql: str, params: Sequence = ()) -> list[tuple]:
        with self._lock:
            return self._db.execute(sql, tuple(params)).fetchall()

    def query_in(self, sql: str, values: Sequence, batch: int = 500) -> list[tuple]:
        """Rows of `sql` whose `IN (?*)` takes any number of values (SQLite binds at most 999 per
        statement, so they go in batches)."""
        values = list(values)
        rows: list[tuple] = []
        for lo in range(0, len(values), batch):
            part = values[lo:lo + batch]
            rows += self.query(sql.replace("?*", ",".join("?" * len(part))), part)
        return rows

    def term_ids(self, terms: Sequence[str]) -> dict[str, int]:
        return dict(self.query_in("SELECT term, tid FROM terms WHERE term IN (?*)", dict.fromkeys(terms)))

    def seqs_of(self, ids: Sequence[int]) -> dict[int, int]:
        """Stable id -> position, for the ids this segment holds."""
        return {i: s for s, i in self.query_in("SELECT seq, id FROM chunks WHERE id IN (?*)", map(int, ids))}

    def seqs_of_sources(self, sources: Sequence[str]) -> np.ndarray:
        seqs = [s for (s,) in self.query_in("SELECT seq FROM chunks WHERE source IN (?*)", sources)]
        return np.array(sorted(seqs), dtype=np.int64)

    def chunks(self, seqs: Sequence[int]) -> dict[int, tuple[Chunk, int]]:
        """Position -> (chunk, index of its first sentence vector)."""
        rows = self.query_in(f"SELECT {_CHUNK_COLUMNS} FROM chunks c JOIN documents d ON d.source = c.source "
                             "WHERE c.seq IN (?*)", map(int, seqs))
        return {row[0]: (_chunk(row), row[11]) for row in rows}

    def chunks_of_source(self, source: str) -> list[tuple[int, Chunk, int]]:
        rows = self.query(f"SELECT {_CHUNK_COLUMNS} FROM chunks c JOIN documents d ON d.source = c.source "
                          "WHERE c.source = ? ORDER BY c.seq", (source,))
        return [(row[0], _chunk(row), row[11]) for row in rows]

    def sentence_vectors(self, lo: int, n: int) -> np.ndarray:
        return dequantize_rows(self.sentence_codes[lo:lo + n], self.sentence_scales[lo:lo + n])

    def document(self, source: str) -> Document | None:
        rows = self.query("SELECT source, sha256, title, encoding, format, text, blocks, pages FROM documents "
                          "WHERE source = ?", (source,))
        if not rows:
            return None
        source, sha256, title, encoding, fmt, text, blocks, pages = rows[0]
        return Document(source, text, title, sha256, encoding, fmt, tuple(Block(*b) for b in json.loads(blocks)),
                        tuple(json.loads(pages)))

    def has(self, source: str) -> bool:
        return bool(self.query("SELECT 1 FROM documents WHERE source = ?", (source,)))

    def text(self, source: str) -> str | None:
        rows = self.query("SELECT text FROM documents WHERE source = ?", (source,))
        return rows[0][0] if rows else None

    def source_names(self) -> list[str]:
        return [source for (source,) in self.query("SELECT source FROM documents")]

    def file_stats(self) -> list[tuple[str, str, int | None, int | None]]:
        """(source, sha256, size, mtime_ns) of every document, as the file was when read."""
        return self.query("SELECT source, sha256, size, mtime_ns FROM documents")

    def sources(self) -> list[tuple[str, str, str, int, int]]:
        """(source, sha256, title, chunks, characters) of every document in the segment."""
        return self.query("SELECT source, sha256, title, chunks, chars FROM documents ORDER BY source")


def _chunk(row: tuple) -> Chunk:
    _, _, source, title, section, start, end, line, page, search_text, sentences, _, text = row
    return Chunk.from_row({"source": source, "title": title, "section": section, "start": start, "end": end,
                           "text": text, "line": line, "page": page, "search_text": search_text,
                           "sentences": json.loads(sentences)})


def read_back(segment: Segment, deleted: set[str]) -> SegmentData:
    """A segment's live documents, chunks and vectors, to be written again by a merge.

    Sentence vectors are copied as stored; chunk vectors come back from the dense index
    (dequantized, then quantized again by the new segment's index).
    """
    documents = [d for d in (segment.document(s) for s, *_ in segment.sources() if s not in deleted) if d is not None]
    rows = segment.query('SELECT seq, source, vec_key, sent_lo FROM chunks ORDER BY seq')
    keep = [(seq, lo) for seq, source, _, lo in rows if source not in deleted]
    seqs = np.array([seq for seq, _ in keep], dtype=np.int64)
    by_seq = segment.chunks(seqs.tolist())
    chunks = [by_seq[int(seq)][0] for seq in seqs]
    sentence_rows = np.concatenate([np.arange(lo, lo + len(c.sentences)) for (_, lo), c in zip(keep, chunks)]
                                   or [np.zeros(0, np.int64)]).astype(np.int64)
    vec_keys = {seq: key for seq, _, key, _ in rows}
    stats = {source: (size, mtime) for source, _, size, mtime in segment.file_stats()
             if source not in deleted and size is not None}
    return SegmentData(documents, chunks, np.asarray(segment.ids[seqs], dtype=np.int64),
                       np.array([vec_keys[int(s)] for s in seqs], dtype=np.int64), segment.dense.reconstruct(seqs),
                       np.asarray(segment.sentence_codes[sentence_rows]), np.asarray(segment.sentence_scales[sentence_rows]),
                       np.asarray(segment.sentence_keys[sentence_rows]), file_stats=stats)
