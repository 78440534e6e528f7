"""The local store: an index folder of immutable segments under one manifest.

Opening reads the manifest, checks file sizes and edge checksums, opens each segment's SQLite
table read-only and memory-maps its arrays: the cost does not grow with the number of chunks
beyond loading each segment's dense index. Documents deleted from a segment (replaced or
removed files) are masked out of every search until a merge rewrites the segment.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ..embed.base import DIMENSION
from ..errors import IndexCorruptError, IndexMismatchError
from ..types import Chunk, Document, SourceInfo
from .access import Allowed
from .access_rows import CollectionRows
from .base import KeywordStatistics, VectorsByContent, top_positions
from .bm25 import TOKENIZER, KeywordPart, KeywordSearch
from .manifest import REBUILD_HINT, check_files, manifest_stamp, read_manifest
from .segment import Segment

_CACHE = 4096  # id -> (segment, position) entries kept from recent searches


def _one_search_thread() -> None:
    """One question at a time searches fastest on one thread: waking FAISS's OpenMP team costs more
    than it saves on a 2-core machine (flat search at 10,000 chunks: 1.4 ms on one thread, 2.6 ms on
    two, and far worse when the machine is busy). The app answers questions concurrently anyway."""
    import faiss

    faiss.omp_set_num_threads(1)


class LocalStore(KeywordStatistics):
    """Read side of a local index; immutable, safe to share between threads."""

    def __init__(self, index_dir: Path, manifest: dict, segments: list[Segment], live: list[np.ndarray | None]) -> None:
        self.index_dir, self.manifest, self.segments, self.live = index_dir, manifest, segments, live
        self.keyword_search = KeywordSearch([KeywordPart(s.postings, s.term_ids, m) for s, m in zip(segments, live)],
                                            **{k: v for k, v in (manifest.get("keyword") or {}).items() if k in ("k1", "b")})
        self._where: OrderedDict[int, tuple[int, int]] = OrderedDict()
        self._where_lock = threading.Lock()  # the app asks from several threads
        self._deleted = [set(s.get("deleted") or ()) for s in manifest["segments"]]
        self._count = sum(len(s) - (0 if m is None else int((~m).sum())) for s, m in zip(segments, live))
        self.collection_rows = CollectionRows(self._row_sources)

    def _row_sources(self) -> list[list[str]]:
        """Each segment's chunk sources by position, for the collection masks (read once, when first asked)."""
        out = []
        for segment in self.segments:
            sources = [""] * len(segment)
            for seq, source in segment.query("SELECT seq, source FROM chunks"):
                sources[seq] = source
            out.append(sources)
        return out

    @classmethod
    def open(cls, index_dir: Path, for_update: bool = False) -> LocalStore:
        """Open the committed index; retried if a writer commits meanwhile (its old files may go).

        Questions must be tokenized as the index was, so an index from another keyword
        tokenizer is refused for searching; the indexer (`for_update`) still reuses its vectors.
        """
        index_dir = Path(index_dir)
        for attempt in range(3):
            stamp = manifest_stamp(index_dir)
            try:
                store = cls._open(index_dir)
                tokenizer = (store.manifest.get("keyword") or {}).get("tokenizer")
                if tokenizer != TOKENIZER and not for_update:
                    store.close()
                    raise IndexMismatchError(f"index at {index_dir} was built with keyword tokenizer {tokenizer}, "
                                             f"this assistant uses {TOKENIZER}: {REBUILD_HINT.format(index=index_dir)}")
                if not for_update:
                    _one_search_thread()
                return store
            except IndexCorruptError:
                if attempt == 2 or manifest_stamp(index_dir) == stamp:
                    raise
        raise AssertionError("unreachable")

    @classmethod
    def _open(cls, index_dir: Path) -> LocalStore:
        manifest = read_manifest(index_dir)
        check_files(index_dir, manifest)
        segments: list[Segment] = []
        live: list[np.ndarray | None] = []
        try:
            for meta in manifest["segments"]:
                segment = Segment(index_dir / meta["name"])
                segments.append(segment)
                if len(segment) != meta.get("chunks"):
                    raise ValueError(f"segment {meta['name']} holds {len(segment)} chunks, "
                                     f"the manifest says {meta.get('chunks')}")
                deleted = meta.get("deleted") or []
                mask = None
                if deleted:
                    mask = np.ones(len(segment), dtype=bool)
                    mask[segment.seqs_of_sources(deleted)] = False
                live.append(mask)
        except Exception as exc:  # a file that passed its edge checks but cannot be read
            for segment in segments:
                segment.close()
            raise IndexCorruptError(f"index at {index_dir} cannot be read ({exc.__class__.__name__}: {exc}): "
                                    f"{REBUILD_HINT.format(index=index_dir)}") from exc
        return cls(index_dir, manifest, segments, live)

    def close(self) -> None:
        for segment in self.segments:
            segment.close()

    def stamp(self) -> tuple[int, int] | None:
        """The manifest file's (inode, mtime): a commit replaces it."""
        return manifest_stamp(self.index_dir)

    def __len__(self) -> int:
        return self._count

    # --- addressing -----------------------------------------------------------------------

    def _remember(self, i: int, seqs: np.ndarray) -> list[int]:
        ids = [int(x) for x in np.asarray(self.segments[i].ids[np.asarray(seqs, dtype=np.int64)])]
        with self._where_lock:
            for chunk, seq in zip(ids, seqs):
                self._where[chunk] = (i, int(seq))
                self._where.move_to_end(chunk)
            while len(self._where) > _CACHE:
                self._where.popitem(last=False)
        return ids

    def _locate(self, ids: Sequence[int]) -> dict[int, tuple[int, int]]:
        """id -> (segment, position) for the live chunks among ids."""
        with self._where_lock:
            found = {i: self._where[i] for i in ids if i in self._where}
        missing = [i for i in ids if i not in found]
        for s, segment in enumerate(self.segments):
            if not missing:
                break
            for chunk, seq in segment.seqs_of(missing).items():
                if self.live[s] is None or self.live[s][seq]:
                    found[chunk] = (s, seq)
            missing = [i for i in missing if i not in found]
        return found

    def _by_segment(self, ids: Sequence[int]) -> dict[int, list[tuple[int, int]]]:
        grouped: dict[int, list[tuple[int, int]]] = {}
        for chunk, (s, seq) in self._locate(list(ids)).items():
            grouped.setdefault(s, []).append((chunk, seq))
        return grouped

    # --- search ---------------------------------------------------------------------------

    def dense(self, vector: np.ndarray, k: int, allowed: Allowed | None = None) -> list[tuple[int, float]]:
        found: list[tuple[int, float]] = []
        rows = None if allowed is None else self.collection_rows.rows(allowed)
        for i, segment in enumerate(self.segments):
            if rows is None:
                exclude = None if self.live[i] is None else ~self.live[i]
                seqs, scores = segment.dense.search(vector, k, exclude)
            else:
                seqs, scores = search_within(segment, vector, k, rows[i] if self.live[i] is None else rows[i] & self.live[i])
            found += zip(self._remember(i, seqs), map(float, scores))
        return sorted(found, key=lambda pair: -pair[1])[:k]

    def keyword(self, terms: dict[str, float], k: int, ids: Sequence[int] = (),
                allowed: Allowed | None = None) -> tuple[list[tuple[int, float]], np.ndarray]:
        per_segment = self.keyword_for(allowed).matches(terms)
        found: list[tuple[int, float]] = []
        for i, (docs, values) in enumerate(per_segment):
            top = top_positions(values, k)
            found += zip(self._remember(i, docs[top]), map(float, values[top]))
        found.sort(key=lambda pair: -pair[1])
        of_ids = np.zeros(len(ids), dtype=np.float32)
        where = self._locate(list(ids))
        for n, chunk in enumerate(ids):
            if chunk in where:
                s, seq = where[chunk]
                docs, values = per_segment[s]
                at = int(np.searchsorted(docs, seq))
                if at < len(docs) and docs[at] == seq:
                    of_ids[n] = values[at]
        return found[:k], of_ids

    # --- fetching -------------------------------------------------------------------------

    def vectors(self, ids: Sequence[int]) -> np.ndarray:
        out = np.zeros((len(ids), DIMENSION), dtype=np.float32)
        position = {chunk: n for n, chunk in enumerate(ids)}
        for s, pairs in self._by_segment(ids).items():
            vectors = self.segments[s].dense.reconstruct(np.array([seq for _, seq in pairs], dtype=np.int64))
            for (chunk, _), vector in zip(pairs, vectors):
                out[position[chunk]] = vector
        return out

    def _chunk_rows(self, ids: Sequence[int]) -> dict[int, tuple[int, Chunk, int]]:
        """id -> (segment, chunk, first sentence row)."""
        out = {}
        for s, pairs in self._by_segment(ids).items():
            rows = self.segments[s].chunks([seq for _, seq in pairs])
            for chunk_id, seq in pairs:
                if seq in rows:
                    out[chunk_id] = (s, *rows[seq])
        return out

    def chunks(self, ids: Sequence[int]) -> dict[int, Chunk]:
        return {i: chunk for i, (_, chunk, _) in self._chunk_rows(ids).items()}

    def sentences(self, ids: Sequence[int]) -> dict[int, tuple[list[tuple[int, int]], np.ndarray]]:
        return {i: (list(chunk.sentences), self.segments[s].sentence_vectors(lo, len(chunk.sentences)))
                for i, (s, chunk, lo) in self._chunk_rows(ids).items()}

    def _segment_of(self, source: str) -> int | None:
        for s in range(len(self.segments) - 1, -1, -1):  # newest first: a replaced file lives in a later segment
            if source not in self._deleted[s] and self.segments[s].has(source):
                return s
        return None

    def chunks_of(self, source: str) -> list[tuple[int, Chunk]]:
        s = self._segment_of(source)
        if s is None:
            return []
        rows = self.segments[s].chunks_of_source(source)
        return [(int(self.segments[s].ids[seq]), chunk) for seq, chunk, _ in rows]

    def document(self, source: str) -> Document | None:
        s = self._segment_of(source)
        return None if s is None else self.segments[s].document(source)

    def text(self, source: str) -> str | None:
        s = self._segment_of(source)
        return None if s is None else self.segments[s].text(source)

    def file_stats(self) -> dict[str, tuple[str, int, int]]:
        """source -> (sha256, size, mtime_ns) of every live document as its file was when read (-1: unknown)."""
        found = {}
        for s, segment in enumerate(self.segments):
            for source, sha256, size, mtime in segment.file_stats():
                if source not in self._deleted[s]:
                    found[source] = (sha256, -1 if size is None else size, -1 if mtime is None else mtime)
        return found

    def vectors_by_content(self, sources: list[str] | None) -> VectorsByContent:
        """The stored vectors of these documents' chunks and sentences (all when None), by content key."""
        return SegmentVectors(self, sources)

    def sources(self) -> list[SourceInfo]:
        found = {}
        for s, segment in enumerate(self.segments):
            for source, sha256, title, chunks, chars in segment.sources():
                if source not in self._deleted[s]:
                    found[source] = SourceInfo(source, title, chunks, chars, sha256)
        return [found[s] for s in sorted(found)]


