"""Plain text: the file as written, with the blocks its lines make.

The clean text of a plain-text file is the decoded file itself (a citation is a span of what the
user wrote), so the blocks are spans of it rather than of rebuilt text. Headings are the lines
the rules in `ingest/structure.py` mark (`# Heading`, `== Heading ==`, a line underlined with
`===`/`---` or another adornment), plus headings found by their look: a short line standing
alone above a paragraph, or a numbered clause title ("8. Termination"). A heading found by its
look has level 0: it sits below the marked headings above it, a run of them reads as one
heading, and one that runs in with its paragraph ("2. Grant of License. Subject to ...") is a
heading block inside that paragraph's span. Front matter, rules, page furniture and lines that
repeat the title are in no block.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ...text import INLINE_CODE as INLINE_CODE_RUN
from ...text import front_matter, normalize, word_count
from ...types import INLINE_CODE, Block
from .. import structure
from .build import TextBuilder

PLAIN = "text"  # Document.format of plain text (its name in FORMATS): the text is the file as written
SOFT = 0  # the level of a heading found by its look rather than its marks
_KIND = {"text": "paragraph", "bullet": "list", "code": "code"}


def extract(text: str, source: str = "") -> tuple[TextBuilder, str]:
    """The file's blocks (and inline code spans) over its own text, and its title."""
    title = structure.text_title(text) or structure.file_name_title(source)
    blocks = text_blocks(text, title)
    return TextBuilder.over(text, blocks, inline_code(text, blocks)), title


@dataclass
class _Piece:
    """A paragraph, list item or code block as the line walk finds it, under its marked headings."""

    start: int
    end: int
    kind: str  # "text", "bullet", "code"
    section: tuple[str, ...]


def text_blocks(text: str, title: str) -> list[Block]:
    """Headings, paragraphs, list items and code blocks, in order; `title` is the document's."""
    items = _walk(text, title, structure.furniture(text))
    pieces = [item for item in items if isinstance(item, _Piece)]
    soft = _soft_headings(text, pieces)
    blocks: list[Block] = []
    for item in items:
        if isinstance(item, Block):
            blocks.append(item)
            continue
        found = soft.get(id(item))
        if found is not None:  # a heading by its look: the whole line, or the title running in
            blocks.append(Block("heading", item.start, found, SOFT))
            if found == item.end:
                continue
        blocks.append(Block(_KIND[item.kind], item.start, item.end))
    return blocks


def inline_code(text: str, blocks: list[Block]) -> list[Block]:
    """Backtick runs outside code blocks, as inline code spans (Document.spans)."""
    code = iter([(b.start, b.end) for b in blocks if b.kind == "code"])  # in order: one pass over both
    block = next(code, None)
    spans: list[Block] = []
    for match in INLINE_CODE_RUN.finditer(text):
        while block is not None and block[1] <= match.start():
            block = next(code, None)
        if block is None or match.end() <= block[0]:
            spans.append(Block(INLINE_CODE, match.start(), match.end()))
    return spans


