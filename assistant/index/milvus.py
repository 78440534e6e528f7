"""The Milvus store: the index in three Milvus collections, for a cluster or Milvus Lite on one machine.

- `NAME`: one row per chunk: stable id, the document's 63-bit key, the commit generation, the
  content key of its embedded text, its vector (HNSW, inner product) and its fields as JSON
  (title, section, start/end, line, page, sentence spans, text, search text).
- `NAME_sentences`: one row per answer sentence: chunk id, position, content key and the int8
  code with its scale (the same bytes the local store keeps, so answers and pages are the same).
- `NAME_blobs`: documents (clean text, title, blocks, pages) and the manifest as JSON, split into
  parts that fit a VARCHAR; part 0 of a document carries its summary for `sources`.

Keyword search is the project's own BM25 (bm25.py), kept inside Milvus as sparse vectors
(milvus_keyword.py: the chunks' `terms` field, statistics in the blobs), so opening reads no
passage; on Milvus before 2.4 (no sparse vectors) it is built in memory from every passage when
the store opens. Milvus's own BM25 function keeps its statistics per segment and analyses text
with its own tokenizer, so its scores and rankings differ from the local store's, and answers
must not depend on the store. Every filter is on integers (document keys, ids),
so no user text is ever spliced into a Milvus expression. Writing: assistant/index/milvus_writer.py.
"""

from __future__ import annotations

import base64
import json
import threading
import time
from collections import OrderedDict
from collections.abc import Iterable, Sequence

import numpy as np

from ..config import env
from ..embed.base import DIMENSION, MODEL_NAME
from ..errors import AssistantError, IndexCorruptError, IndexMismatchError, IndexMissingError, StoreUnavailableError
from ..types import Chunk, Document, SourceInfo
from .access import Allowed
from .access_rows import CollectionRows
from .base import KeywordStatistics, VectorsByContent, top_positions
from .bm25 import KeywordPart, KeywordSearch, build_postings, tokenize_all
from .dense import dequantize_rows
from .keys import MANIFEST_KEY, chunk_blob_key, doc_key
from .milvus_keyword import KeywordStats, SparseKeyword
from .milvus_location import MilvusLocation, parse_location  # noqa: F401 (parse_location: stores.py)

FORMAT = "assistant-milvus"
FORMAT_VERSION = 1
HNSW = {"M": 16, "efConstruction": 200}
MIN_EF = 128  # HNSW candidates per search (at least k): exact on small collections, >0.99 recall beyond
PART_CHARS = 16_000  # characters per VARCHAR part: at most 64,000 bytes of UTF-8, under Milvus's 65,535
BATCH = 256  # rows per insert (a chunk row is a few kB)
_MAX_RESULT = 16_384  # Milvus's limit on rows from one query
_CACHE = 4096  # chunks and sentence sets kept by id (an id names one exact passage, so it never goes stale)
STAMP_SECONDS = 1.0  # how often a store asks Milvus whether a commit landed
_DOCUMENTS = 32  # documents kept (a question reads the pages of each cited one)


def connect(location: MilvusLocation):
    """A MilvusClient for the location; a one-line error when pymilvus is missing or Milvus is unreachable."""
    try:
        from pymilvus import MilvusClient
    except ImportError:
        raise StoreUnavailableError("Milvus stores need the cluster extra: pip install 'assistant[cluster]'") from None
    import logging

    logging.getLogger("pymilvus").setLevel(logging.CRITICAL)  # failures become one-line errors here instead
    try:
        # Milvus Lite's gRPC server (in-process, or `milvus-lite server` behind milvus://) keeps gRPC's
        # default ping policy, which answers pymilvus's 10 s keepalive pings on an idle connection (the
        # indexer's, while it embeds) with GOAWAY "too many pings" and a broken connection; a real
        # Milvus allows them, and pings every 5 minutes suit both. A dedicated connection per client
        # keeps one client's broken channel from being handed to the next.
        options = {"grpc.keepalive_time_ms": 300_000, "grpc.keepalive_permit_without_calls": 0}
        return MilvusClient(uri=location.uri, token=env("MILVUS_TOKEN"), timeout=30, dedicated=True,
                            grpc_options=options)
    except Exception as exc:  # pymilvus raises its own exception types, and grpc's
        raise StoreUnavailableError(f"cannot reach Milvus at {location} ({exc.__class__.__name__}: {str(exc)[:200]})") from exc


