"""The store interface: all that search, answering, the CLI and the app may ask of an index.

Chunks are addressed by stable 63-bit ids (assistant/keys.py), never by positions, so an
implementation may keep them in segments, shards or a remote service. Local files are one
implementation (stores/local.py); a Milvus collection is meant to be the next one.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import numpy as np

from ..bm25 import KeywordSearch
from ..types import Chunk, Document, SourceInfo


class Store(Protocol):
    manifest: dict  # what built the index: model, encoder, settings, corpus, counts

    def __len__(self) -> int:
        """Live chunks."""

    def dense(self, vector: np.ndarray, k: int) -> list[tuple[int, float]]:
        """The k chunk ids nearest the unit vector by inner product, best first."""

    def keyword(self, terms: dict[str, float], k: int, ids: Sequence[int] = ()) -> tuple[list[tuple[int, float]], np.ndarray]:
        """The k best BM25 chunk ids for weighted terms, and the BM25 scores of `ids` too."""

    def idfs(self, terms: Sequence[str]) -> dict[str, float]:
        """BM25 rarity of each term (unseen terms count as rare)."""

    def known(self, terms: Sequence[str]) -> set[str]:
        """The terms some chunk holds."""

    def ideal_score(self, terms: dict[str, float]) -> float:
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

    def close(self) -> None:
        """Release files and connections."""


class KeywordStatistics:
    """BM25 rarity and bounds from the store's `keyword_search` (bm25.KeywordSearch), for stores keeping one."""

    keyword_search: KeywordSearch

    def idfs(self, terms: Sequence[str]) -> dict[str, float]:
        return self.keyword_search.idfs(terms)

    def known(self, terms: Sequence[str]) -> set[str]:
        return self.keyword_search.known(terms)

    def ideal_score(self, terms: dict[str, float]) -> float:
        return self.keyword_search.ideal_score(terms)


def top_positions(scores: np.ndarray, k: int) -> np.ndarray:
    """Positions of the k highest positive scores (unordered)."""
    top = np.argpartition(-scores, min(k, len(scores) - 1))[:k] if len(scores) > k else np.arange(len(scores))
    return top[scores[top] > 0]
