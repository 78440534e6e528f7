"""Plain data types that cross module borders."""

from __future__ import annotations

import bisect
import re
from dataclasses import asdict, dataclass, field, fields

BLOCK_KINDS = ("heading", "paragraph", "list", "table", "code", "quote")
PAGED_FORMATS = frozenset({"pdf", "image"})  # formats whose every passage cites a page, even with one page
INLINE_CODE = "inline_code"  # a span inside a block: code written inline (`path.basename()` in Markdown)


@dataclass(frozen=True)
class Block:
    """One structural piece of a document's clean text, as its reader found it.

    `text[start:end]` is the block's content (a heading's words without markup, a table as
    readable rows); `level` is a heading's depth (1 = top) and 0 otherwise. `continues` marks a
    block that goes on from the block right before it: one paragraph cut by a page end, each
    part a block on its own page (so every part cites and highlights its page), read as one
    paragraph by the chunker and the answer-unit splitter (a sentence over the page end is one unit).
    """

    kind: str  # one of BLOCK_KINDS
    start: int
    end: int
    level: int = 0
    page: int | None = None  # 1-based, for paged formats (PDF)
    continues: bool = False


@dataclass(frozen=True)
class Document:
    """A document as the assistant reads it; offsets everywhere refer to `text`.

    `text` is the clean text a reader extracted: for plain text (format "text") the decoded file
    itself, for every other format in the format table (ingest/readers FORMATS) the words a person
    reads (no markup, page furniture, scripts or navigation). Citations are exact spans of it, and
    `read_source` returns it.
    `blocks` is the structure the reader found, in text order; only a plain-text document may
    come without it (built in code, or stored by an index older than the plain-text reader):
    the chunker and the web viewer then find its blocks from its lines (readers/text.py). For
    another format, no blocks means no content to chunk: it gives no passages.
    `pages` the offsets where pages 2, 3, ... start (for plain text: after each form feed);
    `spans` marks runs inside blocks (inline code), stored with the blocks and split off here.
    With neither blocks nor spans, answering judges code by the fences and backticks in `text`.
    """

    source: str  # path relative to the corpus folder, with forward slashes
    text: str
    title: str
    sha256: str  # of the raw bytes, so a changed file is noticed even if it decodes the same
    encoding: str
    format: str = "text"  # a Format name of the format table: "text", "markdown", "pdf", "docx", "html", ...
    blocks: tuple[Block, ...] = ()
    pages: tuple[int, ...] = ()
    spans: tuple[Block, ...] = ()

    def __post_init__(self) -> None:
        if any(b.kind == INLINE_CODE for b in self.blocks):  # as stored: one list, spans among blocks
            object.__setattr__(self, "spans", self.spans + tuple(b for b in self.blocks if b.kind == INLINE_CODE))
            object.__setattr__(self, "blocks", tuple(b for b in self.blocks if b.kind != INLINE_CODE))
        # A plain-text file's form feeds are its page breaks (a page starts after each one), so
        # every format answers page_at the same way and nothing else counts form feeds.
        if not self.pages and "\f" in self.text:
            object.__setattr__(self, "pages", tuple(m.end() for m in re.finditer("\f", self.text)))

    def page_at(self, offset: int) -> int | None:
        """1-based page of a character offset, None for documents without pages (a one-page PDF has page 1)."""
        if self.pages or self.format in PAGED_FORMATS:
            return bisect.bisect_right(self.pages, offset) + 1
        return None

    def to_row(self) -> dict:
        """A JSON-ready row for the index (blocks as [kind, start, end, level, page(, continues)])."""
        row = {f.name: getattr(self, f.name) for f in fields(self)}
        row["blocks"] = self.stored_blocks()
        row["pages"] = list(self.pages)
        del row["spans"]
        return row

    def stored_blocks(self) -> list[list]:
        """Blocks and spans as one JSON-ready list ([kind, start, end, level, page] each, and `true`
        after them for a block that continues the one before: rows of other blocks stay as they were)."""
        return [[b.kind, b.start, b.end, b.level, b.page] + ([True] if b.continues else [])
                for b in (*self.blocks, *self.spans)]

    def in_code_block(self, start: int, end: int) -> bool:
        """Whether text[start:end] is or holds part of a code block."""
        return self._overlaps(self.blocks, start, end, "code")

    def in_code(self, start: int, end: int) -> bool:
        """Whether text[start:end] is or holds code: a code block or an inline code span."""
        return self._overlaps(self.spans, start, end) or self.in_code_block(start, end)

    @staticmethod
    def _overlaps(runs: tuple[Block, ...], start: int, end: int, kind: str | None = None) -> bool:
        """Whether a run (of that kind) overlaps text[start:end]; runs are sorted and do not overlap."""
        i = max(bisect.bisect_right(runs, start, key=lambda b: b.start) - 1, 0)
        for b in runs[i:]:
            if b.start >= end:
                return False
            if start < b.end and (kind is None or b.kind == kind):
                return True
        return False

    @classmethod
    def from_row(cls, row: dict) -> Document:
        blocks = tuple(Block(*b) for b in row.get("blocks") or ())
        return cls(**{**row, "blocks": blocks, "pages": tuple(row.get("pages") or ())})


