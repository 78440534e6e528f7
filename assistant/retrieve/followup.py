"""Which reading of a question in a conversation to answer: with its history, or on its own.

Whether a question leans on the conversation is read from what each search finds, not from its
wording: "What is the learning budget?" after questions about a walking guide finds the guide
when the history is blended in, a passage sharing none of its words, while alone it finds one
that matches it far better, with a cosine that passes the confidence bar. A real follow-up ("How
long is their contract?") has too little of its own for that: alone it finds nothing that passes,
or nothing much better than the passage the conversation leads to.

Search (search.find) gives both candidate lists with their evidence; this module only compares
them, so the question still flows one way to answering.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ..config import AnswerSettings
from ..text import tokenize
from .answer import reaches_bar
from .candidates import Candidate, Found, best_cosine, refers_back, term_share

if TYPE_CHECKING:
    from ..config import SearchSettings


def choose(found: Found, settings: SearchSettings, answer_settings: AnswerSettings) -> Found:
    """The candidates to answer from: the conversation's, unless the question alone finds a
    different passage that passes the cosine bar and matches it clearly better by itself
    (the history's top passage scores less than `own_share` of it, or `own_share_referring` for
    a question with a word pointing back). A question without history keeps its one search."""
    alone = found.alone
    if alone is None or not found.candidates:
        return found
    theirs, own = found.candidates[0], alone.candidates[0] if alone.candidates else None
    if own is None or own.id == theirs.id or not reaches_bar(alone.candidates, answer_settings):
        return found
    share = settings.own_share_referring if refers_back(found.query.text) else settings.own_share
    if own_evidence(alone, theirs) < share * own_evidence(alone, own):
        return alone
    return found


def own_evidence(alone: Found, candidate: Candidate) -> float:
    """How well a passage matches a question by itself: the passage's cosine, its best sentence's
    cosine and the share of the question's keyword weight (idf) the passage holds, summed."""
    query = alone.query
    cosine = float((candidate.vector[np.newaxis, :] @ query.vector)[0])
    sentence = best_cosine(candidate.sentence_vectors, query.vector)
    chunk = candidate.chunk
    words = set(tokenize(chunk.search_text or chunk.text)) if chunk is not None else set()
    return cosine + sentence + term_share(alone.idfs, query.terms, words)
