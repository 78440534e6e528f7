"""Hybrid search: dense (FAISS inner product) and keyword (BM25) candidates fused per chunk.

Dense and keyword search each return their top candidates from the store; fusion and the
sentence re-ranking work on those short lists, never on arrays the size of the corpus.

The notes in shared/RETRIEVAL-NOTES.md showed equal-weight rank fusion can fall below
keyword search alone on documents like ours, so fusion is a weighted sum of normalized
scores whose weight is chosen by `assistant eval`, and the other modes stay available.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from ..config import MODES, SearchSettings  # noqa: F401 - MODES: importable from here as before
from ..index.base import Store
from ..text import tokenize

# Words that point back into the conversation ("How long is *their* contract?"). They only set how
# much the history counts in the blended query and how much better the question's own results must
# be to win (resolve()); whether it leans on the conversation is read from what the searches find.
_ANAPHORA = re.compile(r"\b(they|them|their|theirs|it|its|this|that|these|those|there|he|she|his|her|"
                       r"him|hers|the same|such)\b", re.IGNORECASE)


@dataclass
class Query:
    """A question with its conversation, as vectors and weighted terms."""

    text: str
    vector: np.ndarray  # history-blended, unit length
    previous: Query | None  # the latest earlier question alone, when this one leans on it
    terms: dict[str, float]  # stemmed words: 1.0 for the question's own, less for earlier ones
    sentences: dict[int, tuple[list[tuple[int, int]], np.ndarray]] = field(default_factory=dict)  # id -> spans, vectors
    own: np.ndarray | None = None  # the question's own vector, without the conversation (None: same as vector)
    history: tuple[str, ...] = ()  # the earlier questions blended in, newest first
    alone: Query | None = None  # the question without the conversation (only when it has one)

    @property
    def own_vector(self) -> np.ndarray:
        return self.vector if self.own is None else self.own


@dataclass
class Hit:
    id: int  # the chunk's stable id in the store
    score: float
    dense: float
    keyword: float
    sentence: float = 0.0  # cosine of the question with the passage's best sentence (re-ranked passages only)


def history_weights(question: str, history: list[str], settings: SearchSettings) -> list[float]:
    """Weights of earlier questions, newest first; stronger when the question leans on them."""
    if not history:
        return []
    base = settings.history_weight
    if not _ANAPHORA.search(question) and len(tokenize(question)) > 3:
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


def resolve(store: Store, query: Query, k: int, settings: SearchSettings,
            stands_alone: Callable[[list[Hit]], bool] = bool) -> tuple[Query, list[Hit]]:
    """Search with the conversation, and with the question alone; the query answered from and its hits.

    Whether a question leans on the conversation is read from what each search finds, not from
    its wording: "What is the learning budget?" after questions about a walking guide finds the
    guide when the history is blended in, a passage sharing none of its words, while alone it
    finds one that matches it far better, confidently (`stands_alone`). A real follow-up ("How
    long is their contract?") has too little of its own for that: alone it finds nothing
    confident, or nothing much better than the passage the conversation leads to. A question
    without history is searched once, exactly as `search` does. `stands_alone` is the caller's
    confidence test for the question's own hits (the default accepts any).
    """
    hits = search(store, query, k, settings)
    if query.alone is None or not hits:
        return query, hits
    own_hits = search(store, query.alone, k, settings)
    if not own_hits or own_hits[0].id == hits[0].id or not stands_alone(own_hits):
        return query, hits
    share = settings.own_share_referring if _ANAPHORA.search(query.text) else settings.own_share
    theirs, own = own_evidence(store, query.alone, hits[0].id), own_evidence(store, query.alone, own_hits[0].id)
    if theirs < share * own:
        return query.alone, own_hits
    return query, hits


def own_evidence(store: Store, query: Query, chunk_id: int) -> float:
    """How well a passage matches a question by itself: the passage's cosine, its best sentence's
    cosine and the share of the question's keyword weight (idf) the passage holds, summed."""
    cosine = float((store.vectors([chunk_id]) @ query.vector)[0])
    sentence = float(best_sentence_cosines(store, [chunk_id], query)[0])
    chunk = store.chunks([chunk_id]).get(chunk_id)
    words = set(tokenize(chunk.search_text or chunk.text)) if chunk is not None else set()
    return cosine + sentence + term_share(store.idfs(list(query.terms)), query.terms, words)


def term_share(idfs: dict[str, float], terms: dict[str, float], words: set[str]) -> float:
    """Share of the query's keyword weight (idf times term weight) that these words hold."""
    total = sum(idfs[t] * w for t, w in terms.items()) or 1.0
    return sum(idfs[t] * w for t, w in terms.items() if t in words) / total


def search(store: Store, query: Query, k: int, settings: SearchSettings) -> list[Hit]:
    """Top-k chunks for the query under the chosen fusion mode.

    The leading candidates are re-scored by their best sentence (vectors stored at index
    time): a long passage holding one sentence that answers the question is otherwise
    diluted by everything else it says.
    """
    if len(store) == 0:
        return []
    pool = max(settings.candidates, k)
    dense_found = store.dense(query.vector, pool)
    dense_ids = [i for i, _ in dense_found]
    keyword_found, dense_keyword = store.keyword(query.terms, pool, dense_ids)
    seen = set(dense_ids)
    extra = [i for i, _ in keyword_found if i not in seen]
    ids = np.array(dense_ids + extra, dtype=np.int64)
    if not len(ids):
        return []
    # Every candidate is scored alike from its stored vector (keyword-only ones have no dense score).
    dense = (store.vectors(ids.tolist()) @ query.vector).astype(np.float32)
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
        shown = search(store, query.previous, 1, settings)
        fused = fused + settings.continuity * (ids == shown[0].id) if shown else fused
    sentence = np.zeros_like(dense)
    if settings.rerank:
        lead = np.argsort(-fused, kind="stable")[: settings.rerank]
        sentence[lead] = best_sentence_cosines(store, ids[lead], query)
        if settings.mode != "keyword":
            fused = fused + settings.sentence_weight * sentence
    order = np.argsort(-fused, kind="stable")[:k]
    return [Hit(int(ids[i]), float(fused[i]), float(dense[i]), float(keyword[i]), float(sentence[i])) for i in order]


def _rrf(scores: np.ndarray, k: int) -> np.ndarray:
    ranks = np.empty(len(scores), dtype=np.float64)
    ranks[np.argsort(-scores, kind="stable")] = np.arange(1, len(scores) + 1)
    return 1.0 / (k + ranks)


def sentence_vectors(store: Store, ids, query: Query) -> None:
    """Attach the stored sentence spans and vectors of these chunks to the query."""
    missing = [int(i) for i in ids if int(i) not in query.sentences]
    if missing:
        query.sentences.update(store.sentences(missing))


def best_sentence_cosines(store: Store, ids, query: Query, vector: np.ndarray | None = None) -> np.ndarray:
    """For each chunk, the highest cosine between the query (or another vector) and one of its sentences."""
    sentence_vectors(store, ids, query)
    vector = query.vector if vector is None else vector
    best = np.zeros(len(ids), dtype=np.float32)
    for i, chunk in enumerate(ids):
        vectors = query.sentences.get(int(chunk), ((), np.zeros((0, 1))))[1]
        if len(vectors):
            best[i] = float((vectors @ vector).max())
    return best
