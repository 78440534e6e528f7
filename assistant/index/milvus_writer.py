"""Writing a Milvus store (assistant/index/milvus.py has the layout): one commit with LocalWriter's shape."""

from __future__ import annotations

import base64
import json
import time
from collections import Counter
from dataclasses import dataclass

import numpy as np

from ..embed.base import DIMENSION
from ..errors import AssistantError
from ..text import tokenize
from .keys import MANIFEST_KEY, chunk_blob_key, doc_key, nth_key
from .milvus import (
    BATCH,
    FORMAT,
    FORMAT_VERSION,
    HNSW,
    MIN_EF,
    PART_CHARS,
    MilvusLocation,
    MilvusStore,
    chunk_body,
    connect,
    id_list,
    scan,
    text_parts,
)
from .milvus_keyword import FIELD, KeywordStats, TermBook, recount, stats_dict, supports_sparse, weights
from .segment import SegmentData
from .spill import each_row, spill_folder


def create_collections(client, name: str) -> tuple[bool, bool]:
    """The three collections with their indexes (loaded), unless they exist. Returns (sparse, new):
    whether the chunks keep BM25 weights in a sparse field (a new collection on Milvus 2.4+ or Lite,
    milvus_keyword.py), and whether this call made the chunks collection (a first build's commit)."""
    from pymilvus import DataType, MilvusClient

    def make(suffix: str, fields: list[tuple], vector: tuple[str, int, str, dict], sparse: bool = False) -> None:
        full = f"{name}{suffix}"
        if client.has_collection(full):
            client.load_collection(full)
            return
        schema = MilvusClient.create_schema(auto_id=False, enable_dynamic_field=False)
        for field_name, dtype, extra in fields:
            schema.add_field(field_name, dtype, **extra)
        field_name, dim, index_type, params = vector
        schema.add_field(field_name, DataType.FLOAT_VECTOR, dim=dim)
        index = client.prepare_index_params()
        index.add_index(field_name=field_name, index_type=index_type, metric_type="IP", params=params)
        if sparse:
            schema.add_field(FIELD, DataType.SPARSE_FLOAT_VECTOR)
            index.add_index(field_name=FIELD, index_type="SPARSE_INVERTED_INDEX", metric_type="IP")
        client.create_collection(full, schema=schema, index_params=index, consistency_level="Strong")

    text = {"max_length": 65_535}
    new = not client.has_collection(name)
    make("", [("id", DataType.INT64, {"is_primary": True}), ("doc", DataType.INT64, {}), ("gen", DataType.INT64, {}),
              ("vec_key", DataType.INT64, {}), ("body", DataType.VARCHAR, text)],
         ("vector", DIMENSION, "HNSW", HNSW), sparse=new and supports_sparse(client))
    make("_sentences", [("pk", DataType.INT64, {"is_primary": True}), ("chunk", DataType.INT64, {}),
                        ("doc", DataType.INT64, {}), ("gen", DataType.INT64, {}), ("n", DataType.INT32, {}),
                        ("key", DataType.INT64, {}), ("scale", DataType.FLOAT, {}),
                        ("codes", DataType.VARCHAR, {"max_length": 1024})],
         ("unused", 2, "FLAT", {}))  # Milvus wants a vector field in every collection
    make("_blobs", [("pk", DataType.INT64, {"is_primary": True}), ("key", DataType.INT64, {}),
                    ("doc", DataType.INT64, {}), ("gen", DataType.INT64, {}), ("kind", DataType.VARCHAR, {"max_length": 16}),
                    ("part", DataType.INT32, {}), ("parts", DataType.INT32, {}), ("info", DataType.VARCHAR, text),
                    ("body", DataType.VARCHAR, text)],
         ("unused", 2, "FLAT", {}))
    return any(f["name"] == FIELD for f in client.describe_collection(name)["fields"]), new


