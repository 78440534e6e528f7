"""The Python API: `Assistant.open(index_dir).ask(question)`; CLI and web are thin layers over it."""

from __future__ import annotations

import hashlib
import os
import threading
import time
import unicodedata
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from .config import MAX_HISTORY, MAX_K, MAX_QUESTION_CHARS, MAX_QUESTION_READ, env
from .errors import AssistantError, IndexMismatchError
from .index.access import VIEWS, Allowed, allowed_from, collection_of
from .index.base import Store
from .index.bounded import Bounded
from .index.keys import id_text
from .index.manifest import REBUILD_HINT
from .index.restricted import restrict
from .index.stores import open_store
from .retrieve.answer import Answer, AnswerSettings, is_confident, pick_answer, strength
from .retrieve.candidates import Candidate, Found
from .retrieve.followup import choose
from .retrieve.search import SearchSettings, find, make_query
from .types import Chunk, Document, Passage, Reply, Skipped, SourceInfo

DEFAULT_INDEX = "index"
INDEX_ENV = "ASSISTANT_INDEX"
STORE_ENV = "ASSISTANT_STORE"  # a Milvus location (assistant/index/stores.py); wins over ASSISTANT_INDEX
NOT_FOUND = "I couldn't find this in the documents."


def default_index_dir() -> Path | str:
    if env(STORE_ENV):
        return env(STORE_ENV)
    return Path(env(INDEX_ENV))


def clean_question(question: object) -> tuple[str, str | None]:
    """Validate and tidy a question; returns (question, notice) or raises AssistantError."""
    if not isinstance(question, str):
        raise AssistantError("the question must be text")
    long = len(question) > MAX_QUESTION_READ
    cleaned = "".join(" " if unicodedata.category(ch) in ("Cc", "Cs") else ch for ch in question[:MAX_QUESTION_READ])
    cleaned = " ".join(cleaned.split())
    if not cleaned:
        raise AssistantError("the question is empty")
    if not any(ch.isalnum() for ch in cleaned):
        raise AssistantError("the question has no words in it")
    notice = None
    if len(cleaned) > MAX_QUESTION_CHARS or long:
        cleaned = cleaned[:MAX_QUESTION_CHARS].rsplit(" ", 1)[0] or cleaned[:MAX_QUESTION_CHARS]
        notice = f"question truncated to {MAX_QUESTION_CHARS} characters"
    return cleaned, notice


def _passage(chunk: Chunk, rank: int = 0, score: float = 0.0, strength: str = "weak",
             page: int | None = None, chunk_id: int | None = None) -> Passage:
    return Passage(rank=rank, text=chunk.text, source=chunk.source, title=chunk.title, section=chunk.section,
                   start=chunk.start, end=chunk.end, score=score, page=page if page is not None else chunk.page,
                   line=chunk.line, strength=strength, chunk_id=id_text(chunk_id) if chunk_id is not None else "")


def _cited_page(found: Found, candidate: Candidate, document: Document | None, answer: Answer | None) -> int | None:
    """The page a passage is cited at: where its answer sentence is, not where the passage starts.

    A passage holding the reply's answer cites the answer's page; any other passage the page
    of its sentence closest to the question (a passage can run over a page break).
    """
    chunk = candidate.chunk
    if document is None or not document.pages:
        return chunk.page
    if answer is not None and answer.source == chunk.source and chunk.start <= answer.start < chunk.end:
        return document.page_at(answer.start)
    if not len(candidate.spans):
        return chunk.page
    best = int(np.argmax(np.asarray(candidate.sentence_vectors, dtype=np.float32) @ found.query.vector))
    return document.page_at(candidate.spans[best][0])


def check_history(history: object) -> list:
    """The earlier questions to look at: None or a list (or tuple) of strings, the latest MAX_HISTORY.

    A string is refused rather than read as a list of one-character questions; entries that are
    not usable questions are dropped (see _usable).
    """
    if history is None:
        return []
    if not isinstance(history, (list, tuple)):
        raise AssistantError(f"history must be a list of earlier questions, not {_kind(history)}")
    return list(history[-MAX_HISTORY:])


