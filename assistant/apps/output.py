"""The JSON shapes of replies, sources and documents, one function each, so `assistant ask --json`,
`assistant show --json` and the REST API can never drift apart (README: the reply contract)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any


def reply_json(reply: Any) -> dict:
    """A Reply as the public JSON contract."""
    return reply.to_dict()


def source_json(info: Any) -> dict:
    """One indexed document as `assistant sources --json` lists it."""
    return asdict(info)


def document_json(document: Any) -> dict:
    """A document's text, blocks and pages as `assistant show --json` prints it (no file hash)."""
    row = document.to_row()
    row.pop("sha256", None)
    return row
