"""Answering: pick the sentence that answers from the top passages, and judge confidence.

No generative model: the answer is always a sentence (or two adjacent ones) that stands in
a source file, with its exact span, so it can be highlighted and checked.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .search import Hit, Query
from .store import IndexData
from .text import answer_units, normalize, tokenize, word_count


@dataclass(frozen=True)
class AnswerSettings:
    passages: int = 3  # how many top passages the answer sentence may come from
    semantic_weight: float = 1.0
    lexical_weight: float = 0.5
    rank_weight: float = 0.3
    threshold: float = 0.35  # best cosine of question and passage below which we abstain
    strong: float = 0.45  # a passage at or above this cosine is shown as a strong match


@dataclass
class Answer:
    text: str
    source: str | None
    start: int | None
    end: int | None


def pick_answer(data: IndexData, query: Query, hits: list[Hit], embedder, settings: AnswerSettings) -> Answer:
    """The best-scoring sentence of the top passages, scored in context of its passage."""
    candidates: list[tuple[int, int, int, float]] = []  # (hit index, start, end, rank prior)
    top = hits[0].score if hits and hits[0].score > 0 else 1.0
    for h_index, hit in enumerate(hits[: settings.passages]):
        chunk = data.chunks[hit.row]
        text = data.documents[chunk.source].text
        for s, e in answer_units(text, chunk.start, chunk.end):
            if word_count(text[s:e]) >= 3:
                candidates.append((h_index, s, e, max(hit.score, 0.0) / top))
    if not candidates:
        return Answer("", None, None, None)
    texts = []
    for h_index, s, e, _ in candidates:
        chunk = data.chunks[hits[h_index].row]
        texts.append(f"{chunk.section}. {normalize(data.documents[chunk.source].text[s:e])}")
    semantic = embedder.encode(texts) @ query.vector
    total_idf = sum(data.keyword.idf(t) * w for t, w in query.terms.items()) or 1.0
    best, best_score = 0, -np.inf
    for i, (h_index, s, e, prior) in enumerate(candidates):
        chunk = data.chunks[hits[h_index].row]
        words = set(tokenize(data.documents[chunk.source].text[s:e]))
        lexical = sum(data.keyword.idf(t) * w for t, w in query.terms.items() if t in words) / total_idf
        score = (settings.semantic_weight * semantic[i] + settings.lexical_weight * lexical
                 + settings.rank_weight * prior)
        if score > best_score:
            best, best_score = i, score
    h_index, start, end, _ = candidates[best]
    source = data.chunks[hits[h_index].row].source
    text = data.documents[source].text
    if word_count(text[start:end]) < 8 or text[start:end].rstrip().endswith(":"):
        following = [c for c in candidates[best + 1 : best + 2] if c[0] == h_index]
        if following:
            end = following[0][2]
    return Answer(normalize(text[start:end]), source, start, end)


def is_confident(query: Query, hits: list[Hit], data: IndexData, settings: AnswerSettings) -> bool:
    """Whether the corpus holds an answer: the best passage's cosine with the question."""
    return bool(hits) and best_cosine(query, hits, data) >= settings.threshold


def best_cosine(query: Query, hits: list[Hit], data: IndexData) -> float:
    return max((h.dense for h in hits), default=0.0)