def _walk(text: str, title: str, furniture: frozenset[str]) -> list[Block | _Piece]:
    """Group lines into paragraphs, list items and code blocks; marked headings as Blocks between them."""
    headings: list[tuple[int, str]] = []
    items: list[Block | _Piece] = []
    current: _Piece | None = None
    in_code = False
    marks: list[str] = []  # reStructuredText underline marks in order of first use
    found = False  # whether a paragraph, item or code block came yet
    skip = len(front_matter(text))
    for start, end in structure.lines(text):
        if start < skip:
            continue
        line = text[start:end]
        stripped = line.strip()
        underline = None if in_code else structure.UNDERLINE.match(line)
        # The block so far is copied only under an underline: copying it for every line was quadratic.
        above = text[current.start : current.end] if underline and current is not None and current.kind != "code" else "\n"
        if underline and ("\n" in above or (underline.group(1) not in structure.UNDERLINE_LEVELS
                                            and len(stripped) < len(above.strip()))):
            underline = None  # not under a one-line heading (an RST underline is at least as long as its title)
        if structure.FENCE.match(line) and not underline:
            in_code, found = not in_code, True
            current = _extend(items, current, start, end, "code", headings, new=False)
            continue
        if in_code:
            current = _extend(items, current, start, end, "code", headings, new=False)
            continue
        heading = structure.WIKI_HEADING.match(line) or structure.MD_HEADING.match(line)
        if underline:
            items.pop()  # the line above was the heading, not a paragraph
            mark = underline.group(1)
            if mark not in structure.UNDERLINE_LEVELS and mark not in marks:
                marks.append(mark)
            level = (structure.UNDERLINE_LEVELS.index(mark) + 1 if mark in structure.UNDERLINE_LEVELS
                     else 3 + marks.index(mark))
            span = _stripped(text, current.start, current.end)
        elif heading:
            level, span = len(heading.group(1)), _stripped(text, start + heading.start(2), start + heading.end(2))
        elif structure.RULE.match(line):
            current = None
            continue
        else:
            level = 0
        if level:
            current = None
            name = normalize(text[span[0] : span[1]])
            if headings or found or name != title:  # a first heading that repeats the title is not a section
                headings[:] = [h for h in headings if h[0] < level] + [(level, name)]
            items.append(Block("heading", span[0], span[1], level))
            continue
        if not stripped or structure.is_noise(line, furniture) or stripped == title:
            current = None
            continue
        found = True
        lead = len(line) - len(line.lstrip())
        bullet = bool(structure.BULLET.match(line))
        current = _extend(items, current, start + lead, end, "bullet" if bullet else "text", headings, new=bullet)
    return items


def _stripped(text: str, start: int, end: int) -> tuple[int, int]:
    """The span without surrounding whitespace."""
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def _extend(items: list, current: _Piece | None, start: int, end: int, kind: str,
            headings: list[tuple[int, str]], new: bool) -> _Piece:
    """Continue the open piece with this line, or open a new one."""
    section = tuple(name for _, name in headings)
    if current is None or new or current.section != section or (current.kind == "code") != (kind == "code"):
        current = _Piece(start, end, kind, section)
        items.append(current)
    else:
        current.end = end
    return current


def _soft_headings(text: str, pieces: list[_Piece]) -> dict[int, int]:
    """{id(piece): end of its heading} for pieces that are headings by their look.

    A short standalone line with no closing punctuation (a PDF-style heading), or a short
    numbered line, followed by more under the same marked headings; or the Title Case title of
    a numbered clause that runs in with its text (the heading ends inside the piece).
    """
    found: dict[int, int] = {}
    for i, piece in enumerate(pieces):
        body = text[piece.start : piece.end]
        followed = i + 1 < len(pieces) and pieces[i + 1].section == piece.section
        if followed and ((piece.kind == "text"
                          and body.count("\n") <= 1
                          and word_count(body) <= structure.SOFT_HEADING_WORDS
                          and not structure.SOFT_HEADING_END.search(body)
                          and "://" not in body  # an address line, not a heading
                          and (body[:1].isupper() or body[:1].isdigit()))
                         or _numbered_heading(text, pieces, i)):
            found[id(piece)] = piece.end
            continue
        clause = structure.CLAUSE.match(body)
        if clause and structure.is_clause_title(clause.group(2), body[clause.end() :]):
            found[id(piece)] = piece.start + clause.end(2)  # "2. Grant of Copyright License. Subject to ..."
    return found


def _numbered_heading(text: str, pieces: list[_Piece], i: int) -> bool:
    """A short numbered line standing alone above a paragraph, not an item of a numbered list."""
    piece, after = pieces[i], pieces[i + 1]
    body = text[piece.start : piece.end]
    if "\n" in body or word_count(body) > 10 or not structure.NUMBERED.match(body) or after.kind != "text":
        return False
    before = pieces[i - 1] if i else None
    return before is None or before.kind != "bullet" or bool(re.search(r"\n[ \t\r]*\n", text[before.end : piece.start]))
