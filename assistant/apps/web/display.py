"""How a document is shown to a person: its clean text as headings, paragraphs, lists, tables and code.

A reader's blocks say it for PDF, Word and HTML. Plain-text files have none, so their heading
lines (`== Section ==`, `# Section`) are found here and shown without their markup; the rest
is shown as written. Offsets always refer to the document's clean text, so a cited span can
be marked inside whatever is shown.
"""

from __future__ import annotations

import re

from ...types import Block, Document

_HEADING_LINE = re.compile(r"^[ \t]*(?:(=+)[ \t]*([^=\n].*?)[ \t]*=+|(#{1,6})[ \t]+(.+?)(?:[ \t]+#+)?)[ \t]*$", re.MULTILINE)


def display_blocks(document: Document) -> list[Block]:
    """Blocks covering what a person reads, in order.

    For a plain-text document: a "heading" block for the words of each heading line and a
    "text" block (shown as written, line breaks kept) for everything between them.
    """
    if document.blocks:
        return list(document.blocks)
    text = document.text
    blocks: list[Block] = []
    cursor = 0
    for match in _HEADING_LINE.finditer(text):
        marks = match.group(1) or match.group(3)
        name_group = 2 if match.group(1) else 4
        if match.start() > cursor and text[cursor : match.start()].strip():
            blocks.append(Block("text", cursor, match.start()))
        blocks.append(Block("heading", match.start(name_group), match.end(name_group), len(marks)))
        cursor = match.end()
    if cursor < len(text) and text[cursor:].strip():
        blocks.append(Block("text", cursor, len(text)))
    return blocks