@dataclass(frozen=True)
class Skipped:
    """A file that was not indexed, and why (shown to the user in the summary)."""

    source: str
    reason: str
    # Of the bytes judged unreadable; set only when the reason is about the content, so the file is
    # not read again until it changes (a link, a permission or the size limit is re-checked).
    sha256: str | None = field(default=None, compare=False)


@dataclass(frozen=True)
class Chunk:
    """A passage of a document: `text == document.text[start:end]` always holds."""

    source: str
    title: str
    section: str
    start: int
    end: int
    text: str
    line: int  # 1-based line of `start`
    page: int | None = None
    search_text: str = ""  # title, section and the text with hard wraps joined: what gets embedded
    sentences: tuple[tuple[int, int], ...] = ()  # answer-unit spans (file offsets), embedded one by one

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_row(cls, row: dict) -> Chunk:
        """A chunk back from a stored row: `to_dict()`'s fields, with the sentence spans as the
        lists JSON (or Arrow) gives back; every store and the Ray engine read chunks through this."""
        return cls(**{**row, "sentences": tuple(tuple(span) for span in row.get("sentences") or ())})


@dataclass
class Passage:
    """A retrieved chunk with its rank and score, as shown to users."""

    rank: int
    text: str
    source: str
    title: str
    section: str
    start: int
    end: int
    score: float
    page: int | None = None
    line: int = 1
    strength: str = "weak"  # "strong" or "weak": the score in words a person understands
    chunk_id: str = ""  # the passage's stable id (16 hex digits): the same passage keeps it across re-indexing

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class Reply:
    """The answer to one question; `to_dict()` is the public JSON contract."""

    question: str
    answer: str
    confident: bool
    passages: list[Passage] = field(default_factory=list)
    answer_source: str | None = None
    answer_start: int | None = None
    answer_end: int | None = None
    notice: str | None = None
    seconds: float = 0.0
    answer_page: int | None = None

    def to_dict(self) -> dict:
        return {
            "question": self.question,
            "answer": self.answer,
            "confident": self.confident,
            "passages": [p.to_dict() for p in self.passages],
            "answer_source": self.answer_source,
            "answer_start": self.answer_start,
            "answer_end": self.answer_end,
            "notice": self.notice,
            "answer_page": self.answer_page,
        }


@dataclass(frozen=True)
class SourceInfo:
    """One indexed document, for the Sources view and `assistant sources`."""

    source: str
    title: str
    chunks: int
    chars: int
    sha256: str = ""  # of the file's bytes when it was indexed