class MilvusWriter:
    """One commit to a Milvus store, with LocalWriter's shape: delete(sources), add(data), commit(fields).

    Milvus has no transaction over several collections, so a commit writes in an order that a
    crash at any point leaves something the next `assistant index` repairs: new chunks and
    sentences first, then the old rows of changed and removed documents, then the documents
    (whose SHA-256 tells the indexer the file is done), the manifest last. Rows carry the commit's
    generation, so "old rows" are those of an earlier one. A reader during a commit can see a
    changed document's old and new chunks side by side for a moment.
    """

    def __init__(self, location: MilvusLocation, base: MilvusStore | None) -> None:
        self.location, self.base = location, base
        self.name = location.collection
        self._deleted: list[str] = []
        self._pending: SegmentData | None = None

    def delete(self, sources) -> None:
        self._deleted.extend(sources)

    def spill(self):
        """A scratch folder in the system's temporary folder (TMPDIR) for this commit's vectors."""
        return spill_folder(None, self.location)

    def add(self, data: SegmentData) -> None:
        if self._pending is not None:
            raise ValueError("one batch of documents per commit")
        self._pending = data

    def commit(self, fields: dict) -> dict:
        client = connect(self.location)
        try:
            return self._commit(client, fields)
        except AssistantError:
            raise
        except Exception as exc:
            raise AssistantError(f"could not write the index at {self.location} ({exc.__class__.__name__}: "
                                 f"{str(exc)[:200]}); run the same command again to finish it") from exc
        finally:
            client.close()

    def _commit(self, client, fields: dict) -> dict:
        sparse, new = create_collections(client, self.name)
        gen = int((self.base.manifest if self.base is not None else {}).get("generation", 0)) + 1
        data = self._pending
        documents = data.documents if data is not None else []
        # Rows of earlier generations to remove: none in collections this commit made (a first build
        # skips the deletes and counts, each a scan of the collection in Milvus Lite).
        stale = [] if new else [doc_key(s) for s in dict.fromkeys([*self._deleted, *(d.source for d in documents)])]
        keyword = self._keyword(client, gen, stale, fields, new) if sparse else None
        out = Upserts(client, insert=new)
        row = 0
        # The vectors may be on disk (a build's spill): read in batches, in the order they are sent.
        vector_rows = each_row(data.vectors) if data is not None else iter(())
        code_rows = each_row(data.sentence_codes) if data is not None else iter(())
        for n, chunk in enumerate(data.chunks if data is not None else []):
            chunk_id, doc = int(data.ids[n]), doc_key(chunk.source)
            body = json.dumps(chunk.to_dict(), ensure_ascii=False)
            if len(body) > PART_CHARS * 4 or len(body.encode("utf-8")) > 65_535:  # rare: kept as a blob instead
                for blob in _blob_rows(chunk_blob_key(chunk_id), doc, gen, "chunk", body, ""):
                    out.add(f"{self.name}_blobs", blob)
                body = ""
            chunk_row = {"id": chunk_id, "doc": doc, "gen": gen, "vec_key": int(data.vec_keys[n]), "body": body,
                         "vector": np.asarray(next(vector_rows), dtype=np.float32).tolist()}
            if keyword is not None:
                chunk_row[FIELD] = weights(keyword.tokens(n), keyword.ids, keyword.stats.avgdl_ref, **keyword.settings)
            out.add(self.name, chunk_row)
            for s in range(len(chunk.sentences)):
                out.add(f"{self.name}_sentences", {
                    "pk": nth_key(chunk_id, s), "chunk": chunk_id, "doc": doc, "gen": gen, "n": s,
                    "key": int(data.sentence_keys[row]), "scale": float(data.sentence_scales[row]),
                    "codes": base64.b64encode(next(code_rows).astype(np.int8).tobytes()).decode(), "unused": [0.0, 0.0]})
                row += 1
        out.flush()
        for lo in range(0, len(stale), 500):
            where = f"doc in {id_list(stale[lo:lo + 500])} and gen < {gen}"
            client.delete(self.name, filter=where)
            client.delete(f"{self.name}_sentences", filter=where)
            client.delete(f"{self.name}_blobs", filter=where + ' and kind == "chunk"')
        per_doc = {}
        for chunk in data.chunks if data is not None else []:
            per_doc[chunk.source] = per_doc.get(chunk.source, 0) + 1
        doc_rows = []
        for document in documents:
            info = json.dumps({"source": document.source, "title": document.title, "chunks": per_doc.get(document.source, 0),
                               "chars": len(document.text), "sha256": document.sha256}, ensure_ascii=False)
            doc_rows += _blob_rows(doc_key(document.source), doc_key(document.source), gen, "doc",
                                   json.dumps(document.to_row(), ensure_ascii=False), info)
        for lo in range(0, len(doc_rows), BATCH // 8):
            out.send(f"{self.name}_blobs", doc_rows[lo:lo + BATCH // 8])
        for lo in range(0, len(stale), 500):
            client.delete(f"{self.name}_blobs", filter=f"doc in {id_list(stale[lo:lo + 500])} and gen < {gen}")
        if keyword is not None and keyword.recount:
            keyword.stats = recount(client, self.name, gen, lambda row: chunk_body(client, self.name, row)["search_text"],
                                    **keyword.settings)
        written = {"documents": len(documents), "chunks": sum(per_doc.values()), "sentences": row}
        manifest = self._manifest(client, fields, gen, written if new else None)
        if keyword is not None:
            manifest["keyword_stats"] = stats_dict(keyword.stats)
        client.upsert(f"{self.name}_blobs", _blob_rows(MANIFEST_KEY, 0, gen, "manifest", json.dumps(manifest), ""))
        if not new:
            client.delete(f"{self.name}_blobs", filter=f"key == {MANIFEST_KEY} and gen < {gen}")
        for suffix in ("", "_sentences", "_blobs"):  # sealed segments get their indexes: Lite searches
            client.flush(f"{self.name}{suffix}")     # unflushed rows by brute force in Python (40x slower)
        return manifest

    def _keyword(self, client, gen: int, stale: list[int], fields: dict, new: bool) -> KeywordUpdate:
        """This commit's BM25 statistics and term rows (written now, before the chunks that use them).

        Removed chunks are read back for their tokens while they still exist. A commit run again
        after an interrupted one (rows of this generation already there) cannot tell which counts
        it already applied, and a mean length past DRIFT invalidates every weight: both recount.
        """
        settings = {k: v for k, v in (fields.get("keyword") or {}).items() if k in ("k1", "b")}
        data = self._pending
        tokens = TokensOf(data)
        stats = KeywordStats.of(self.base.manifest if self.base is not None else None) or KeywordStats()
        again = not new and bool(client.query(self.name, filter=f"gen == {gen}", output_fields=["id"], limit=1))
        df: Counter = Counter()
        for lo in range(0, len(stale), 500):
            for row in scan(client, self.name, f"doc in {id_list(stale[lo:lo + 500])} and gen < {gen}", ["id", "body"]):
                gone = tokenize(chunk_body(client, self.name, row)["search_text"])
                df.subtract(set(gone))
                stats.n_docs -= 1
                stats.total_length -= len(gone)
        for chunk_tokens in map(tokens, range(tokens.n)):  # made again when sent: not held for every chunk
            df.update(set(chunk_tokens))
            stats.n_docs += 1
            stats.total_length += len(chunk_tokens)
        if stats.avgdl_ref <= 0:  # a first build: its weights use its own mean
            stats.avgdl_ref = stats.avgdl
        book = TermBook(client, self.name)
        known = book.fetch(list(df))
        book.write({t: max(0, (known[t][1] if t in known else 0) + change) for t, change in df.items() if change
                    or t not in known}, gen, stats, insert=new)
        return KeywordUpdate(tokens, book.ids(), stats, settings, again or stats.drifted())

    def _manifest(self, client, fields: dict, gen: int, counts: dict | None = None) -> dict:
        """The manifest; `counts` when known (a first build's rows), else counted in Milvus."""
        def count(collection: str, where: str) -> int:
            return int(client.query(collection, filter=where, output_fields=["count(*)"])[0]["count(*)"])

        counts = counts or {"documents": count(f"{self.name}_blobs", 'kind == "doc" and part == 0'),
                            "chunks": count(self.name, "id >= 0"),
                            "sentences": count(f"{self.name}_sentences", "pk >= 0")}
        return {"format": FORMAT, "format_version": FORMAT_VERSION, "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                **fields, "generation": gen, "store": str(self.location),
                "dense": {"index": "HNSW", **HNSW, "ef": MIN_EF, "metric": "IP"},
                "counts": {**counts, **fields.get("counts", {})}}


class Upserts:
    """Rows sent in batches of BATCH per collection as they are made: a commit's memory is one
    batch of rows (Python lists of floats are ~10 kB a chunk), not the whole corpus's.

    With `insert` (collections this commit created: no row can exist yet) rows are inserted:
    an upsert makes Milvus Lite look each primary key up in every segment first, which made a
    first build's writes slow down as the collection grew. A commit run again after a crash finds
    the collections there and upserts, so rows it already wrote are replaced, not doubled.
    """

    def __init__(self, client, insert: bool = False) -> None:
        self.client, self.pending, self.insert = client, {}, insert

    def send(self, collection: str, rows: list[dict]) -> None:
        (self.client.insert if self.insert else self.client.upsert)(collection, rows)

    def add(self, collection: str, row: dict) -> None:
        rows = self.pending.setdefault(collection, [])
        rows.append(row)
        if len(rows) >= BATCH:
            self.send(collection, rows)
            rows.clear()

    def flush(self) -> None:
        for collection, rows in self.pending.items():
            if rows:
                self.send(collection, rows)
            rows.clear()


class TokensOf:
    """The keyword tokens of chunk n of a commit, given or made from its search text when asked."""

    def __init__(self, data: SegmentData | None) -> None:
        self.data, self.n = data, len(data.chunks) if data is not None else 0

    def __call__(self, n: int) -> list[str]:
        given = self.data.token_lists
        return given[n] if given is not None else tokenize(self.data.chunks[n].search_text)


@dataclass
class KeywordUpdate:
    """One commit's keyword side: each new chunk's tokens, term dimensions, statistics, whether to recount."""

    tokens: TokensOf
    ids: dict[str, int]
    stats: KeywordStats
    settings: dict
    recount: bool


def _blob_rows(key: int, doc: int, gen: int, kind: str, text: str, info: str) -> list[dict]:
    parts = text_parts(text)
    return [{"pk": nth_key(key, n), "key": key, "doc": doc, "gen": gen, "kind": kind, "part": n, "parts": len(parts),
             "info": info if n == 0 else "", "body": body, "unused": [0.0, 0.0]} for n, body in enumerate(parts)]