def search_within(segment: Segment, vector: np.ndarray, k: int, keep: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A segment's top k among the `keep` rows, by an ID selector inside FAISS. The exact index
    scans every kept row; an IVF index scans only `nprobe` lists, which may hold fewer than k kept
    rows when they are few, so it probes four times as many lists until it has k or has scanned all."""
    wanted = min(k, int(keep.sum()))
    if wanted == 0:
        return np.empty(0, np.int64), np.empty(0, np.float32)
    dense = segment.dense
    nprobe = int(dense.index.nprobe) if dense.kind.startswith("ivf") else None
    while True:
        seqs, scores = dense.search(vector, k, ~keep, nprobe=nprobe)
        if nprobe is None or len(seqs) >= wanted or nprobe >= int(dense.index.nlist):
            return seqs, scores
        nprobe = min(4 * nprobe, int(dense.index.nlist))


class SegmentVectors(VectorsByContent):
    """Vectors of the local store by content key: places are (segment, position) for chunk vectors
    (read back from the dense index) and (segment, row) for sentence codes (copied as stored).
    `sources` limits the search to those documents' chunks (None: every chunk, after the chunking
    fingerprint changed)."""

    def __init__(self, base: LocalStore, sources: list[str] | None) -> None:
        super().__init__()
        self.base = base
        columns = "SELECT seq, vec_key, sent_lo, sentences FROM chunks"
        for s, segment in enumerate(base.segments):
            live = base.live[s]
            rows = (segment.query(columns) if sources is None
                    else segment.query_in(f"{columns} WHERE source IN (?*)", sources))
            for seq, key, sent_lo, spans in rows:
                if live is not None and not live[seq]:
                    continue
                self.chunks[key] = (s, seq)
                for row in range(sent_lo, sent_lo + len(json.loads(spans))):
                    self.sentences[int(segment.sentence_keys[row])] = (s, row)

    def _chunk_vectors(self, places: list[tuple[int, int]]) -> np.ndarray:
        out = np.zeros((len(places), DIMENSION), dtype=np.float32)
        for s, picks in _by_first(places).items():  # one reconstruct call per segment
            out[picks] = self.base.segments[s].dense.reconstruct(np.array([places[n][1] for n in picks]))
        return out

    def _sentence_codes(self, places: list[tuple[int, int]]) -> tuple[np.ndarray, np.ndarray]:
        codes = np.zeros((len(places), DIMENSION), dtype=np.int8)
        scales = np.ones(len(places), dtype=np.float32)
        for s, picks in _by_first(places).items():
            rows = np.array([places[n][1] for n in picks], dtype=np.int64)
            codes[picks] = self.base.segments[s].sentence_codes[rows]
            scales[picks] = self.base.segments[s].sentence_scales[rows]
        return codes, scales


def _by_first(places: list[tuple[int, int]]) -> dict[int, list[int]]:
    """Positions in `places` grouped by their first element (the segment)."""
    grouped: dict[int, list[int]] = {}
    for n, (s, _) in enumerate(places):
        grouped.setdefault(s, []).append(n)
    return grouped


def verify(index_dir: Path) -> dict:
    """Read every byte of the committed index against its checksums and check each segment's
    table and arrays: what `assistant verify` and the app's background check run. Returns counts."""
    index_dir = Path(index_dir)
    manifest = read_manifest(index_dir)
    check_files(index_dir, manifest, full=True)
    store = LocalStore.open(index_dir, for_update=True)
    try:
        for segment in store.segments:
            [(result,)] = segment.query("PRAGMA quick_check")
            if result != "ok":
                raise IndexCorruptError(f"index file {segment.folder / 'table.sqlite'} is corrupt ({result}): "
                                        f"{REBUILD_HINT.format(index=index_dir)}")
        return {"segments": len(store.segments), "files": len(manifest["files"]),
                "bytes": sum(meta["bytes"] for meta in manifest["files"].values()), "chunks": len(store),
                "documents": len(store.sources())}
    finally:
        store.close()
