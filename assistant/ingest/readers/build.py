"""Clean text and its blocks, built one block at a time by the format readers."""

from __future__ import annotations

import re

from ...types import INLINE_CODE, Block

PAGE_BREAK = "\n\f\n"  # between pages of clean text; the viewer draws it as a page rule


class TextBuilder:
    """Accumulates a document's clean text with a `Block` for every piece added.

    Blocks are separated by a blank line, pages by a form feed, so the clean text reads well
    on its own and every block is an exact span of it.
    """

    def __init__(self) -> None:
        self._parts: list[str] = []
        self.length = 0
        self.blocks: list[Block] = []
        self.pages: list[int] = []  # offsets where pages 2, 3, ... start
        self.spans: list[Block] = []  # inline runs inside blocks (see Document.spans)

    @classmethod
    def over(cls, text: str, blocks: list[Block], spans: list[Block] = ()) -> TextBuilder:
        """A builder holding text already as it is to be cited (plain text, read as written) and
        blocks found over it, rather than text rebuilt block by block."""
        builder = cls()
        builder._append(text)
        builder.blocks, builder.spans = list(blocks), list(spans)
        return builder

    def _append(self, piece: str) -> None:
        self._parts.append(piece)
        self.length += len(piece)

    def add(self, kind: str, text: str, level: int = 0, page: int | None = None,
            continues: bool = False) -> Block | None:
        """Add one block (its text stripped); empty text adds nothing. `continues`: see `Block`."""
        text = text.strip()
        if not text:
            return None
        if self.length and not self._parts[-1].endswith(PAGE_BREAK):
            self._append("\n\n")
        block = Block(kind, self.length, self.length + len(text), level, page, continues)
        self._append(text)
        self.blocks.append(block)
        return block

    def new_page(self) -> None:
        """Start the next page. A page with no text still counts (a cover picture, a blank page):
        its start is recorded all the same, so later pages keep their numbers."""
        if self.length and not self._parts[-1].endswith(PAGE_BREAK):
            self._append(PAGE_BREAK)
        self.pages.append(self.length)

    def text(self) -> str:
        return "".join(self._parts)


def add_built(builder: TextBuilder, other: TextBuilder, level_offset: int = 0) -> None:
    """Add every block of another builder (a part read by another reader: an e-mail's HTML body,
    an e-book's chapter), headings `level_offset` deeper, inline spans kept."""
    text = other.text()
    spans = iter(sorted(other.spans, key=lambda s: s.start))
    span = next(spans, None)
    for block in other.blocks:
        level = block.level + level_offset if block.kind == "heading" else block.level
        added = builder.add(block.kind, text[block.start:block.end], level, block.page, block.continues)
        while span is not None and span.start < block.end:
            if added is not None and span.start >= block.start:
                shift = added.start - block.start
                builder.spans.append(Block(span.kind, span.start + shift, span.end + shift, span.level, span.page))
            span = next(spans, None)


# Inline code is carried through squashing and table layout between these two marks, then
# recorded as a span of the clean text (see add_marked).
CODE_OPEN, CODE_CLOSE = "\x02", "\x03"
_CODE_RUN = re.compile(f"{CODE_OPEN}([^{CODE_CLOSE}]*){CODE_CLOSE}")


def add_marked(builder: TextBuilder, kind: str, text: str, level: int = 0) -> None:
    """Add a block whose inline code a reader marked (CODE_OPEN ... CODE_CLOSE); each run of code
    becomes an inline-code span of the clean text (Document.spans) and the marks are dropped."""
    text = text.strip()
    runs, plain, cursor, length = [], [], 0, 0
    for match in _CODE_RUN.finditer(text):
        before = text[cursor:match.start()].replace(CODE_OPEN, "").replace(CODE_CLOSE, "")
        length += len(before)
        runs.append((length, length + len(match.group(1))))
        plain += [before, match.group(1)]
        length += len(match.group(1))
        cursor = match.end()
    plain.append(text[cursor:])
    joined = "".join(plain).replace(CODE_OPEN, "").replace(CODE_CLOSE, "")
    lead = len(joined) - len(joined.lstrip())  # builder.add strips; code may open with a space
    block = builder.add(kind, joined, level)
    if block is not None:
        builder.spans += [Block(INLINE_CODE, block.start + max(s - lead, 0), min(block.start + e - lead, block.end))
                          for s, e in runs if e > s]


def squash(text: str) -> str:
    """Runs of whitespace as one space: how a table cell or a heading reads in one line."""
    return " ".join(text.split())


def table_rows(rows: list[list[str]]) -> list[str]:
    """A table as readable lines: "Column: value; Column: value" when it has a header row.

    A header row is assumed when the first row's cells are all short and non-empty and the
    table has more than one row; otherwise each row is its cells joined with " | ".
    """
    rows = [[squash(cell) for cell in row] for row in rows if any(cell.strip() for cell in row)]
    if not rows:
        return []
    header = rows[0]
    if len(rows) > 1 and all(cell and len(cell) <= 40 for cell in header):
        lines = []
        for row in rows[1:]:
            pairs = [f"{name}: {value}" if name else value for name, value in zip(header, row) if value]
            lines.append("; ".join(pairs))
        return [line for line in lines if line]
    return [" | ".join(cell for cell in row if cell) for row in rows]


_BAD_TITLE = re.compile(r"^(?:untitled|document\d*|microsoft (?:word|powerpoint|excel)\b.*"
                        r"|(?:slide|book|sheet|presentation)\s*\d*|powerpoint presentation"
                        r"|.*\.(?:docx?|pptx?|xlsx?|pdf|html?|txt))$", re.IGNORECASE)


def usable_title(title: object) -> str:
    """A metadata title worth showing, or "" (file names and "Untitled" are not titles)."""
    if not isinstance(title, str):
        return ""
    title = squash(title)
    return "" if not title or len(title) > 200 or _BAD_TITLE.match(title) else title
