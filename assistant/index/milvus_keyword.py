"""Keyword search inside Milvus: the project's own BM25 as sparse vectors, so opening reads no passage.

Each chunk row holds its BM25 document-side weights, tf·(k1+1)/(tf+k1·(1−b+b·dl/avgdl)), in a
SPARSE_FLOAT_VECTOR field (`terms`, inverted index, inner product) over the project's tokens
(text.tokenize: the stemmer and rules of the local store); a question is sent as its idf-weighted
vector, so Milvus's inner product is exactly the local store's BM25 sum. The statistics live in
the blobs collection: one `term` row per token (its sparse dimension and document frequency,
read by primary key for a question's terms only) and, in the manifest, the chunk count, the total
length and `avgdl_ref`, the mean length the stored weights were computed with.

Why a reference mean: every commit moves the true mean a little, and rewriting every row each
time would cost a full pass. Rows keep the reference mean until the true one drifts more than
DRIFT from it; then (and after a commit that was interrupted and run again, whose counts cannot
be trusted) the writer recounts everything in one streaming pass and rewrites the weights, so
scores are the local store's exactly after a first build or a recount and within DRIFT of them
in between. Milvus before 2.4 has no sparse vectors: there the store keeps the in-memory BM25.
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass

import numpy as np

from ..text import tokenize
from .bm25 import K1, B
from .keys import int63

FIELD = "terms"
DRIFT = 0.02  # the true mean chunk length may move this far from the weights' before a recount
_LOOKUP = 1000  # term rows per get
NO_TERMS = 2**32 - 2  # the one dimension of a chunk without tokens (Milvus refuses an empty sparse
#                       vector); no term gets it, so no question scores it


def supports_sparse(client) -> bool:
    """Sparse vectors exist in Milvus 2.4 and later, and in Milvus Lite 3 ("milvus_lite-3.2.2"; the
    `milvus` wheel's standalone server says "v2.3.5-lite" and has none)."""
    version = str(client.get_server_version())
    if version.lower().startswith("milvus_lite"):
        return True
    found = re.search(r"(\d+)\.(\d+)", version)
    return bool(found) and (int(found.group(1)), int(found.group(2))) >= (2, 4)


def term_key(term: str) -> int:
    return int63(f"term\0{term}")


@dataclass
class KeywordStats:
    """What BM25 needs of the whole collection, kept in the manifest as `keyword_stats`."""

    n_docs: int = 0
    total_length: int = 0
    avgdl_ref: float = 0.0  # the mean length the stored weights use
    next_term: int = 0  # the next free sparse dimension
    where: str = "milvus"

    @property
    def avgdl(self) -> float:
        return self.total_length / self.n_docs if self.n_docs and self.total_length > 0 else 1.0

    def drifted(self) -> bool:
        return self.avgdl_ref <= 0 or abs(self.avgdl / self.avgdl_ref - 1) > DRIFT

    @classmethod
    def of(cls, manifest: dict | None) -> KeywordStats | None:
        found = (manifest or {}).get("keyword_stats")
        return cls(**found) if isinstance(found, dict) and found.get("where") == "milvus" else None


def weights(tokens: Sequence[str], ids: dict[str, int], avgdl: float, k1: float = K1, b: float = B) -> dict[int, float]:
    """A chunk's sparse vector: BM25's document side per term, as the local store computes it."""
    norm = k1 * (1 - b + b * len(tokens) / avgdl)
    return {ids[t]: float(np.float32(tf * (k1 + 1) / (tf + norm))) for t, tf in Counter(tokens).items()
            if ids.get(t) is not None} or {NO_TERMS: 1.0}


class TermBook:
    """The term rows of a collection: token -> (sparse dimension, document frequency)."""

    def __init__(self, client, name: str) -> None:
        self.client, self.blobs = client, f"{name}_blobs"
        self.rows: dict[str, tuple[int, int]] = {}

    def fetch(self, terms: Iterable[str]) -> dict[str, tuple[int, int]]:
        wanted = [t for t in dict.fromkeys(terms) if t not in self.rows]
        for lo in range(0, len(wanted), _LOOKUP):
            part = wanted[lo:lo + _LOOKUP]
            for row in self.client.get(self.blobs, ids=[term_key(t) for t in part], output_fields=["body"]):
                body = json.loads(row["body"])
                self.rows[body["t"]] = (int(body["id"]), int(body["df"]))
        return {t: self.rows[t] for t in terms if t in self.rows}

    def ids(self) -> dict[str, int]:
        return {t: i for t, (i, _) in self.rows.items()}

    def write(self, counts: dict[str, int], gen: int, stats: KeywordStats, insert: bool = False) -> None:
        """Set these terms' document frequencies (new terms get the next dimensions); `insert` when
        the collection is new (milvus_writer.Upserts says why)."""
        rows = []
        for term, df in counts.items():
            if term not in self.rows:
                self.rows[term] = (stats.next_term, 0)
                stats.next_term += 1
            self.rows[term] = (self.rows[term][0], df)
            key = term_key(term)
            rows.append({"pk": key, "key": key, "doc": 0, "gen": gen, "kind": "term", "part": 0, "parts": 1, "info": "",
                         "body": json.dumps({"t": term, "id": self.rows[term][0], "df": df}, ensure_ascii=False),
                         "unused": [0.0, 0.0]})
        for lo in range(0, len(rows), 1000):
            (self.client.insert if insert else self.client.upsert)(self.blobs, rows[lo:lo + 1000])


class SparseKeyword:
    """The read side: BM25 rarity, bounds and top-k from the collection (nothing held but a term cache)."""

    def __init__(self, client, name: str, stats: KeywordStats, k1: float = K1, b: float = B) -> None:
        self.client, self.name, self.stats, self.k1, self.b = client, name, stats, k1, b
        self.book = TermBook(client, name)

    def _idf(self, df: int) -> float:
        n = self.stats.n_docs
        return math.log(1 + (n - df + 0.5) / (df + 0.5))

    def _found(self, terms: Sequence[str]) -> dict[str, tuple[int, int]]:
        if len(self.book.rows) > 100_000:  # a cache, not a copy of the vocabulary
            self.book.rows.clear()
        return {t: v for t, v in self.book.fetch(terms).items() if v[1] > 0}

    def idfs(self, terms: Sequence[str]) -> dict[str, float]:
        found = self._found(terms)
        return {t: self._idf(found[t][1] if t in found else 0) for t in terms}

    def known(self, terms: Sequence[str]) -> set[str]:
        return set(self._found(terms))

    def ideal_score(self, terms: dict[str, float]) -> float:
        idfs = self.idfs(list(terms))
        return sum(w * idfs[t] * (self.k1 + 1) for t, w in terms.items())

    def search(self, terms: dict[str, float], k: int, ids: Sequence[int] = ()) -> tuple[list[tuple[int, float]], np.ndarray]:
        found = self._found(list(terms))
        query = {found[t][0]: float(np.float32(w * self._idf(found[t][1]))) for t, w in terms.items() if t in found}
        if not query:
            return [], np.zeros(len(ids), dtype=np.float32)
        hits = self.client.search(self.name, data=[query], anns_field=FIELD, limit=k, output_fields=[],
                                  search_params={"metric_type": "IP", "params": {"drop_ratio_search": 0.0}})[0]
        top = sorted(((int(h["id"]), float(h["distance"])) for h in hits if float(h["distance"]) > 0),
                     key=lambda pair: -pair[1])
        scores = np.zeros(len(ids), dtype=np.float32)
        if len(ids):
            rows = {int(r["id"]): r[FIELD] for r in self.client.get(self.name, ids=[int(i) for i in ids],
                                                                     output_fields=[FIELD])}
            for n, i in enumerate(ids):
                vector = rows.get(int(i)) or {}
                scores[n] = np.float32(sum(np.float32(v) * vector.get(d, 0.0) for d, v in query.items()))
        return top, scores


def pages(client, collection: str, where: str, fields: list[str], size: int = 1000) -> Iterator[list[dict]]:
    """Rows matching `where`, a page at a time (memory bounded by the page, not the collection)."""
    iterator = client.query_iterator(collection, batch_size=size, filter=where, output_fields=fields)
    try:
        while page := iterator.next():
            yield page
    finally:
        iterator.close()


def recount(client, name: str, gen: int, search_text, k1: float = K1, b: float = B) -> KeywordStats:
    """Count every statistic again from the chunks and rewrite every weight: two streaming passes.

    `search_text(row)` gives a chunk row's search text. Memory holds the vocabulary, not the chunks.
    """
    book = TermBook(client, name)
    for page in pages(client, f"{name}_blobs", 'kind == "term"', ["body"]):
        for row in page:
            body = json.loads(row["body"])
            book.rows[body["t"]] = (int(body["id"]), int(body["df"]))
    stats = KeywordStats(next_term=max((i for i, _ in book.rows.values()), default=-1) + 1)
    df: Counter = Counter()
    for page in pages(client, name, "id >= 0", ["id", "body"]):
        for row in page:
            tokens = tokenize(search_text(row))
            df.update(set(tokens))
            stats.n_docs += 1
            stats.total_length += len(tokens)
    stats.avgdl_ref = stats.avgdl
    book.write({t: df.get(t, 0) for t in dict.fromkeys([*book.rows, *df])}, gen, stats)
    ids = book.ids()
    for page in pages(client, name, "id >= 0", ["*"]):
        for row in page:
            row[FIELD] = weights(tokenize(search_text(row)), ids, stats.avgdl_ref, k1, b)
        client.upsert(name, page)
    return stats


def stats_dict(stats: KeywordStats) -> dict:
    return asdict(stats)