def check_k(k: object) -> int:
    if not isinstance(k, int) or isinstance(k, bool) or not 1 <= k <= MAX_K:
        raise AssistantError(f"k must be a whole number from 1 to {MAX_K}")
    return k


def _kind(value: object) -> str:
    """A value's type in the words of JSON, for messages about input from the HTTP API."""
    names = {bool: "true/false", int: "a number", float: "a number", str: "text", dict: "an object"}
    return names.get(type(value), f"a {type(value).__name__}")


def _usable(earlier: object) -> str | None:
    """An earlier question worth using as context; noise in the history is dropped, not fatal."""
    try:
        return clean_question(earlier)[0]
    except AssistantError:
        return None


def _encoder_for(data: Store, index_dir: Path, embedder=None):
    """The encoder for questions to this index: the given one if it makes the same vectors as
    the one that built the index, else the name of the variant to load when first needed (the
    default one if compatible, else the builder's own)."""
    from .embed.registry import FAMILY, compatible, default_variant

    built = (data.manifest.get("encoder") or {}).get("variant") or "torch"
    if built not in FAMILY:
        raise IndexMismatchError(f"index at {index_dir} was built by an unknown encoder {built!r}: "
                                 f"{REBUILD_HINT.format(index=index_dir)}")
    if embedder is not None:
        if compatible(built, getattr(embedder, "variant", "fp32")):
            return embedder
        raise IndexMismatchError(f"index at {index_dir} was built by the {built} encoder, not "
                                 f"{getattr(embedder, 'variant', '?')}: {REBUILD_HINT.format(index=index_dir)}")
    wanted = default_variant()
    return wanted if compatible(built, wanted) else FAMILY[built]