def id_list(values: Iterable[int]) -> str:
    return "[" + ",".join(str(int(v)) for v in values) + "]"


def text_parts(text: str) -> list[str]:
    return [text[i:i + PART_CHARS] for i in range(0, len(text), PART_CHARS)] or [""]


class MilvusStore(KeywordStatistics):
    """Read side of a Milvus store; safe to share between threads (one client, gRPC underneath)."""

    def __init__(self, location: MilvusLocation, client, manifest: dict) -> None:
        self.location, self.client, self.manifest = location, client, manifest
        self.name = location.collection
        self._count = 0
        self._positions: dict[int, int] = {}
        self._order = np.zeros(0, dtype=np.int64)
        self.keyword_search = KeywordSearch([])
        self._row_sources: list[str] = []  # each keyword row's source, for the collection masks
        self.collection_rows = CollectionRows(lambda: [self._row_sources])
        self.sparse: SparseKeyword | None = None  # BM25 inside Milvus (milvus_keyword.py), when the collection has it
        self._memory_lock = threading.Lock()
        # A question fetches the same rows several times (answer, pages, citations): kept by kind.
        self._caches: dict[str, OrderedDict] = {"chunk": OrderedDict(), "sentences": OrderedDict(), "document": OrderedDict()}
        self._lock = threading.Lock()
        self._stamp: tuple[str, int] | None = ("milvus", int(manifest.get("generation", 0)))
        self._stamp_at = time.monotonic()

    def _cached(self, kind: str, keys: Iterable, fetch) -> dict:
        """kind's values for keys, from its cache or `fetch(missing keys) -> {key: value}`."""
        cache, limit = self._caches[kind], _DOCUMENTS if kind == "document" else _CACHE
        keys = list(dict.fromkeys(keys))
        with self._lock:
            found = {k: cache[k] for k in keys if k in cache}
        missing = [k for k in keys if k not in found]
        if missing:
            fresh = fetch(missing)
            found.update(fresh)
            with self._lock:
                for k, v in fresh.items():
                    cache[k] = v
                    cache.move_to_end(k)
                while len(cache) > limit:
                    cache.popitem(last=False)
        return {k: found[k] for k in keys if k in found}

    @classmethod
    def open(cls, location: MilvusLocation, for_update: bool = False) -> MilvusStore:
        client = connect(location)
        try:
            if not client.has_collection(location.collection):
                raise IndexMissingError(f"no index at {location}: build it with "
                                        f"`assistant index --corpus DIR --store {location}`")
            load(client, location.collection)
            manifest = read_blob(client, location.collection, MANIFEST_KEY)
            if manifest is None:
                raise IndexCorruptError(f"index at {location} has no manifest (an interrupted first build?): "
                                        f"run `assistant index --corpus DIR --store {location}` again")
            manifest = json.loads(manifest)
            if manifest.get("format") != FORMAT or manifest.get("format_version") != FORMAT_VERSION:
                raise IndexMismatchError(f"index at {location} has format {manifest.get('format')} "
                                         f"{manifest.get('format_version')}, this assistant reads {FORMAT} {FORMAT_VERSION}")
            if (manifest.get("model") or {}).get("name") != MODEL_NAME:
                raise IndexMismatchError(f"index at {location} was built with model "
                                         f"{(manifest.get('model') or {}).get('name')}, this assistant uses {MODEL_NAME}")
            store = cls(location, client, manifest)
            stats = KeywordStats.of(manifest)
            if stats is not None:
                settings = {k: v for k, v in (manifest.get("keyword") or {}).items() if k in ("k1", "b")}
                store.sparse = SparseKeyword(client, store.name, stats, **settings)
            elif not for_update:
                store._load_keyword()
            return store
        except AssistantError:
            client.close()
            raise
        except Exception as exc:
            client.close()
            raise StoreUnavailableError(f"cannot read the index at {location} "
                                        f"({exc.__class__.__name__}: {str(exc)[:200]})") from exc

    def _load_keyword(self) -> None:
        """BM25 postings over every chunk's search text, with statistics over the whole collection."""
        ids, texts, sources = [], [], []
        for row in scan(self.client, self.name, "id >= 0", ["id", "body"]):
            ids.append(int(row["id"]))
            texts.append((body := self._body(row))["search_text"])
            sources.append(body["source"])
        order = np.argsort(np.array(ids, dtype=np.int64), kind="stable")
        self._order = np.array(ids, dtype=np.int64)[order]
        self._row_sources = [sources[i] for i in order]
        terms, postings = build_postings(list(tokenize_all(texts[i] for i in order)))
        lookup = {t: i for i, t in enumerate(terms)}
        self._positions = {int(c): n for n, c in enumerate(self._order)}
        self._count = len(ids)
        settings = {k: v for k, v in (self.manifest.get("keyword") or {}).items() if k in ("k1", "b")}
        self.keyword_search = KeywordSearch([KeywordPart(postings, lambda wanted: {t: lookup[t] for t in wanted
                                                                                  if t in lookup})], **settings)

    def _memory(self) -> None:
        """The in-memory BM25 and row sources (every passage read once), for a collection without
        the sparse field and for restricted access (`allowed`), whose statistics come from permitted
        text alone, which collection-wide statistics in Milvus cannot give."""
        if self.sparse is not None and not self._positions:
            with self._memory_lock:
                if not self._positions:
                    self._load_keyword()

    def idfs(self, terms: Sequence[str], allowed: Allowed | None = None) -> dict[str, float]:
        if self.sparse is not None and allowed is None:
            return self.sparse.idfs(terms)
        self._memory()
        return super().idfs(terms, allowed)

    def known(self, terms: Sequence[str], allowed: Allowed | None = None) -> set[str]:
        if self.sparse is not None and allowed is None:
            return self.sparse.known(terms)
        self._memory()
        return super().known(terms, allowed)

    def ideal_score(self, terms: dict[str, float], allowed: Allowed | None = None) -> float:
        if self.sparse is not None and allowed is None:
            return self.sparse.ideal_score(terms)
        self._memory()
        return super().ideal_score(terms, allowed)

    def close(self) -> None:
        self.client.close()

    def stamp(self) -> tuple[str, int] | None:
        """The committed manifest's generation (a commit writes the manifest last), read at most
        once a STAMP_SECONDS: a running app switches that soon after a commit."""
        now = time.monotonic()
        with self._lock:
            if now - self._stamp_at < STAMP_SECONDS:
                return self._stamp
        try:
            rows = self.client.query(f"{self.name}_blobs", filter=f"key == {MANIFEST_KEY} and part == 0",
                                     output_fields=["gen"], limit=1)
            found = ("milvus", int(rows[0]["gen"])) if rows else None
        except Exception:  # unreachable for a moment: keep answering from what is open
            found = None
        with self._lock:
            self._stamp, self._stamp_at = found, now
        return found

    def __len__(self) -> int:
        return self._count if self._positions else int((self.manifest.get("counts") or {}).get("chunks", 0))

    # --- search ---------------------------------------------------------------------------

    def dense(self, vector: np.ndarray, k: int, allowed: Allowed | None = None) -> list[tuple[int, float]]:
        if allowed is not None:
            self._memory()
        permitted = None if allowed is None else self.collection_rows.sources(allowed)  # filtered inside HNSW: k permitted
        if permitted == []:
            return []
        where = {} if permitted is None else {"filter": f"doc in {id_list(sorted(map(doc_key, permitted)))}"}
        found = self.client.search(self.name, data=[np.asarray(vector, dtype=np.float32).tolist()], anns_field="vector",
                                   limit=k, search_params={"metric_type": "IP", "params": {"ef": max(MIN_EF, k)}},
                                   output_fields=[], **where)
        return [(int(hit["id"]), float(hit["distance"])) for hit in found[0]]

    def keyword(self, terms: dict[str, float], k: int, ids: Sequence[int] = (),
                allowed: Allowed | None = None) -> tuple[list[tuple[int, float]], np.ndarray]:
        if self.sparse is not None and allowed is None:
            return self.sparse.search(terms, k, ids)
        self._memory()
        scores = self.keyword_for(allowed).scores(terms)[0] if self.keyword_search.parts else np.zeros(0, np.float32)
        top = top_positions(scores, k)
        found = sorted(((int(self._order[i]), float(scores[i])) for i in top), key=lambda pair: -pair[1])
        of_ids = np.array([scores[self._positions[i]] if i in self._positions else 0.0 for i in ids], dtype=np.float32)
        return found[:k], of_ids

    # --- fetching -------------------------------------------------------------------------

    def _body(self, row: dict) -> dict:
        return chunk_body(self.client, self.name, row)

    def vectors(self, ids: Sequence[int]) -> np.ndarray:
        out = np.zeros((len(ids), DIMENSION), dtype=np.float32)
        if not ids:
            return out
        rows = {int(r["id"]): r["vector"] for r in self.client.get(self.name, ids=[int(i) for i in ids],
                                                                   output_fields=["vector"])}
        for n, i in enumerate(ids):
            if int(i) in rows:
                out[n] = np.asarray(rows[int(i)], dtype=np.float32)
        return out

    def chunks(self, ids: Sequence[int]) -> dict[int, Chunk]:
        def fetch(missing: list[int]) -> dict[int, Chunk]:
            rows = self.client.get(self.name, ids=missing, output_fields=["body"])
            return {int(r["id"]): Chunk.from_row(self._body(r)) for r in rows}

        return self._cached("chunk", (int(i) for i in ids), fetch)

    def sentences(self, ids: Sequence[int]) -> dict[int, tuple[list[tuple[int, int]], np.ndarray]]:
        chunks = self.chunks(ids)

        def fetch(missing: list[int]) -> dict:
            rows = self.client.query(f"{self.name}_sentences", filter=f"chunk in {id_list(missing)}",
                                     output_fields=["chunk", "n", "codes", "scale"], limit=_MAX_RESULT)
            grouped: dict[int, list[dict]] = {}
            for row in rows:
                grouped.setdefault(int(row["chunk"]), []).append(row)
            out = {}
            for i in missing:
                codes, scales = _decode(sorted(grouped.get(i, []), key=lambda r: r["n"]))
                out[i] = (list(chunks[i].sentences), dequantize_rows(codes, scales))
            return out

        return self._cached("sentences", chunks, fetch)

    def chunks_of(self, source: str) -> list[tuple[int, Chunk]]:
        rows = scan(self.client, self.name, f"doc == {doc_key(source)}", ["id", "body"])
        found = [(int(r["id"]), Chunk.from_row(self._body(r))) for r in rows]
        return sorted([pair for pair in found if pair[1].source == source], key=lambda pair: pair[1].start)

    def document(self, source: str) -> Document | None:
        def fetch(missing: list[str]) -> dict[str, Document]:
            text = read_blob(self.client, self.name, doc_key(missing[0]))
            return {} if text is None else {missing[0]: Document.from_row(json.loads(text))}

        return self._cached("document", [source], fetch).get(source)

    def text(self, source: str) -> str | None:
        document = self.document(source)
        return None if document is None else document.text

    def sources(self) -> list[SourceInfo]:
        rows = scan(self.client, f"{self.name}_blobs", 'kind == "doc" and part == 0', ["info"])
        found = [SourceInfo(**json.loads(r["info"])) for r in rows]
        return sorted(found, key=lambda s: s.source)

    def file_stats(self) -> dict[str, tuple[str, int, int]]:
        """source -> (sha256, size, mtime_ns); Milvus rows keep no file times (-1), so every file is read."""
        return {info.source: (info.sha256, -1, -1) for info in self.sources()}

    def vectors_by_content(self, sources: list[str] | None) -> MilvusVectors:
        return MilvusVectors(self, sources)


