"""The REST API's request and reply shapes, for validation and the OpenAPI schema.

Replies are built by apps/output.py (the same functions as `assistant ask --json` and `show
--json`); the models here document them and are not used to filter them, so the API can never
drop a field the CLI prints.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from ...types import Passage, SourceInfo

SourceOut = SourceInfo  # a dataclass: its fields are the JSON of `assistant sources --json`


class AskRequest(BaseModel):
    """A question, earlier questions of the conversation (oldest first) and the passages wanted."""

    model_config = ConfigDict(extra="forbid")
    question: str = Field(description="at most 2,000 characters are used (16,000 read)")
    history: list[str] | None = Field(default=None, description="earlier questions; the latest 20 are looked at")
    k: int = Field(default=5, description="passages to return, 1 to 50")


class ReplyOut(BaseModel):
    """The reply contract of `assistant ask --json` (README)."""

    question: str
    answer: str
    confident: bool
    passages: list[Passage]
    answer_source: str | None
    answer_start: int | None
    answer_end: int | None
    notice: str | None
    answer_page: int | None


class DocumentOut(BaseModel):
    """A document as `assistant show --json` prints it; blocks are [kind, start, end, level, page]."""

    source: str
    text: str
    title: str
    encoding: str
    format: str
    blocks: list[list[str | int | None]]
    pages: list[int]


class UploadOut(BaseModel):
    """Files saved into the collection (indexing runs in the background) and files refused, with why."""

    collection: str
    added: list[str]
    refused: list[str]
    status: str


class RemoveOut(BaseModel):
    removed: str
    status: str


class ErrorOut(BaseModel):
    error: str


ERRORS = {code: {"model": ErrorOut} for code in (400, 401, 403, 404, 413, 429, 503)}
