"""The store side of collections: which chunk rows each collection holds, and BM25 over only
the rows a caller may read (index/access.py says what a collection is).

A store hands `CollectionRows` the source of each chunk row, per part (a segment, or the Milvus
store's one in-memory part), when the first restricted question comes; it is read once and
answers every later `Allowed` from bool masks. Single-user use (no `Allowed`) never pays for it.
This module is separate from bm25.py on purpose: bm25.py decides chunk output and is hashed
into the chunk fingerprint, and access changes nothing a chunk is made of.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence

import numpy as np

from .access import VIEWS, Allowed, collection_of
from .bm25 import KeywordSearch
from .bounded import Bounded


class KeywordWithin(KeywordSearch):
    """BM25 over only the chunks marked in `rows` (a bool array per part), with every statistic
    (chunk count, mean length, document frequency, known terms) from those chunks alone: it scores
    exactly as an index of only them would, so no score tells anything of the other chunks.
    Deleted chunks still count in the statistics, as in the full search (bm25.py)."""

    def __init__(self, base: KeywordSearch, rows: list[np.ndarray]) -> None:
        super().__init__(base.parts, base.k1, base.b)
        self.rows = [np.asarray(r, dtype=bool) for r in rows]
        self.n_docs = int(sum(int(r.sum()) for r in self.rows))
        total = sum(float(np.sum(np.asarray(p.postings.lengths)[r], dtype=np.float64)) for p, r in zip(self.parts, self.rows))
        self.avgdl = total / self.n_docs if self.n_docs and total > 0 else 1.0

    def _df(self, term: str, ids: list[dict[str, int]]) -> int:
        count = 0
        for part, rows, found in zip(self.parts, self.rows, ids):
            if term in found:
                tid = found[term]
                count += int(rows[np.asarray(part.postings.docs[part.postings.indptr[tid]:part.postings.indptr[tid + 1]])].sum())
        return count

    def known(self, terms: Sequence[str]) -> set[str]:
        ids = self._term_ids(terms)
        return {t for t in terms if self._df(t, ids) > 0}

    def matches(self, weighted_terms: dict[str, float]) -> list[tuple[np.ndarray, np.ndarray]]:
        out = []
        for rows, (docs, values) in zip(self.rows, super().matches(weighted_terms)):
            keep = rows[docs]
            out.append((docs[keep], values[keep]))
        return out


class CollectionRows:
    """Per part, a bool mask of the chunk rows of each collection, read once from the rows' sources."""

    def __init__(self, sources_of_parts: Callable[[], list[Sequence[str]]]) -> None:
        self._load = sources_of_parts
        self._masks: list[dict[str, np.ndarray]] | None = None
        self._unique: list[str] = []  # every source with a row
        self._sizes: list[int] = []
        self._views: Bounded[Allowed, KeywordSearch] = Bounded(VIEWS)
        self._sources: Bounded[Allowed, list[str]] = Bounded(VIEWS)
        self._lock = threading.Lock()

    def _parts(self) -> list[dict[str, np.ndarray]]:
        with self._lock:
            if self._masks is None:
                parts, unique = [], set()
                for sources in self._load():
                    names = np.array([collection_of(s) for s in sources], dtype=object)
                    self._sizes.append(len(names))
                    parts.append({str(name): names == name for name in dict.fromkeys(names.tolist())})
                    unique.update(sources)
                self._masks, self._unique = parts, sorted(unique)
            return self._masks

    def rows(self, allowed: Allowed) -> list[np.ndarray]:
        """Per part, the rows of documents `allowed` permits."""
        out = []
        parts = self._parts()
        for size, masks in zip(self._sizes, parts):
            mask = np.zeros(size, dtype=bool)
            for name in allowed.collections:
                if name in masks:
                    mask |= masks[name]
            out.append(mask)
        return out

    def sources(self, allowed: Allowed) -> list[str]:
        """The sources with chunk rows that `allowed` permits (a local store's deleted ones too), sorted, made once."""
        def make() -> list[str]:
            self._parts()
            return [s for s in self._unique if allowed.permits(s)]

        return self._sources.get(allowed, make)

    def keyword(self, allowed: Allowed, search: KeywordSearch) -> KeywordSearch:
        """`search` restricted to what `allowed` permits, made once per set of collections."""
        return self._views.get(allowed, lambda: KeywordWithin(search, self.rows(allowed)))
