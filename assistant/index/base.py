"""The store interface: all that search, answering, the CLI and the app may ask of an index.

Chunks are addressed by stable 63-bit ids (assistant/index/keys.py), never by positions, so an
implementation may keep them in segments, shards or a remote service. Local files are one
implementation (assistant/index/local.py); a Milvus collection is meant to be the next one.

Access (assistant/index/access.py): `dense`, `keyword` and the keyword statistics take an `Allowed`
and then see only chunks of the collections it names, filtered inside the search (a FAISS ID
selector, a BM25 row mask, a Milvus filter expression), so their top k are filled from permitted
documents and their statistics come from permitted text alone. `index/restricted.restrict`
wraps a store in a view that passes the filter to these methods and hides everything else of
other collections (documents, chunks, sources), so search and answering need not know of it.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import Protocol

import numpy as np

from ..embed.base import DIMENSION
from ..types import Chunk, Document, SourceInfo
from .access import Allowed
from .access_rows import CollectionRows
from .bm25 import KeywordSearch


class Store(Protocol):
    manifest: dict  # what built the index: model, encoder, settings, corpus, counts

    def __len__(self) -> int:
        """Live chunks."""

    def dense(self, vector: np.ndarray, k: int, allowed: Allowed | None = None) -> list[tuple[int, float]]:
        """The k chunk ids nearest the unit vector by inner product, best first (only permitted ones)."""

    def keyword(self, terms: dict[str, float], k: int, ids: Sequence[int] = (),
                allowed: Allowed | None = None) -> tuple[list[tuple[int, float]], np.ndarray]:
        """The k best BM25 chunk ids for weighted terms, and the BM25 scores of `ids` too (only
        permitted chunks, scored with statistics of permitted chunks)."""

    def idfs(self, terms: Sequence[str], allowed: Allowed | None = None) -> dict[str, float]:
        """BM25 rarity of each term (unseen terms count as rare)."""

    def known(self, terms: Sequence[str], allowed: Allowed | None = None) -> set[str]:
        """The terms some (permitted) chunk holds."""

    def ideal_score(self, terms: dict[str, float], allowed: Allowed | None = None) -> float:
        """Upper bound of a chunk's BM25 score for these weighted terms."""

    def vectors(self, ids: Sequence[int]) -> np.ndarray:
        """Chunk vectors (float32, one row per id, in order)."""

    def sentences(self, ids: Sequence[int]) -> dict[int, tuple[list[tuple[int, int]], np.ndarray]]:
        """Each chunk's answer-sentence spans and their vectors."""

    def chunks(self, ids: Sequence[int]) -> dict[int, Chunk]:
        """Chunks by id (ids no longer in the index are absent)."""

    def chunks_of(self, source: str) -> list[tuple[int, Chunk]]:
        """A document's (id, chunk) in text order."""

    def document(self, source: str) -> Document | None:
        """An indexed document with its clean text, blocks and pages."""

    def text(self, source: str) -> str | None:
        """A document's clean text, which every citation is a span of."""

    def sources(self) -> list[SourceInfo]:
        """Every indexed document, sorted by source."""

    def file_stats(self) -> dict[str, tuple[str, int, int]]:
        """For the indexer: source -> (sha256, size, mtime_ns) of each document's file when read (-1: unknown)."""

    def stamp(self) -> Hashable | None:
        """What changes when a commit lands (a folder's manifest file, a Milvus manifest's generation);
        the app compares it on each use to switch to the new state. None: cannot tell now."""

    def close(self) -> None:
        """Release files and connections."""


class KeywordStatistics:
    """BM25 rarity and bounds from the store's `keyword_search` (bm25.KeywordSearch), for stores keeping one;
    `collection_rows` (set by the store) gives the same restricted to the collections a caller may read."""

    keyword_search: KeywordSearch
    collection_rows: CollectionRows

    def keyword_for(self, allowed: Allowed | None) -> KeywordSearch:
        return self.keyword_search if allowed is None else self.collection_rows.keyword(allowed, self.keyword_search)

    def idfs(self, terms: Sequence[str], allowed: Allowed | None = None) -> dict[str, float]:
        return self.keyword_for(allowed).idfs(terms)

    def known(self, terms: Sequence[str], allowed: Allowed | None = None) -> set[str]:
        return self.keyword_for(allowed).known(terms)

    def ideal_score(self, terms: dict[str, float], allowed: Allowed | None = None) -> float:
        return self.keyword_for(allowed).ideal_score(terms)


class VectorsByContent:
    """Stored vectors by content key (keys.content_hash64 of the exact text embedded): a chunk
    or sentence whose embedded text is unchanged keeps its vector when its file is indexed again.

    A store fills `chunks` and `sentences` with key -> where it keeps that vector, and reads a batch
    of those places back in `_chunk_vectors` and `_sentence_codes`; this class (empty, as it is)
    is also the "nothing to reuse" of a first build.
    """

    def __init__(self) -> None:
        self.chunks: dict[int, object] = {}
        self.sentences: dict[int, object] = {}

    def has_chunk(self, key: int) -> bool:
        return key in self.chunks

    def has_sentence(self, key: int) -> bool:
        return key in self.sentences

    def chunk_vectors(self, keys: list[int]) -> np.ndarray:
        """float32 vector per key; zeros where nothing is stored (those are embedded by the caller)."""
        out = np.zeros((len(keys), DIMENSION), dtype=np.float32)
        found = [n for n, key in enumerate(keys) if key in self.chunks]
        if found:
            out[found] = self._chunk_vectors([self.chunks[keys[n]] for n in found])
        return out

    def sentence_codes(self, keys: list[int]) -> tuple[np.ndarray, np.ndarray]:
        """int8 codes and scales per key; zeros and ones where nothing is stored."""
        codes = np.zeros((len(keys), DIMENSION), dtype=np.int8)
        scales = np.ones(len(keys), dtype=np.float32)
        found = [n for n, key in enumerate(keys) if key in self.sentences]
        if found:
            codes[found], scales[found] = self._sentence_codes([self.sentences[keys[n]] for n in found])
        return codes, scales

    def _chunk_vectors(self, places: list) -> np.ndarray:
        raise NotImplementedError

    def _sentence_codes(self, places: list) -> tuple[np.ndarray, np.ndarray]:
        raise NotImplementedError


def top_positions(scores: np.ndarray, k: int) -> np.ndarray:
    """Positions of the k highest positive scores (unordered)."""
    top = np.argpartition(-scores, min(k, len(scores) - 1))[:k] if len(scores) > k else np.arange(len(scores))
    return top[scores[top] > 0]
