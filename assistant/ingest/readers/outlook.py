"""Outlook messages (.msg): not read. The maintained library for them, extract-msg, is GPL, which
this project does not take; the file is skipped with a reason saying how to index it."""

from __future__ import annotations


def extract(raw: bytes) -> str:
    """Always the reason: save the message as .eml (Outlook: File > Save As) to index it."""
    return "Outlook .msg is not read (its library, extract-msg, is GPL): save the message as .eml to index it"