class Assistant:
    """Answers questions from one index folder; safe to share between threads.

    The index is reloaded when its manifest changes, so a running app picks up a rebuild
    once it is committed and never sees a half-written one.
    """

    def __init__(self, index_dir: Path, data: Store, embedder,  # an encoder, or a variant name to load lazily
                 search_settings: SearchSettings | None = None,
                 answer_settings: AnswerSettings | None = None) -> None:
        self.index_dir = Path(index_dir)
        self._data = data
        self._stamp = data.stamp()
        self._embedder = embedder
        self._reload_lock = threading.Lock()
        self._failed: object = None
        self._chosen = False
        self._encoder_lock = threading.Lock()
        self.search_settings = search_settings or SearchSettings()
        self.answer_settings = answer_settings or AnswerSettings()
        self.integrity_problem: str | None = None  # set by verify_in_background when a file fails its checksum
        self._views: tuple[Store, Bounded[Allowed, Store]] = (data, Bounded(VIEWS))  # restricted views of the current store

    @classmethod
    def open(cls, index_dir: str | os.PathLike | None = None, embedder=None, warm: bool = True,
             **kwargs) -> Assistant:
        """Open an index with the encoder that built it.

        `warm` pays the first question's one-off costs (stemmer, FAISS and onnxruntime first
        calls) here, so a long-running app answers every user equally fast; a one-shot
        command skips it.
        """
        index_dir = Path(index_dir) if index_dir is not None else default_index_dir()
        data = open_store(index_dir)
        # The encoder loads at the first question: listing sources or reading a document needs none.
        bot = cls(index_dir, data, _encoder_for(data, index_dir, embedder), **kwargs)
        bot._chosen = embedder is None  # a rebuild by another encoder then switches encoders too
        if warm:
            bot.ask("What does this collection of documents cover?")
        return bot

    @property
    def corpus_dir(self) -> Path:
        """The corpus folder the index was built from."""
        return Path(self.data.manifest.get("corpus") or ".")

    @property
    def store(self) -> Store:
        """The current index, reopened if a newer manifest was committed."""
        return self.data

    @property
    def data(self) -> Store:
        """The current index (the same as `store`), reopened if a newer manifest was committed."""
        stamp = self._data.stamp()  # the store's change stamp: its manifest file, or a Milvus manifest's generation
        if stamp is not None and stamp != self._stamp:
            with self._reload_lock:
                if stamp != self._stamp and stamp != self._failed:
                    try:
                        data = open_store(self.index_dir)
                        self._embedder = _encoder_for(data, self.index_dir, None if self._chosen else self._embedder)
                        self._data, self._stamp = data, stamp
                    except AssistantError:
                        self._failed = stamp  # keep answering from the index we have; don't re-verify each ask
        return self._data

    def view(self, collections: Iterable[str] | None = None) -> Store:
        """The current index as a caller allowed `collections` sees it (None: all of it).

        Every method below that reveals documents takes the same keyword and reads only through
        this view, so nothing of another collection reaches a reply, a list or an error message
        (assistant/index/restricted.py). A view is kept per set of collections, so its caches last.
        """
        allowed = allowed_from(collections)
        data = self.data
        if allowed is None:
            return data
        store, views = self._views
        if store is not data:
            views = Bounded(VIEWS)
            self._views = (data, views)
        return views.get(allowed, lambda: restrict(data, allowed))

    def collections(self, *, collections: Iterable[str] | None = None) -> list[str]:
        """The collections that hold indexed documents (top-level folders, and "shared" for the root),
        among `collections` when given (a caller is not told the names of the others)."""
        return sorted({collection_of(info.source) for info in self.sources(collections=collections)})

    @property
    def embedder(self):
        """The question encoder, loaded on first use."""
        if isinstance(self._embedder, str):
            from .embed.registry import get_encoder

            with self._encoder_lock:
                if isinstance(self._embedder, str):
                    self._embedder = get_encoder(self._embedder)
        return self._embedder

    def ask(self, question: str, history: list[str] | None = None, k: int = 5, *,
            collections: Iterable[str] | None = None) -> Reply:
        """One pass over the documents of `collections` (None: every document): the query, its
        candidates (each carrying its chunk, scores and sentences), the reading of a follow-up,
        confidence (judged once), the answer sentence, then the reply."""
        started = time.perf_counter()
        question, notice = clean_question(question)
        k = check_k(k)
        history = [earlier for earlier in map(_usable, check_history(history)) if earlier]
        data = self.view(collections)
        query = make_query(question, history, self.embedder, self.search_settings)
        found = choose(find(data, query, k, self.search_settings), self.search_settings, self.answer_settings)
        confident = is_confident(found, self.answer_settings, data)
        hits = found.candidates
        documents = {source: data.document(source) for source in {hit.chunk.source for hit in hits}}
        answer = pick_answer(found, documents, self.answer_settings)
        passages = [_passage(hit.chunk, rank, round(hit.score, 4),
                             strength(hit, hits[0], confident, self.answer_settings),
                             page=_cited_page(found, hit, documents[hit.chunk.source], answer if confident else None),
                             chunk_id=hit.id)
                    for rank, hit in enumerate(hits, 1)]
        cited = documents.get(answer.source) if confident and answer.source else None
        answer_page = cited.page_at(answer.start) if cited is not None else None
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
            answer_page=answer_page,
        )

    def sources(self, *, collections: Iterable[str] | None = None) -> list[SourceInfo]:
        return self.view(collections).sources()

    def skipped(self, *, collections: Iterable[str] | None = None) -> list[Skipped]:
        """Every corpus file the last index run did not read, and why (from the manifest, in folder order).

        So the page and other callers can show what is missing from the answers, not only what is there.
        """
        entries = self.view(collections).manifest.get("skipped") or []
        return [Skipped(str(e["source"]), str(e.get("reason") or "skipped"), e.get("sha256"))
                for e in entries if isinstance(e, dict) and e.get("source")]

    def document(self, source: str, *, collections: Iterable[str] | None = None) -> Document:
        """An indexed document: its clean text, title, blocks and pages (what the viewer shows)."""
        doc = self.view(collections).document(source) if isinstance(source, str) else None
        if doc is None:
            near = self.sources_named(source, collections=collections) if isinstance(source, str) else []
            hint = f" (did you mean {' or '.join(map(repr, near[:5]))}{' or another' if len(near) > 5 else ''}?)" if near else ""
            raise AssistantError(f"not an indexed document: {str(source)[:200]!r}{hint}")
        return doc

    def sources_named(self, name: str, *, collections: Iterable[str] | None = None) -> list[str]:
        """Indexed sources whose file name is `name`'s (any folder, any case): "report.pdf" finds
        "gov/report.pdf", so a caller who gave the bare file name is told the name to use."""
        wanted = name.replace("\\", "/").rsplit("/", 1)[-1].casefold()
        if not wanted:
            return []
        return sorted(s.source for s in self.sources(collections=collections)
                      if s.source.rsplit("/", 1)[-1].casefold() == wanted)

    def read_source(self, source: str, *, collections: Iterable[str] | None = None) -> str:
        """Text of an indexed document, as indexed; nothing else on disk is reachable."""
        return self.document(source, collections=collections).text

    def original(self, source: str, *, collections: Iterable[str] | None = None) -> bytes:
        """The indexed file's bytes (a PDF to draw a page from), only while they are what was indexed.

        Only a source named in the index is opened, with the reader's own checks (no links,
        no special files, size limit), and its SHA-256 must match the indexed one.
        """
        doc = self.document(source, collections=collections)
        from .ingest.reader import read_regular_file

        raw = read_regular_file(self.corpus_dir / doc.source)
        if isinstance(raw, str):
            raise AssistantError(f"the original of {doc.source} cannot be read: {raw}")
        if hashlib.sha256(raw).hexdigest() != doc.sha256:
            raise AssistantError(f"{doc.source} has changed since it was indexed; re-index to see it")
        return raw

    def locate(self, source: str, start: int, *, collections: Iterable[str] | None = None) -> Passage | None:
        """The indexed passage that holds a character offset: section and page for a shared link."""
        if not isinstance(source, str):
            return None
        for chunk_id, chunk in self.view(collections).chunks_of(source):
            if chunk.start <= start < chunk.end:
                return _passage(chunk, chunk_id=chunk_id)
        return None

    def describe(self, *, collections: Iterable[str] | None = None) -> str:
        sources = self.sources(collections=collections)
        titles = "; ".join(s.title for s in sources[:8]) + ("; …" if len(sources) > 8 else "")
        problem = f" (warning: {self.integrity_problem})" if self.integrity_problem else ""
        return f"{len(sources)} documents, {sum(s.chunks for s in sources)} passages: {titles}{problem}"

    def verify_in_background(self) -> threading.Thread:
        """Check every byte of the index once, off the request path (opening checks only sizes and
        the edges of large files); a failure is kept in `integrity_problem` and shown by describe()."""
        from .index.stores import verify

        stamp = self._stamp

        def run() -> None:
            try:
                verify(self.index_dir)
            except AssistantError as exc:
                if self._data.stamp() == stamp:  # not a commit that replaced files meanwhile
                    self.integrity_problem = str(exc)

        thread = threading.Thread(target=run, name="index-verify", daemon=True)
        thread.start()
        return thread

    def example_questions(self, n: int = 4, *, collections: Iterable[str] | None = None) -> list[str]:
        """Questions built from section headings of different documents, so they have answers."""
        seen_docs, questions = set(), []
        store = self.view(collections)
        for chunk in (c for s in store.sources() for _, c in store.chunks_of(s.source)):
            section = chunk.section.split(" > ")[-1].split(" — ")[-1].strip()
            if not section or chunk.source in seen_docs or len(section.split()) > 8:
                continue
            seen_docs.add(chunk.source)
            topic = section.rstrip("?").strip()
            questions.append(topic if section.endswith("?") else f"What does {chunk.title} say about {topic.lower()}?")
            if len(questions) == n:
                break
        return questions
