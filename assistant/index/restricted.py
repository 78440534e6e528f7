"""A store as seen by a caller who may read only some collections (assistant/index/access.py).

`restrict(store, allowed)` is a `Store` itself, so search and answering run on it unchanged:
its searches and keyword statistics pass the filter into the store (top k filled from permitted
chunks, statistics from permitted text), and every read of documents, chunks and sources answers
as if the other collections' documents were not indexed at all ("no such document", not "not
yours"). Chunk ids given to it that are not permitted are dropped as unknown ids are.

Search hands the ids of its own top lists back (keyword scores of the dense ids, their vectors and
sentences): the view remembers the ids its filtered searches returned, so those are known to be
permitted without reading their rows (on Milvus a round trip per question); any other id is
still checked against its chunk row.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..embed.base import DIMENSION
from ..types import Chunk, Document, SourceInfo
from .access import Allowed
from .base import Store
from .bounded import Bounded

_HIDDEN = ("counts", "segments", "files", "skipped", "generation")  # manifest fields about every collection
_SEARCHED = 4096  # ids from this view's searches kept as known-permitted (a question returns a few dozen)


class RestrictedStore:
    """The Store interface over `base`, limited to the documents `allowed` permits."""

    def __init__(self, base: Store, allowed: Allowed) -> None:
        self.base, self.allowed = base, allowed
        self.manifest = {key: value for key, value in base.manifest.items() if key not in _HIDDEN}
        self.manifest["skipped"] = [e for e in base.manifest.get("skipped") or []
                                    if isinstance(e, dict) and allowed.permits(str(e.get("source") or ""))]
        self._count: int | None = None
        self._searched: Bounded[int, bool] = Bounded(_SEARCHED)  # ids the filtered searches returned

    def __len__(self) -> int:
        if self._count is None:
            self._count = sum(info.chunks for info in self.sources())
        return self._count

    def dense(self, vector: np.ndarray, k: int, allowed: Allowed | None = None) -> list[tuple[int, float]]:
        found = self.base.dense(vector, k, allowed=self.allowed)
        self._searched.add((i for i, _ in found), True)
        return found

    def keyword(self, terms: dict[str, float], k: int, ids: Sequence[int] = (),
                allowed: Allowed | None = None) -> tuple[list[tuple[int, float]], np.ndarray]:
        permitted = self._permitted(ids)
        found, of_ids = self.base.keyword(terms, k, permitted, allowed=self.allowed)
        self._searched.add((i for i, _ in found), True)
        scores = dict(zip(permitted, of_ids))
        return found, np.array([scores.get(i, 0.0) for i in ids], dtype=np.float32)

    def idfs(self, terms: Sequence[str], allowed: Allowed | None = None) -> dict[str, float]:
        return self.base.idfs(terms, allowed=self.allowed)

    def known(self, terms: Sequence[str], allowed: Allowed | None = None) -> set[str]:
        return self.base.known(terms, allowed=self.allowed)

    def ideal_score(self, terms: dict[str, float], allowed: Allowed | None = None) -> float:
        return self.base.ideal_score(terms, allowed=self.allowed)

    def _permitted(self, ids: Sequence[int]) -> list[int]:
        """The ids among `ids` of chunks this caller may read: those this view's searches returned
        without a read, any other only if its chunk row is of a permitted collection."""
        known = {int(i) for i in ids if int(i) in self._searched}
        unknown = [int(i) for i in ids if int(i) not in known]
        readable = known | set(self.chunks(unknown) if unknown else ())
        return [int(i) for i in ids if int(i) in readable]

    def vectors(self, ids: Sequence[int]) -> np.ndarray:
        permitted = set(self._permitted(ids))
        out = np.zeros((len(ids), DIMENSION), dtype=np.float32)
        rows = [n for n, i in enumerate(ids) if int(i) in permitted]
        if rows:
            out[rows] = self.base.vectors([ids[n] for n in rows])
        return out

    def sentences(self, ids: Sequence[int]) -> dict[int, tuple[list[tuple[int, int]], np.ndarray]]:
        return self.base.sentences(self._permitted(ids))

    def chunks(self, ids: Sequence[int]) -> dict[int, Chunk]:
        return {i: chunk for i, chunk in self.base.chunks(ids).items() if self.allowed.permits(chunk.source)}

    def chunks_of(self, source: str) -> list[tuple[int, Chunk]]:
        return self.base.chunks_of(source) if self.allowed.permits(source) else []

    def document(self, source: str) -> Document | None:
        return self.base.document(source) if self.allowed.permits(source) else None

    def text(self, source: str) -> str | None:
        return self.base.text(source) if self.allowed.permits(source) else None

    def sources(self) -> list[SourceInfo]:
        return [info for info in self.base.sources() if self.allowed.permits(info.source)]

    def file_stats(self) -> dict[str, tuple[str, int, int]]:
        return {source: stats for source, stats in self.base.file_stats().items() if self.allowed.permits(source)}

    def stamp(self):
        """The base store's change stamp (a view changes when its store does)."""
        return self.base.stamp()

    def close(self) -> None:
        """The view owns nothing; the base store is closed by its owner."""


def restrict(store: Store, allowed: Allowed | None) -> Store:
    """The store limited to `allowed` (None: the store itself, unchanged)."""
    return store if allowed is None else RestrictedStore(store, allowed)
