"""Keyword search: Okapi BM25 over stemmed tokens, one set of postings per index segment.

Each segment stores raw term frequencies and chunk lengths as plain `.npy` arrays (memory
mapped at open, never parsed), and scores are computed at query time from statistics summed
over all segments. So adding a segment changes no other segment's files, and one segment with
no deletions scores exactly as a single precomputed matrix would. As in Lucene, chunks deleted
from a segment still count in document frequencies until the segment is merged away.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from itertools import chain, islice
from pathlib import Path

import numpy as np

from ..text import tokenize

TOKENIZER = "snowball-english-stopwords-v2"  # v2: whole identifiers and flags as extra tokens
K1, B = 1.2, 0.75  # Okapi BM25's usual parameters; a dev-split sweep (0.9-1.5, 0.5-0.9) was flat
SETTINGS = {"algorithm": "bm25", "k1": K1, "b": B, "tokenizer": TOKENIZER}  # as the manifest records them
FILES = ("kw_indptr.npy", "kw_docs.npy", "kw_tf.npy", "kw_lengths.npy")
SPARSE_MIN_CHUNKS = 50_000  # below this a dense score array is cheap (and sums exactly as it always did)
SPARSE_SHARE = 0.125


@dataclass
class Postings:
    """One segment's term-major postings: term t's chunks are docs[indptr[t]:indptr[t + 1]]."""

    indptr: np.ndarray  # int64, one more than the number of terms
    docs: np.ndarray  # int32 chunk positions in the segment
    tf: np.ndarray  # uint16 term frequency in that chunk (capped at 65,535)
    lengths: np.ndarray  # uint32 tokens per chunk

    @property
    def n_docs(self) -> int:
        return len(self.lengths)

    def df(self, tid: int) -> int:
        return int(self.indptr[tid + 1] - self.indptr[tid])

    def save(self, folder: Path) -> list[str]:
        for name, array in zip(FILES, (self.indptr, self.docs, self.tf, self.lengths)):
            np.save(folder / name, np.ascontiguousarray(array), allow_pickle=False)
        return list(FILES)

    @classmethod
    def load(cls, folder: Path) -> Postings:
        arrays = [np.load(folder / name, mmap_mode="r", allow_pickle=False) for name in FILES]
        postings = cls(*arrays)
        if len(postings.indptr) < 1 or int(postings.indptr[-1]) != len(postings.docs) or len(postings.docs) != len(postings.tf):
            raise ValueError("keyword postings are inconsistent")
        return postings


def build_postings(token_lists: Iterable[Sequence[str]], batch: int = 4096) -> tuple[list[str], Postings]:
    """Vocabulary and postings from each chunk's tokens, vectorised.

    The tokens are numbered by pandas' hash-table factorize (C speed, about 20 times a Python
    dict loop) and counted per (term, chunk) by one sparse conversion. The token lists are taken
    `batch` chunks at a time, so a lazy iterable (tokenize_all over a build's chunks) is never held
    whole: a build keeps one term id a token (8 bytes), not every chunk's token strings (about 70
    bytes a token, the largest part of a first build's memory). Terms are numbered in first-seen
    order over all batches, as one factorize of every token would number them.
    """
    import pandas as pd  # installed with gradio; imported only when an index is written

    vocabulary: dict[str, int] = {}  # term -> id, in first-seen order
    ids, lengths = [np.zeros(0, np.int64)], [np.zeros(0, np.int64)]
    remaining = iter(token_lists)
    while lists := list(islice(remaining, batch)):
        counts = np.fromiter(map(len, lists), dtype=np.int64, count=len(lists))
        codes, uniques = pd.factorize(np.fromiter(chain.from_iterable(lists), dtype=object, count=int(counts.sum())))
        known = np.fromiter((vocabulary.setdefault(t, len(vocabulary)) for t in uniques), np.int64, len(uniques))
        ids.append(known[np.asarray(codes, dtype=np.int64)])
        lengths.append(counts)
    return list(vocabulary), postings_from_ids(np.concatenate(ids), np.concatenate(lengths), len(vocabulary))


def postings_from_ids(term_ids: np.ndarray, lengths: np.ndarray, n_terms: int) -> Postings:
    """Postings from the flat term ids of every chunk's tokens in chunk order, and the chunk lengths.

    A sparse COO -> CSR conversion counts each (term, chunk) pair in linear time: the chunk
    positions arrive in order within each term, so no sort is needed (6 times faster than
    np.unique over the pairs).
    """
    from scipy.sparse import coo_matrix

    docs = np.repeat(np.arange(len(lengths), dtype=np.int32), lengths)
    matrix = coo_matrix((np.ones(len(term_ids), dtype=np.int32), (np.asarray(term_ids, dtype=np.int64), docs)),
                        shape=(n_terms, max(len(lengths), 1))).tocsr()
    return Postings(matrix.indptr.astype(np.int64), matrix.indices.astype(np.int32),
                    np.minimum(matrix.data, 65535).astype(np.uint16), np.asarray(lengths).astype(np.uint32))


def tokenize_all(texts: Iterable[str]) -> Iterable[list[str]]:
    return (tokenize(text) for text in texts)


TermLookup = Callable[[Sequence[str]], dict[str, int]]  # terms -> term ids a segment has


@dataclass
class KeywordPart:
    """One segment as keyword search sees it."""

    postings: Postings
    lookup: TermLookup
    live: np.ndarray | None = None  # bool per chunk; None when nothing was deleted


class KeywordSearch:
    """BM25 over several segments with shared statistics (chunk count, mean length, df)."""

    def __init__(self, parts: list[KeywordPart], k1: float = K1, b: float = B) -> None:
        self.parts, self.k1, self.b = parts, k1, b
        self.n_docs = sum(p.postings.n_docs for p in parts)
        total = sum(float(np.sum(p.postings.lengths, dtype=np.float64)) for p in parts)
        self.avgdl = total / self.n_docs if self.n_docs and total > 0 else 1.0
        self._norms: list[np.ndarray | None] = [None] * len(parts)

    @classmethod
    def from_texts(cls, texts: Iterable[str]) -> KeywordSearch:
        """One in-memory part over these texts (for small uses and tests)."""
        terms, postings = build_postings(tokenize_all(texts))
        ids = {t: i for i, t in enumerate(terms)}
        return cls([KeywordPart(postings, lambda wanted: {t: ids[t] for t in wanted if t in ids})])

    def _term_ids(self, terms: Sequence[str]) -> list[dict[str, int]]:
        return [part.lookup(terms) for part in self.parts]

    def _df(self, term: str, ids: list[dict[str, int]]) -> int:
        return sum(part.postings.df(found[term]) for part, found in zip(self.parts, ids) if term in found)

    def _idf(self, df: int) -> float:
        return math.log(1 + (self.n_docs - df + 0.5) / (df + 0.5))

    def idf(self, term: str) -> float:
        """Rarity of a term; unseen terms count as rare (they carry meaning the corpus lacks)."""
        return self._idf(self._df(term, self._term_ids([term])))

    def idfs(self, terms: Sequence[str]) -> dict[str, float]:
        ids = self._term_ids(terms)
        return {t: self._idf(self._df(t, ids)) for t in terms}

    def known(self, terms: Sequence[str]) -> set[str]:
        """The terms some chunk of the index holds."""
        found: set[str] = set()
        for ids in self._term_ids(terms):
            found.update(ids)
        return found

    def ideal_score(self, weighted_terms: dict[str, float]) -> float:
        """Upper bound of a chunk's score for these terms (each at BM25's saturation, k1 + 1)."""
        idfs = self.idfs(list(weighted_terms))
        return sum(w * idfs[t] * (self.k1 + 1) for t, w in weighted_terms.items())

    def _norm(self, i: int) -> np.ndarray:
        """k1 * (1 - b + b * length / avgdl) per chunk of part i, computed once."""
        if self._norms[i] is None:
            lengths = np.asarray(self.parts[i].postings.lengths, dtype=np.float64)
            self._norms[i] = self.k1 * (1 - self.b + self.b * lengths / self.avgdl)
        return self._norms[i]

    def scores(self, weighted_terms: dict[str, float]) -> list[np.ndarray]:
        """BM25 score of every chunk of every part (float32), deleted chunks at zero."""
        out = []
        for part, (docs, values) in zip(self.parts, self.matches(weighted_terms)):
            scores = np.zeros(part.postings.n_docs, dtype=np.float32)
            scores[docs] = values
            out.append(scores)
        return out

    def matches(self, weighted_terms: dict[str, float]) -> list[tuple[np.ndarray, np.ndarray]]:
        """Per part, the live chunks holding a query term (sorted positions) and their BM25 scores.

        Scores add up term by term in float32 over the part, as one precomputed matrix would;
        a large part whose query terms are rare (postings under SPARSE_SHARE of its chunks) adds
        them up over the postings alone, so a question costs what its terms' postings hold.
        """
        terms = list(weighted_terms)
        ids = self._term_ids(terms)
        idfs = {t: self._idf(self._df(t, ids)) for t in terms}
        out = []
        for i, (part, found) in enumerate(zip(self.parts, ids)):
            postings, norm = part.postings, self._norm(i)
            slices = [(postings.indptr[tid], postings.indptr[tid + 1], weighted_terms[term] * idfs[term])
                      for term, tid in found.items()]
            total = sum(int(hi - lo) for lo, hi, _ in slices)
            sparse = postings.n_docs > SPARSE_MIN_CHUNKS and total < SPARSE_SHARE * postings.n_docs
            scores = None if sparse else np.zeros(postings.n_docs, dtype=np.float32)
            pieces = []
            for lo, hi, weight in slices:
                docs = np.asarray(postings.docs[lo:hi])
                tf = np.asarray(postings.tf[lo:hi], dtype=np.float64)
                value = (weight * (tf * (self.k1 + 1) / (tf + norm[docs]))).astype(np.float32)
                if sparse:
                    pieces.append((docs, value))
                else:
                    scores[docs] += value
            if sparse:
                docs = np.concatenate([np.zeros(0, np.int32), *(d for d, _ in pieces)])
                values = np.concatenate([np.zeros(0, np.float32), *(v for _, v in pieces)])
                docs, inverse = np.unique(docs, return_inverse=True)
                values = np.bincount(inverse, weights=values, minlength=len(docs)).astype(np.float32)
            else:
                docs = np.flatnonzero(scores)
                values = scores[docs]
            if part.live is not None:
                keep = part.live[docs]
                docs, values = docs[keep], values[keep]
            out.append((docs.astype(np.int64), values))
        return out