def _decode(rows: list[dict]) -> tuple[np.ndarray, np.ndarray]:
    codes = np.zeros((len(rows), DIMENSION), dtype=np.int8)
    for n, row in enumerate(rows):
        codes[n] = np.frombuffer(base64.b64decode(row["codes"]), dtype=np.int8)
    return codes, np.array([r["scale"] for r in rows], dtype=np.float32)


class MilvusVectors(VectorsByContent):
    """The stored vectors of some documents' chunks and sentences (all when None), by content key:
    places are the chunk vectors themselves and the sentence rows' codes and scales."""

    def __init__(self, store: MilvusStore, sources: list[str] | None) -> None:
        super().__init__()
        if sources is None:
            filters = ["id >= 0"]
        else:
            keys = [doc_key(s) for s in sources]
            filters = [f"doc in {id_list(keys[i:i + 500])}" for i in range(0, len(keys), 500)]
        for where in filters:
            for row in scan(store.client, store.name, where, ["vec_key", "vector"]):
                self.chunks[int(row["vec_key"])] = np.asarray(row["vector"], dtype=np.float32)
            for row in scan(store.client, f"{store.name}_sentences", where.replace("id >= 0", "pk >= 0"),
                            ["key", "codes", "scale"]):
                self.sentences[int(row["key"])] = row

    def _chunk_vectors(self, places: list[np.ndarray]) -> np.ndarray:
        return np.stack(places)

    def _sentence_codes(self, places: list[dict]) -> tuple[np.ndarray, np.ndarray]:
        return _decode(places)


