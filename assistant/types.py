"""Plain data types that cross module borders."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field


@dataclass(frozen=True)
class Document:
    """A decoded source file; offsets everywhere refer to `text`."""

    source: str  # path relative to the corpus folder, with forward slashes
    text: str
    title: str
    sha256: str  # of the raw bytes, so a changed file is noticed even if it decodes the same
    encoding: str


@dataclass(frozen=True)
class Skipped:
    """A file that was not indexed, and why (shown to the user in the summary)."""

    source: str
    reason: str


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
        }


@dataclass(frozen=True)
class SourceInfo:
    """One indexed document, for the Sources view and `assistant sources`."""

    source: str
    title: str
    chunks: int
    chars: int
