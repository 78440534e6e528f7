"""Answering: pick the sentence that answers from the top passages, and judge confidence.

No generative model: the answer is always a sentence (or two adjacent ones) that stands in
a source file, with its exact span, so it can be highlighted and checked. Everything read here
comes with the candidates search found (candidates.py) or from the documents they cite: this
module never calls search.
"""

from __future__ import annotations

import bisect
import re
import weakref
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from ..config import AnswerSettings
from ..index.base import Store
from ..text import ANNOUNCES, CONTINUES, FENCE_LINE, FENCE_MARK, STOP_WORDS, normalize, tokenize, word_count
from ..types import Document
from .candidates import Candidate, Found, best_cosine, term_share
from .qtype import CODE, answer_type, holds_type


@dataclass
class Answer:
    text: str
    source: str | None
    start: int | None
    end: int | None


def pick_answer(found: Found, documents: dict[str, Document | None], settings: AnswerSettings) -> Answer:
    """The best-scoring sentence of the top passages, scored in context of its passage.

    `documents` are those of the candidates' sources (their text, and a command question's code
    blocks and spans); each candidate brings its sentence spans and vectors.
    """
    query, hits = found.query, found.candidates
    candidates: list[tuple[int, int, int, float]] = []  # (hit index, start, end, rank prior)
    vectors = []
    top = hits[0].score if hits and hits[0].score > 0 else 1.0
    leading = hits[: settings.passages]
    sources = {h.id: h.chunk.source for h in leading if h.chunk is not None}
    kind = answer_type(query.text)
    texts = {source: documents[source].text if documents.get(source) else "" for source in set(sources.values())}
    for h_index, hit in enumerate(leading):
        if hit.id not in sources:
            continue
        text = texts[sources[hit.id]]
        for (s, e), vector in zip(hit.spans, hit.sentence_vectors):
            if word_count(text[s:e]) >= 3:
                candidates.append((h_index, s, e, max(hit.score, 0.0) / top))
                vectors.append(vector)
    if not candidates:
        return Answer("", None, None, None)
    semantic = np.vstack(vectors) @ query.vector
    idfs = found.idfs
    scores = []
    for i, (h_index, s, e, prior) in enumerate(candidates):
        text = texts[sources[hits[h_index].id]]
        sentence_text = text[s:e]
        words = set(tokenize(sentence_text))
        lexical = term_share(idfs, query.terms, words)
        if kind == CODE:
            typed = settings.code_weight * _code_weight(documents.get(sources[hits[h_index].id]), text, s, e)
        else:
            typed = settings.type_weight * holds_type(sentence_text, kind, query.text) if kind else 0.0
        scores.append(settings.semantic_weight * semantic[i] + settings.lexical_weight * lexical
                      + settings.rank_weight * prior + typed)
    best = int(np.argmax(scores))
    h_index, start, end, _ = candidates[best]
    source = sources[hits[h_index].id]
    text = texts[source]
    # An answer often runs over two sentences: an announcement then its list ("...set out
    # below."), a claim then its elaboration ("This includes ..."), or two halves that both match.
    following = best + 1 if best + 1 < len(candidates) and candidates[best + 1][0] == h_index else None
    preceding = best - 1 if best > 0 and candidates[best - 1][0] == h_index else None
    sentence = text[start:end]
    if settings.join_back and preceding is not None and CONTINUES.match(text, start):
        start = candidates[preceding][1]
    elif following is not None and settings.list_reach and ANNOUNCES.search(sentence):
        # "Each environment is associated with:" then its items: run on to the item that matches best.
        items = [j for j in range(following, min(following + settings.list_reach, len(candidates)))
                 if candidates[j][0] == h_index]
        end = candidates[max(items, key=lambda j: scores[j])][2]
    elif following is not None and (word_count(sentence) < 8 or CONTINUES.match(text, candidates[following][1])):
        end = candidates[following][2]
    else:
        neighbours = [i for i in (preceding, following) if i is not None]
        other = max(neighbours, key=lambda i: scores[i]) if neighbours else None
        if other is not None and scores[other] >= settings.pair_ratio * scores[best]:
            start, end = min(start, candidates[other][1]), max(end, candidates[other][2])
    return Answer(normalize(text[start:end]), source, start, end)


def _code_weight(document: Document | None, text: str, start: int, end: int) -> float:
    """How much an answer candidate is code, for a question asking for a command or syntax: 1 for
    a line of a code block (the command itself), 0.5 for a sentence naming code inline ("the
    `dump` command exports..."), 0 for prose. By the reader's blocks and spans when it found
    them (Markdown, HTML), else by the Markdown fences and backticks still in the text."""
    if document is not None and (document.blocks or document.spans):
        if document.in_code_block(start, end):
            return 1.0
        return 0.5 if document.in_code(start, end) else 0.0
    sentence = text[start:end]
    if re.search(FENCE_MARK, sentence) or in_code_block(text, start):
        return 1.0
    return 0.5 if holds_type(sentence, CODE) else 0.0


def in_code_block(text: str, offset: int) -> bool:
    """Whether a character offset lies inside a fenced code block (an odd number of fences before it)."""
    return bisect.bisect_right(_fence_ends(text), offset) % 2 == 1


