"""What search hands to answering: the query and its candidate passages, each carrying its evidence.

A question flows one way: query -> candidates -> answer -> reply. Search reads the store once and
gives every candidate its chunk, its scores, its stored vector and its answer sentences (spans
and vectors), with the keyword rarity of the query's terms; choosing the reading of a follow-up
(followup.py), judging confidence and picking the answer sentence (answer.py) and citing pages
(api.py) work on these alone and never call back into search. The helpers here are the few
both sides compute alike.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

from ..types import Chunk

# Words that point back into the conversation ("How long is *their* contract?"). They only set how
# much the history counts in the blended query and how much better the question's own results must
# be to win (followup.choose); whether it leans on the conversation is read from what the searches find.
ANAPHORA = re.compile(r"\b(they|them|their|theirs|it|its|this|that|these|those|there|he|she|his|her|"
                      r"him|hers|the same|such)\b", re.IGNORECASE)

@dataclass
class Query:
    """A question with its conversation, as vectors and weighted terms."""

    text: str
    vector: np.ndarray  # history-blended, unit length
    previous: Query | None  # the latest earlier question alone, when this one leans on it
    terms: dict[str, float]  # stemmed words: 1.0 for the question's own, less for earlier ones
    own: np.ndarray | None = None  # the question's own vector, without the conversation (None: same as vector)
    history: tuple[str, ...] = ()  # the earlier questions blended in, newest first
    alone: Query | None = None  # the question without the conversation (only when it has one)

    @property
    def own_vector(self) -> np.ndarray:
        return self.vector if self.own is None else self.own


@dataclass
class Candidate:
    """One passage search found, with what answering and citing need (compared by id and scores)."""

    id: int  # the chunk's stable id in the store
    score: float
    dense: float
    keyword: float
    sentence: float = 0.0  # cosine of the question with the passage's best sentence (re-ranked passages only)
    chunk: Chunk | None = field(default=None, compare=False, repr=False)
    vector: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float32), compare=False, repr=False)  # stored
    spans: list[tuple[int, int]] = field(default_factory=list, compare=False, repr=False)  # answer sentences
    sentence_vectors: np.ndarray = field(default_factory=lambda: np.zeros((0, 1), np.float32), compare=False,
                                         repr=False)  # one row per span


@dataclass
class Found:
    """A query's candidates, best first, and the rarity of its terms; `alone` is the same question
    searched without its conversation (only when it has one), for followup.choose."""

    query: Query
    candidates: list[Candidate]
    idfs: dict[str, float]  # BM25 rarity of each of query.terms
    alone: Found | None = None


def refers_back(question: str) -> bool:
    """Whether the question holds a word pointing back into the conversation ("their", "it")."""
    return ANAPHORA.search(question) is not None


def best_cosine(sentence_vectors: np.ndarray, vector: np.ndarray) -> float:
    """The highest cosine between a vector and one of a passage's sentences (0 without sentences),
    rounded to float32 as every stored score is."""
    if not len(sentence_vectors):
        return 0.0
    return float(np.float32((sentence_vectors @ vector).max()))


def term_share(idfs: dict[str, float], terms: dict[str, float], words: set[str]) -> float:
    """Share of the query's keyword weight (idf times term weight) that these words hold."""
    total = sum(idfs[t] * w for t, w in terms.items()) or 1.0
    return sum(idfs[t] * w for t, w in terms.items() if t in words) / total
