"""Keyword search: Okapi BM25 over stemmed tokens, stored as plain arrays (no pickle).

Term weights are precomputed at index time into a term-major sparse matrix, so a query
is a few array slices and additions; nothing is rebuilt at query time.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from pathlib import Path

import numpy as np

from .text import tokenize

TOKENIZER = "snowball-english-stopwords-v2"  # v2: whole identifiers and flags as extra tokens
K1, B = 1.2, 0.75  # Okapi BM25's usual parameters; a dev-split sweep (0.9-1.5, 0.5-0.9) was flat


class KeywordIndex:
    """BM25 scores for every chunk; `idf` also weighs query words for answer selection."""

    def __init__(self, vocab: dict[str, int], indptr: np.ndarray, indices: np.ndarray,
                 data: np.ndarray, idf: np.ndarray, n_docs: int, k1: float = K1) -> None:
        self.vocab, self.indptr, self.indices, self.data = vocab, indptr, indices, data
        self.idf_values, self.n_docs, self.k1 = idf, n_docs, k1

    @classmethod
    def build(cls, texts: list[str], k1: float = K1, b: float = B) -> KeywordIndex:
        docs = [Counter(tokenize(text)) for text in texts]
        lengths = np.array([sum(c.values()) for c in docs], dtype=np.float64)
        avg = float(lengths.mean()) if len(docs) and lengths.mean() > 0 else 1.0
        postings: dict[str, list[tuple[int, int]]] = {}
        for doc_id, counts in enumerate(docs):
            for term, tf in counts.items():
                postings.setdefault(term, []).append((doc_id, tf))
        vocab = {term: i for i, term in enumerate(sorted(postings))}
        indptr = np.zeros(len(vocab) + 1, dtype=np.int64)
        indices, data = [], []
        idf = np.zeros(len(vocab), dtype=np.float32)
        n = len(docs)
        for term, i in vocab.items():
            plist = postings[term]
            idf[i] = math.log(1 + (n - len(plist) + 0.5) / (len(plist) + 0.5))
            for doc_id, tf in plist:
                norm = tf + k1 * (1 - b + b * lengths[doc_id] / avg)
                indices.append(doc_id)
                data.append(idf[i] * tf * (k1 + 1) / norm)
            indptr[i + 1] = len(indices)
        return cls(vocab, indptr, np.array(indices, dtype=np.int32), np.array(data, dtype=np.float32), idf, n, k1)

    def scores(self, weighted_terms: dict[str, float]) -> np.ndarray:
        """BM25 score of every chunk for query terms with weights (1.0 for the question itself)."""
        out = np.zeros(self.n_docs, dtype=np.float32)
        for term, weight in weighted_terms.items():
            i = self.vocab.get(term)
            if i is not None:
                lo, hi = self.indptr[i], self.indptr[i + 1]
                out[self.indices[lo:hi]] += weight * self.data[lo:hi]
        return out

    def ideal_score(self, weighted_terms: dict[str, float]) -> float:
        """Upper bound of a chunk's score for these terms (each at BM25's saturation, k1 + 1)."""
        return sum(w * self.idf(t) * (self.k1 + 1) for t, w in weighted_terms.items())

    def idf(self, term: str) -> float:
        """Rarity of a term; unseen terms count as rare (they carry meaning the corpus lacks)."""
        i = self.vocab.get(term)
        return float(self.idf_values[i]) if i is not None else math.log(1 + (self.n_docs + 0.5) / 0.5)

    def save(self, folder: Path) -> list[str]:
        np.savez(folder / "keyword.npz", indptr=self.indptr, indices=self.indices, data=self.data,
                 idf=self.idf_values, n_docs=np.array([self.n_docs]))
        with open(folder / "keyword_vocab.json", "w", encoding="utf-8") as handle:
            json.dump({"tokenizer": TOKENIZER, "terms": sorted(self.vocab, key=self.vocab.get)}, handle)
        return ["keyword.npz", "keyword_vocab.json"]

    @classmethod
    def load(cls, folder: Path) -> KeywordIndex:
        with np.load(folder / "keyword.npz", allow_pickle=False) as arrays:
            parts = {name: arrays[name] for name in ("indptr", "indices", "data", "idf", "n_docs")}
        with open(folder / "keyword_vocab.json", encoding="utf-8") as handle:
            terms = json.load(handle)["terms"]
        return cls({t: i for i, t in enumerate(terms)}, parts["indptr"], parts["indices"], parts["data"],
                   parts["idf"], int(parts["n_docs"][0]))
