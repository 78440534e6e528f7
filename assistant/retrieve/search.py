"""Hybrid search: dense (FAISS inner product) and keyword (BM25) candidates fused per chunk.

Dense and keyword search each return their top candidates from the store; fusion and the
sentence re-ranking work on those short lists, never on arrays the size of the corpus. The
candidates returned carry their chunk, vector and sentences (candidates.py), so answering needs
nothing more from here.

The notes in shared/RETRIEVAL-NOTES.md showed equal-weight rank fusion can fall below
keyword search alone on documents like ours, so fusion is a weighted sum of normalized
scores whose weight is chosen by `assistant eval`, and the other modes stay available.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..config import MODES, SearchSettings  # noqa: F401 - MODES: importable from here as before
from ..index.base import Store
from ..text import tokenize
from .candidates import Candidate, Found, Query, best_cosine, refers_back

Hit = Candidate  # the name search results had before they carried their evidence
Sentences = dict[int, tuple[list[tuple[int, int]], np.ndarray]]  # chunk id -> spans, vectors (one search's reads)


def history_weights(question: str, history: list[str], settings: SearchSettings) -> list[float]:
    """Weights of earlier questions, newest first; stronger when the question leans on them."""
    if not history:
        return []
    base = settings.history_weight
    if not refers_back(question) and len(tokenize(question)) > 3:
        base *= 0.5  # a self-contained question: keep the conversation as a hint only
    return [base * settings.history_decay**i for i in range(len(history))]


def make_query(question: str, history: list[str] | None, embedder, settings: SearchSettings) -> Query:
    """The question with its latest (up to three) earlier questions, embedded in one batch."""
    earlier = [h for h in reversed(history or []) if h and h.strip()][:3]
    return _build_query(question, earlier, embedder.encode([question, *earlier]), settings)


def _build_query(question: str, earlier: list[str], vectors: np.ndarray, settings: SearchSettings) -> Query:
    weights = history_weights(question, earlier, settings)
    blended = vectors[0].copy()
    for w, v in zip(weights, vectors[1:]):
        blended = blended + w * v
    blended = blended / (np.linalg.norm(blended) or 1.0)
    terms: dict[str, float] = {}
    for t in tokenize(question):
        terms[t] = terms.get(t, 0.0) + 1.0
    for w, h in zip(weights, earlier):
        for t in set(tokenize(h)):
            if t not in terms:
                terms[t] = w
    previous = None
    if earlier and weights[0] >= settings.history_weight:
        previous = _build_query(earlier[0], earlier[1:], vectors[1:], settings)
    own = vectors[0].astype(np.float32) if earlier else None
    alone = _build_query(question, [], vectors[:1], settings) if earlier else None
    return Query(question, blended.astype(np.float32), previous, terms, own=own, history=tuple(earlier), alone=alone)


def find(store: Store, query: Query, k: int, settings: SearchSettings) -> Found:
    """The query's top-k candidates with their evidence; for a question with a conversation, also
    those of the question alone (`alone`), from which followup.choose picks the reading to answer.

    A question without history is searched once, exactly as `search` does.
    """
    found = _found(store, query, k, settings)
    if query.alone is not None and found.candidates:
        found.alone = _found(store, query.alone, k, settings)
    return found


def _found(store: Store, query: Query, k: int, settings: SearchSettings) -> Found:
    candidates = search(store, query, k, settings)
    return Found(query, candidates, store.idfs(list(query.terms)) if candidates else {})


@dataclass
class Ranked:
    """What `_rank` scored: per candidate (arrays aligned with `ids`) its scores and stored vector,
    and `order`, the positions of the top k, best first."""

    ids: np.ndarray  # int64 chunk ids: the dense top list, then keyword-only ones
    order: np.ndarray
    fused: np.ndarray
    dense: np.ndarray
    keyword: np.ndarray
    sentence: np.ndarray
    vectors: np.ndarray

    @property
    def best(self) -> int:
        """The chunk id ranked first."""
        return int(self.ids[self.order[0]])


def search(store: Store, query: Query, k: int, settings: SearchSettings) -> list[Candidate]:
    """Top-k chunks for the query under the chosen fusion mode, each with its chunk, stored vector
    and answer sentences (a candidate whose chunk the store no longer has is left out)."""
    sentences: Sentences = {}
    ranked = _rank(store, query, k, settings, sentences)
    if ranked is None:
        return []
    top = [int(ranked.ids[i]) for i in ranked.order]
    chunks = store.chunks(top)
    _read_sentences(store, top, sentences)
    no_sentences = ([], np.zeros((0, ranked.vectors.shape[1]), np.float32))
    return [Candidate(chunk_id, float(ranked.fused[i]), float(ranked.dense[i]), float(ranked.keyword[i]),
                      float(ranked.sentence[i]), chunks[chunk_id], ranked.vectors[i], *sentences.get(chunk_id, no_sentences))
            for chunk_id, i in zip(top, ranked.order) if chunk_id in chunks]


def _rank(store: Store, query: Query, k: int, settings: SearchSettings, sentences: Sentences) -> Ranked | None:
    """The scoring behind `search`, or None when nothing is found.

    The leading candidates are re-scored by their best sentence (vectors stored at index
    time): a long passage holding one sentence that answers the question is otherwise
    diluted by everything else it says.
    """
    if len(store) == 0:
        return None
    pool = max(settings.candidates, k)
    dense_found = store.dense(query.vector, pool)
    dense_ids = [i for i, _ in dense_found]
    keyword_found, dense_keyword = store.keyword(query.terms, pool, dense_ids)
    seen = set(dense_ids)
    extra = [i for i, _ in keyword_found if i not in seen]
    ids = np.array(dense_ids + extra, dtype=np.int64)
    if not len(ids):
        return None
    # Every candidate is scored alike from its stored vector (keyword-only ones have no dense score).
    vectors = store.vectors(ids.tolist())
    dense = (vectors @ query.vector).astype(np.float32)
    keyword_of = dict(keyword_found)
    keyword = np.concatenate([dense_keyword, np.array([keyword_of[i] for i in extra], dtype=np.float32)])
    # Scale BM25 by the best candidate, but never by less than a share of the score a passage
    # holding every query word would get: a best match on common words alone stays weak.
    top_keyword = max(float(keyword.max()) if len(keyword) else 0.0,
                      settings.keyword_floor * store.ideal_score(query.terms))
    keyword_norm = keyword / top_keyword if top_keyword > 0 else np.zeros_like(keyword)
    if settings.mode == "dense":
        fused = dense
    elif settings.mode == "keyword":
        fused = keyword_norm + 1e-6 * dense  # dense only breaks ties
    elif settings.mode == "rrf":
        fused = _rrf(dense, settings.rrf_k) + _rrf(keyword, settings.rrf_k)
    else:
        fused = settings.dense_weight * dense + (1 - settings.dense_weight) * keyword_norm
    if query.previous is not None and settings.continuity:
        # "How long is *their* contract?" most often continues the passage just shown.
        shown = _rank(store, query.previous, 1, settings, {})
        if shown is not None:
            fused = fused + settings.continuity * (ids == shown.best)
    sentence = np.zeros_like(dense)
    if settings.rerank:
        lead = np.argsort(-fused, kind="stable")[: settings.rerank]
        _read_sentences(store, ids[lead], sentences)
        for i in lead:
            sentence[i] = best_cosine(sentences.get(int(ids[i]), ([], ()))[1], query.vector)
        if settings.mode != "keyword":
            fused = fused + settings.sentence_weight * sentence
    order = np.argsort(-fused, kind="stable")[:k]
    return Ranked(ids, order, fused, dense, keyword, sentence, vectors)


def _rrf(scores: np.ndarray, k: int) -> np.ndarray:
    ranks = np.empty(len(scores), dtype=np.float64)
    ranks[np.argsort(-scores, kind="stable")] = np.arange(1, len(scores) + 1)
    return 1.0 / (k + ranks)


def _read_sentences(store: Store, ids, sentences: Sentences) -> None:
    """Add the stored sentence spans and vectors of these chunks to this search's reads."""
    missing = [int(i) for i in ids if int(i) not in sentences]
    if missing:
        sentences.update(store.sentences(missing))