def chunk_body(client, name: str, row: dict) -> dict:
    """A chunk row's fields (a rare chunk too large for its row is kept as a blob)."""
    body = row["body"] or read_blob(client, name, chunk_blob_key(int(row["id"])))
    return json.loads(body) if isinstance(body, str) else body


def scan(client, collection: str, where: str, fields: list[str]) -> list[dict]:
    """Every row matching `where`, in pages (a single query returns at most 16,384 rows)."""
    iterator = client.query_iterator(collection, batch_size=1000, filter=where, output_fields=fields)
    rows: list[dict] = []
    try:
        while page := iterator.next():
            rows.extend(page)
    finally:
        iterator.close()
    return rows


def read_blob(client, name: str, key: int) -> str | None:
    """A document's or the manifest's JSON, joined from its parts; None when absent."""
    rows = client.query(f"{name}_blobs", filter=f"key == {key}", output_fields=["part", "parts", "body"], limit=_MAX_RESULT)
    if not rows:
        return None
    rows.sort(key=lambda r: r["part"])
    if [r["part"] for r in rows] != list(range(rows[0]["parts"])):
        raise IndexCorruptError(f"index at {name} has a document or manifest with missing parts: rebuild it")
    return "".join(r["body"] for r in rows)


def load(client, name: str) -> None:
    """Load the three collections for searching (a new process finds them released)."""
    for suffix in ("", "_sentences", "_blobs"):
        if not client.has_collection(f"{name}{suffix}"):
            raise IndexCorruptError(f"index at {name} lacks its collection {name}{suffix}: build it again")
        client.load_collection(f"{name}{suffix}")
