"""How a document is shown to a person: its clean text as headings, paragraphs, lists, tables and code.

A reader's blocks say it for every format. For plain text they are spans of the file as written
(`ingest/readers/text.py`), the same blocks whose headings give the citations their sections, so
the viewer and a citation cannot disagree about where a heading is: the viewer shows each heading
without its marks (`== Section ==`, `# Section`, an underline) and the text between headings as
written. Offsets always refer to the document's clean text, so a cited span can be marked inside
whatever is shown.
"""

from __future__ import annotations

from ...ingest.readers.text import PLAIN, text_blocks
from ...types import Block, Document


def display_blocks(document: Document) -> list[Block]:
    """Blocks covering what a person reads, in order.

    For a plain-text document: a "heading" block for the words of each heading and a "text"
    block (shown as written, line breaks kept) from the first paragraph under a heading to the
    last one before the next. A heading that runs in with its paragraph ("2. Grant of License.
    Subject to ...") is shown inside that paragraph, as written.
    """
    if document.format != PLAIN:
        return list(document.blocks)
    # An index written before plain text had a reader stored no blocks for it: find them now.
    blocks = document.blocks or tuple(text_blocks(document.text, document.title))
    shown: list[Block] = []
    region: tuple[int, int] | None = None  # the as-written run of text under the last heading
    for i, block in enumerate(blocks):
        if block.kind != "heading":
            region = (region[0] if region else block.start, block.end)
            continue
        if i + 1 < len(blocks) and blocks[i + 1].start == block.start:
            continue  # runs in with its paragraph
        if region:
            shown.append(Block("text", *region))
            region = None
        shown.append(block)
    if region:
        shown.append(Block("text", *region))
    return shown