@lru_cache(maxsize=8)
def _fence_ends(text: str) -> tuple[int, ...]:
    """Where each fence line's mark ends: one scan per document, not one per candidate sentence."""
    return tuple(m.end() for m in FENCE_LINE.finditer(text))


def is_confident(found: Found, settings: AnswerSettings, data: Store) -> bool:
    """Whether the corpus holds an answer to what the question itself asks.

    The test is cosine: the best passage's, or one close sentence's (a long passage can dilute
    the one sentence that answers; sentence cosines of unrelated questions ran up to 0.31, hence
    the higher bar). Measured on the labelled sets, cosine separated unrelated questions cleanly
    where BM25 and fused scores did not; the thresholds were chosen on the dev half.

    In a conversation the question is judged on its own vector against the passages found. The
    history-blended vector counts only where the question leans on the conversation, read from
    the corpus rather than a word list: a follow-up ("How long is their contract?") is made of
    words the corpus knows, while an unrelated question brings its own ("capital", "Australia").
    Without this, any earlier question made an unrelated one confident with the earlier topic.
    The own-vector cosines come from the candidates' stored chunk and sentence vectors; the store
    is asked only which of the question's words the corpus knows.
    """
    query, hits = found.query, found.candidates
    if not hits:
        return False
    if settings.absent_terms and absent_terms(data, query.text):
        return False
    if query.own is None:
        return reaches_bar(hits, settings)
    own = query.own_vector
    own_dense = float((np.vstack([h.vector for h in hits]) @ own).max())
    own_sentence = max(best_cosine(h.sentence_vectors, own) for h in hits)
    if _passes(own_dense, own_sentence, settings):
        return True
    return known_share(data, query.text) >= settings.leans_on_history and reaches_bar(hits, settings)


def reaches_bar(hits: list[Candidate], settings: AnswerSettings) -> bool:
    """The cosine test alone, on the candidates' own scores: the best passage's cosine or its best
    sentence's reaches its threshold (what a question without a conversation is judged by)."""
    return _passes(max(h.dense for h in hits), max(h.sentence for h in hits), settings)


def _passes(dense: float, sentence: float, settings: AnswerSettings) -> bool:
    return dense >= settings.threshold or sentence >= settings.sentence_threshold


# Distinctive terms: a capitalised word after the first (a proper name), an identifier (dotted,
# snake_case, camelCase, a path or a --flag, or in `backticks`), a number.
_NAME = re.compile(r"(?<=\s)[\"'“‘(]*([A-Z][\w'’&-]*)")
_CODE = re.compile(r"`([^`\n]+)`|(?<![\w-])(--?[A-Za-z][\w-]*|\w+(?:(?:\.|::|/)\w+)+|\w*[a-z][A-Z_]\w*)")
_I = re.compile(r"I(?:['’]\w+)?")  # the pronoun, capitalised anywhere ("I'd")
_NUMBER = re.compile(r"(?<![\w.])\d+(?:[.,]\d+)*(?![\w.])")


def absent_terms(data: Store, question: str) -> list[str]:
    """Distinctive terms of the question that occur nowhere in the corpus.

    "How many people does Brackenfold Hut sleep?" asked of documents that never name
    Brackenfold has no answer there, however close the nearest passage about huts is: cosine
    cannot tell, but the vocabulary can. Only terms a reader would call names, identifiers or
    numbers count; a plain word missing from the corpus is usually a paraphrase.
    """
    found = [m.group(1) for m in _NAME.finditer(question) if not _I.fullmatch(m.group(1))]
    found += [m.group(1) or m.group(2) for m in _CODE.finditer(question)]
    found += [m.group() for m in _NUMBER.finditer(question)]
    absent = []
    for term in found:
        tokens = [t for t in tokenize(term) if t not in STOP_WORDS]
        if tokens and len(data.known(tokens)) < len(set(tokens)) and _squash(term) not in _squashed(data):
            absent.append(term)
    return absent


_SQUASHED: dict[int, tuple[weakref.ref, str]] = {}  # id(store) -> (its weak reference, squashed text)


def _squash(text: str) -> str:
    return "".join(ch for ch in text.casefold() if ch.isalnum())


def _squashed(data: Store) -> str:
    """The whole corpus, letters and digits only: "sub-license" and "sublicense" are one term.

    It reads every document once per opened index, which is why `absent_terms` is off by default.
    """
    cached = _SQUASHED.get(id(data))
    if cached is None or cached[0]() is not data:
        for key in [key for key, (ref, _) in _SQUASHED.items() if ref() is None]:
            del _SQUASHED[key]
        cached = _SQUASHED[id(data)] = (weakref.ref(data), "\n".join(
            _squash(data.text(s.source) or "") for s in data.sources()))
    return cached[1]


def known_share(data: Store, question: str) -> float:
    """Share of the question's keyword weight (idf) made of terms the corpus uses at all."""
    terms = tokenize(question)
    idfs, known = data.idfs(terms), data.known(terms)
    total = sum(idfs[t] for t in terms)
    return sum(idfs[t] for t in terms if t in known) / total if total else 1.0


def strength(hit: Candidate, best: Candidate, confident: bool, settings: AnswerSettings) -> str:
    """The score in words: "strong" for the best passage of a confident reply and its close rivals."""
    if not confident or best.score <= 0:
        return "weak"
    return "strong" if hit.score >= settings.strong * best.score else "weak"
