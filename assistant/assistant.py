"""The Python API: `Assistant.open(index_dir).ask(question)`; CLI and web are thin layers over it."""

from __future__ import annotations

import os
import threading
import time
import unicodedata
from pathlib import Path

from .answer import AnswerSettings, is_confident, pick_answer, strength
from .errors import AssistantError
from .search import SearchSettings, make_query, search
from .store import IndexData, load_index, manifest_stamp
from .types import Chunk, Passage, Reply, SourceInfo

MAX_QUESTION_CHARS = 2000
MAX_K = 50
DEFAULT_INDEX = "index"
INDEX_ENV = "ASSISTANT_INDEX"
NOT_FOUND = "I couldn't find this in the documents."


def default_index_dir() -> Path:
    return Path(os.environ.get(INDEX_ENV) or DEFAULT_INDEX)


def clean_question(question: object) -> tuple[str, str | None]:
    """Validate and tidy a question; returns (question, notice) or raises AssistantError."""
    if not isinstance(question, str):
        raise AssistantError("the question must be text")
    cleaned = "".join(" " if unicodedata.category(ch) in ("Cc", "Cs") else ch for ch in question)
    cleaned = " ".join(cleaned.split())
    if not cleaned:
        raise AssistantError("the question is empty")
    if not any(ch.isalnum() for ch in cleaned):
        raise AssistantError("the question has no words in it")
    notice = None
    if len(cleaned) > MAX_QUESTION_CHARS:
        cleaned = cleaned[:MAX_QUESTION_CHARS].rsplit(" ", 1)[0] or cleaned[:MAX_QUESTION_CHARS]
        notice = f"question truncated to {MAX_QUESTION_CHARS} characters"
    return cleaned, notice


def _passage(chunk: Chunk, rank: int = 0, score: float = 0.0, strength: str = "weak") -> Passage:
    return Passage(rank=rank, text=chunk.text, source=chunk.source, title=chunk.title, section=chunk.section,
                   start=chunk.start, end=chunk.end, score=score, page=chunk.page, line=chunk.line,
                   strength=strength)


def _usable(earlier: object) -> str | None:
    """An earlier question worth using as context; noise in the history is dropped, not fatal."""
    try:
        return clean_question(earlier)[0]
    except AssistantError:
        return None


class Assistant:
    """Answers questions from one index folder; safe to share between threads.

    The index is reloaded when its manifest changes, so a running app picks up a rebuild
    once it is committed and never sees a half-written one.
    """

    def __init__(self, index_dir: Path, data: IndexData, embedder,
                 search_settings: SearchSettings | None = None,
                 answer_settings: AnswerSettings | None = None) -> None:
        self.index_dir = Path(index_dir)
        self._data = data
        self._stamp = manifest_stamp(self.index_dir)
        self._embedder = embedder
        self._reload_lock = threading.Lock()
        self._failed: tuple[int, int] | None = None
        self.search_settings = search_settings or SearchSettings()
        self.answer_settings = answer_settings or AnswerSettings()

    @classmethod
    def open(cls, index_dir: str | os.PathLike | None = None, embedder=None, **kwargs) -> Assistant:
        index_dir = Path(index_dir) if index_dir is not None else default_index_dir()
        data = load_index(index_dir)
        if embedder is None:
            from .embedder import get_embedder

            embedder = get_embedder()
        bot = cls(index_dir, data, embedder, **kwargs)
        # The first question pays one-off costs (stemmer, FAISS and torch first calls: 2x a
        # typical question); paying them here keeps every user's question equally fast.
        bot.ask("What does this collection of documents cover?")
        return bot

    @property
    def data(self) -> IndexData:
        """The current index, reloaded if a newer generation was committed."""
        stamp = manifest_stamp(self.index_dir)
        if stamp is not None and stamp != self._stamp:
            with self._reload_lock:
                if stamp != self._stamp and stamp != self._failed:
                    try:
                        self._data = load_index(self.index_dir)
                        self._stamp = stamp
                    except AssistantError:
                        self._failed = stamp  # keep answering from the index we have; don't re-verify each ask
        return self._data

    def ask(self, question: str, history: list[str] | None = None, k: int = 5) -> Reply:
        started = time.perf_counter()
        question, notice = clean_question(question)
        if not isinstance(k, int) or isinstance(k, bool) or not 1 <= k <= MAX_K:
            raise AssistantError(f"k must be a whole number from 1 to {MAX_K}")
        history = [earlier for earlier in map(_usable, history or []) if earlier]
        data = self.data
        query = make_query(question, history, self._embedder, self.search_settings)
        hits = search(data, query, k, self.search_settings)
        confident = is_confident(hits, self.answer_settings, data, query)
        answer = pick_answer(data, query, hits, self.answer_settings)
        passages = [_passage(data.chunks[hit.row], rank, round(hit.score, 4),
                             strength(hit, hits[0], confident, self.answer_settings))
                    for rank, hit in enumerate(hits, 1)]
        return Reply(
            question=question,
            answer=answer.text if confident else NOT_FOUND,
            confident=confident,
            passages=passages,
            answer_source=answer.source if confident else None,
            answer_start=answer.start if confident else None,
            answer_end=answer.end if confident else None,
            notice=notice,
            seconds=time.perf_counter() - started,
        )

    def sources(self) -> list[SourceInfo]:
        data = self.data
        meta = data.manifest.get("sources", {})
        return [SourceInfo(s, d.title, meta.get(s, {}).get("chunks", 0), len(d.text))
                for s, d in sorted(data.documents.items())]

    def read_source(self, source: str) -> str:
        """Text of an indexed document, as indexed; nothing else on disk is reachable."""
        doc = self.data.documents.get(source) if isinstance(source, str) else None
        if doc is None:
            raise AssistantError(f"not an indexed document: {str(source)[:200]!r}")
        return doc.text

    def locate(self, source: str, start: int) -> Passage | None:
        """The indexed passage that holds a character offset: section and page for a shared link."""
        for chunk in self.data.chunks:
            if chunk.source == source and chunk.start <= start < chunk.end:
                return _passage(chunk)
        return None

    def describe(self) -> str:
        sources = self.sources()
        titles = "; ".join(s.title for s in sources[:8]) + ("; …" if len(sources) > 8 else "")
        return f"{len(sources)} documents, {sum(s.chunks for s in sources)} passages: {titles}"

    def example_questions(self, n: int = 4) -> list[str]:
        """Questions built from section headings of different documents, so they have answers."""
        seen_docs, questions = set(), []
        for chunk in self.data.chunks:
            section = chunk.section.split(" > ")[-1].split(" — ")[-1].strip()
            if not section or chunk.source in seen_docs or len(section.split()) > 8:
                continue
            seen_docs.add(chunk.source)
            topic = section.rstrip("?").strip()
            questions.append(topic if section.endswith("?") else f"What does {chunk.title} say about {topic.lower()}?")
            if len(questions) == n:
                break
        return questions
