"""A PDF page's lines in reading order, from the geometry of its characters.

PDFium's own font-size field is 1.0 for every character of many real PDFs (the size sits in
the text matrix), so sizes here are the rendered glyph size: font size times the scale of the
character's matrix. Lines are PDFium's lines cut at wide horizontal gaps (columns, table
cells); the page is then cut recursively along empty horizontal strips (bands) and empty
vertical strips between columns of running text (XY-cut), and each piece is read top to
bottom, left to right. A page whose text runs sideways (a landscape table on a portrait page)
is read in its text's own direction; text at another angle (an arXiv margin stamp) is kept
apart, after the page's body, and never becomes a title or heading.

Every character of a line keeps the PDF character index it came from (-1 for a separator this
module inserts), so cited spans can be drawn exactly.
"""

from __future__ import annotations

import math
import re
import statistics
from dataclasses import dataclass, field
from itertools import repeat

from .pdf_cells import cut_rows
from .pdf_order import reading_leaves, rows_of
from .pdf_rules import unbox, widen_cells

SPLIT_GAP = 1.2  # em: a horizontal gap this wide inside a line separates two pieces (columns, table cells)
WIDE_GAP = 4.0  # em: the same across a space PDFium put there (narrow justified columns space words widely)
SPACE_GAP = 0.8  # em (of the glyph box): a word space this wide may be a gap between table cells (`pdf_cells`)
JOIN_GAP = 0.5  # em: pieces of a row this close (either way) are one cell: a superscript after its base
DIGIT_GAP = 0.2  # em: two digits this far apart with no space between are two numbers ("3" "0", not "30")
BOLD_WEIGHT = 600
CELL_SEPARATOR = " | "  # between pieces of one row that are not columns of text (table cells, form fields)
SOFT_HYPHENS = "\x02\xad\ufffe"  # PDFium's marks for a hyphen that only breaks a word at a line end
BREAK_MARKS = "\x02\ufffe"  # of those, PDFium's own guess for a printed "-" ending a line ("Stress-" "Engineered")
LIGATURES = {"\ufb00": "ff", "\ufb01": "fi", "\ufb02": "fl", "\ufb03": "ffi", "\ufb04": "ffl", "\ufb05": "st", "\ufb06": "st"}
_SPECIAL = re.compile("[" + SOFT_HYPHENS + "".join(LIGATURES) + "]")
SAMPLES = 8  # characters per piece whose size and weight are read
ITALIC_CHARS = 120  # pieces up to this long are asked whether they are italic (a heading is short)


@dataclass
class Line:
    """One printed line (or table row) of a page, in reading order."""

    page: int  # 0-based
    text: str
    indices: list[int]  # PDF char index of each character of `text`; -1 for inserted separators
    size: float  # rendered glyph size, PDF units
    bold: bool
    top: float  # in the text's own frame: y up, x along the text
    bottom: float
    left: float
    right: float
    column: int = 0  # the piece of the page (band or column) it was read in, in reading order
    column_left: float = 0.0
    column_right: float = 0.0
    cells: int = 1  # pieces joined with CELL_SEPARATOR
    vertical: bool = False  # at an angle to the page's text (a margin stamp)
    soft_break: bool = False  # ends in a hyphen at the line end (join the next line without space; "-" if printed)
    ocr: bool = False
    italic: bool = False  # set in italic to its end (measured on short lines only: heading candidates)
    boxes: list[tuple[float, float, float, float]] = field(default_factory=list)  # OCR: a box per char (page units)
    cell_spans: list[tuple[int, int, float, float]] = field(default_factory=list)  # per cell: start, end in text, left, right


class Piece:
    """Characters of one line between wide gaps, with their extent (in the text's frame)."""

    __slots__ = ("chars", "direction", "size", "bold", "italic", "soft_break", "left", "right", "bottom", "top", "spaces")

    def __init__(self, chars: list[tuple[int, str, float, float, float, float]], spaces: list | None = None) -> None:
        self.chars = chars  # (index, char, left, bottom, right, top)
        self.direction, self.size, self.bold, self.italic, self.soft_break = 0, 0.0, False, False, False
        self.spaces: list[tuple[float, float]] = spaces or []  # wide word spaces inside (right before, left after): cell gaps?
        self.extent()

    def extent(self) -> None:
        inked = [c for c in self.chars if not c[1].isspace()] or self.chars
        _, _, lefts, bottoms, rights, tops = zip(*inked)
        self.left, self.bottom, self.right, self.top = min(lefts), min(bottoms), max(rights), max(tops)

    def words(self) -> int:
        return len("".join(c[1] for c in self.chars).split())


def _direction(matrix) -> int:
    return round(math.degrees(math.atan2(matrix.b, matrix.a)) / 90) % 4 * 90


def _pdfium(name: str):
    """A PDFium text function called with plain addresses and ints: no ctypes type checks per call."""
    if not _CALLS:
        import ctypes

        import pypdfium2.raw as pdfium_c

        def plain(function, result, *arguments):
            return ctypes.CFUNCTYPE(result, *arguments)(ctypes.cast(function, ctypes.c_void_p).value)

        pointer, index = ctypes.c_void_p, ctypes.c_int
        _CALLS.update(box=plain(pdfium_c.FPDFText_GetLooseCharBox, ctypes.c_int, pointer, index, pointer),
                      matrix=plain(pdfium_c.FPDFText_GetMatrix, ctypes.c_int, pointer, index, pointer),
                      size=plain(pdfium_c.FPDFText_GetFontSize, ctypes.c_double, pointer, index),
                      weight=plain(pdfium_c.FPDFText_GetFontWeight, ctypes.c_int, pointer, index))
    return _CALLS[name]


_CALLS: dict = {}  # the functions above, made once


def _char_boxes(textpage, count: int, direction: int) -> tuple[list[bool], list[float], list[float], list[float], list[float]]:
    """Every character's loose box in one pass (ok, left, bottom, right, top), in the text's frame.

    One C call per character into one ctypes array, read back as one list of floats: the
    Python-level cost per character is a few list items, not a struct and four attributes.
    """
    import ctypes

    import pypdfium2.raw as pdfium_c

    boxes = (pdfium_c.FS_RECTF * count)()
    size, base = ctypes.sizeof(pdfium_c.FS_RECTF), ctypes.addressof(boxes)
    handle = ctypes.cast(textpage, ctypes.c_void_p).value
    ok = list(map(_pdfium("box"), repeat(handle, count), range(count), range(base, base + count * size, size)))
    flat = memoryview(boxes).cast("B").cast("f").tolist()  # left, top, right, bottom per character
    left, top, right, bottom = flat[0::4], flat[1::4], flat[2::4], flat[3::4]
    if direction == 90:
        return ok, bottom, [-x for x in right], top, [-x for x in left]
    if direction == 180:
        return ok, [-x for x in right], [-x for x in top], [-x for x in left], [-x for x in bottom]
    if direction == 270:
        return ok, [-x for x in top], left, [-x for x in bottom], right
    return ok, left, bottom, right, top


def page_lines(textpage, page_number: int, rules=None) -> list[Line]:
    """The page's lines in reading order (body first, then text at another angle); `rules`: `pdf_rules.Rules`."""
    import ctypes

    import pypdfium2.raw as pdfium_c

    count = textpage.count_chars()
    if count <= 0:
        return []
    text = textpage.get_text_range(0, count)
    handle = textpage.raw
    if len(text) != count:  # characters outside the BMP: one call per character keeps indices aligned
        text = "".join(chr(pdfium_c.FPDFText_GetUnicode(handle, i) or 32) for i in range(count))
    matrix = pdfium_c.FS_MATRIX()
    step = max(1, count // 64)
    directions = []
    for i in range(0, count, step):
        if not text[i].isspace() and pdfium_c.FPDFText_GetMatrix(handle, i, matrix):
            directions.append(_direction(matrix))
    page_direction = statistics.mode(directions) if directions else 0
    ok, lefts, bottoms, rights, tops = _char_boxes(handle, count, page_direction)
    address = ctypes.cast(handle, ctypes.c_void_p).value
    pieces: list[Piece] = []
    current: list = []
    spaces: list[tuple[float, float]] = []
    last = None  # the current piece's last inked character
    for i, ch, left, bottom, right, top in zip(range(count), text, lefts, bottoms, rights, tops):
        if ch in "\r\n\x00":
            if ch == "\n" and current:
                pieces.append(Piece(current, spaces))
                current, last, spaces = [], None, []
            continue
        if not ok[i]:
            continue
        if ch.isspace():
            current.append((i, ch, left, bottom, right, top))
            continue
        if last is not None:
            em = last[5] - last[3]
            if em < 1.0:  # max(em, 1.0) without the call, per character
                em = 1.0
            gap = left - last[4]
            spaced = current[-1] is not last  # PDFium saw a word break: justified text may space words widely
            if gap > (WIDE_GAP if spaced else SPLIT_GAP) * em or (left < last[2] - 2 * em and top < (last[3] + last[5]) / 2):
                pieces.append(Piece(current, spaces))
                current, spaces = [], []
            elif spaced and gap > SPACE_GAP * em:
                spaces.append((last[4], left))
            elif not spaced and gap > DIGIT_GAP * em and last[1].isdigit() and ch.isdigit():
                current.append((-1, " ", last[4], last[3], left, last[5]))
        last = (i, ch, left, bottom, right, top)
        current.append(last)
    if current:
        pieces.append(Piece(current, spaces))
    body, stamps = [], []
    for piece in pieces:
        _measure(address, piece, matrix)
        if piece.chars and not all(c[1].isspace() for c in piece.chars):
            (body if piece.direction == page_direction else stamps).append(piece)
    lines: list[Line] = []
    em = statistics.median(p.size for p in body) if body else 10.0
    placed = [(column, min(p.left for p in leaf), max(p.right for p in leaf), row)
              for column, leaf in enumerate(reading_leaves(body, em)) for row in rows_of(leaf)]
    if rules is not None and page_direction == 0:  # rules and boxes are in page space: text read upright only
        placed = unbox(placed, rules)
    else:
        rules = None
    # Table rows set apart by padding are bands of their own: cells are cut over the page's rows in order.
    rows = cut_rows([row for *_, row in placed], em, rules)
    stamps += _margin_marks(rows, em)
    for (column, left, right, _), row in zip(placed, rows):
        line = make_line(row, page_number)
        line.column, line.column_left, line.column_right = column, left, right
        lines.append(line)
    if rules is not None:
        widen_cells(lines, rules)
    for piece in stamps:
        line = make_line([piece], page_number)
        line.vertical, line.column = True, len(lines) + 1
        lines.append(line)
    return lines


def _margin_marks(rows: list[list[Piece]], em: float) -> list[Piece]:
    """Take out of their rows the marks set in a paragraph's margin ("TIP", "CAUTION", "!") and return them.

    A row's first piece is such a mark when it is one short word in another size than the text
    and the rest of the row starts where the text of the line above or below it starts, right of
    the mark: the text runs on beside it (and may wrap under it).
    Left in, the mark makes its row a two-cell table row and cuts the paragraph in three.
    """
    marks = []
    for n, row in enumerate(rows):
        if len(row) < 2 or n == 0 or n + 1 == len(rows) or not rows[n - 1] or not rows[n + 1]:
            continue
        mark, text = row[0], row[1]
        word = "".join(c[1] for c in mark.chars).strip()
        if not (word == "!" or (3 <= len(word) <= 8 and word.isalpha() and (word.isupper() or word.istitle()))) \
                or abs(mark.size - text.size) <= 0.1 * text.size:
            continue  # a word or "!" in another size than its text (not a label "(i)", "Proof:", nor a formula's "R")
        starts = [[p.left for p in other if p.left > mark.right] for other in (rows[n - 1], rows[n + 1])]
        if any(lefts and abs(min(lefts) - text.left) < em for lefts in starts):
            marks.append(row.pop(0))
    return marks


def _measure(textpage: int, piece: Piece, matrix) -> None:
    """Rendered size, weight and direction of a piece from a sample of its characters (`textpage` an address)."""
    import ctypes

    chars = piece.chars
    step = max(1, len(chars) // SAMPLES)
    sample = [c[0] for c in chars[::step] if c[0] >= 0 and not c[1].isspace()] or [c[0] for c in chars if c[0] >= 0]
    get_matrix, get_size, get_weight = _pdfium("matrix"), _pdfium("size"), _pdfium("weight")
    place, values = ctypes.addressof(matrix), memoryview(matrix).cast("B").cast("f")  # a, b, c, d, e, f
    sizes, weights, directions, slanted = [], [], [], []
    for i in sample:
        scale, skew = 1.0, False
        if get_matrix(textpage, i, place):
            a, b, c, d = values[0], values[1], values[2], values[3]
            scale = math.sqrt(abs(a * d - b * c)) or 1.0
            directions.append(round(math.degrees(math.atan2(b, a)) / 90) % 4 * 90)
            skew = abs(b) < 0.01 * abs(a) and abs(c) > 0.15 * abs(d)  # an oblique made by the matrix
        slanted.append(skew)
        sizes.append(get_size(textpage, i) * scale)
        weights.append(get_weight(textpage, i))
    if weights and min(weights) <= 0:  # no weight in the font: its name says (the middle and last samples decide)
        weights = [_named_weight(textpage, sample[len(sample) // 2])] * (len(weights) - 1) + [_named_weight(textpage, sample[-1])]
    piece.size = round(statistics.median(sizes), 1) if sizes else 0.0
    # Bold to its end: a bold opening that runs on in regular type ("Abstract—" ...) is no bold line.
    piece.bold = bool(weights) and statistics.median(weights) >= BOLD_WEIGHT and weights[-1] >= BOLD_WEIGHT
    piece.direction = statistics.mode(directions) if directions else 0
    if sample and len(chars) <= ITALIC_CHARS:  # italic to its end (a heading candidate): first and last samples
        piece.italic = all(slanted[n] or _font(textpage, sample[n])[2] for n in (0, -1))
    while piece.chars and piece.chars[-1][1].isspace():
        piece.chars.pop()
    if piece.chars and piece.chars[-1][1] in SOFT_HYPHENS:
        mark = piece.chars.pop()
        piece.soft_break = True
        if piece.chars:  # trailing spaces never counted in the extent; the hyphen did
            piece.extent()
        if mark[1] in BREAK_MARKS:  # a printed hyphen (outside the extent): the paragraph decides if it stays
            piece.chars.append((mark[0], "-", *mark[2:]))


def _named_weight(textpage: int, index: int) -> int:
    """The weight a font's name says ("Helvetica-Bold", "Arial,Bold"): PDFium has none for fonts without a descriptor."""
    return 700 if _font(textpage, index)[1] else 400


def _font(textpage: int, index: int) -> tuple[bool, bool, bool]:
    """(found, bold, italic) of a character's font, from its name and descriptor flags (ForceBold, Italic)."""
    import ctypes

    import pypdfium2.raw as pdfium_c

    name, flags = ctypes.create_string_buffer(128), ctypes.c_int(0)
    handle = ctypes.cast(ctypes.c_void_p(textpage), pdfium_c.FPDF_TEXTPAGE)
    found = bool(pdfium_c.FPDFText_GetFontInfo(handle, index, name, 128, ctypes.byref(flags)))
    named = name.value.lower()
    bold = found and (b"bold" in named or b"black" in named or bool(flags.value & (1 << 18)))
    italic = found and (b"italic" in named or b"oblique" in named or bool(flags.value & (1 << 6)))
    return found, bold, italic


def make_line(row: list[Piece], page_number: int) -> Line:
    """One row of pieces as a Line: ligatures expanded, soft hyphens dropped, cells separated.

    Pieces touching within JOIN_GAP (a superscript, a root sign: PDFium ends its line there) are
    one cell, joined by a space, and so are pieces a word space apart (within SPACE_GAP) when
    PDFium put a space between them (text going on after a footnote mark); wider gaps (a margin
    icon "TIP", a table of contents' next column) or overlaps separate cells.
    """
    text: list[str] = []
    indices: list[int] = []
    spans: list[tuple[int, int, float, float]] = []
    cells = 1
    for n, piece in enumerate(row):
        em = max(row[n - 1].size, piece.size, 1.0)
        gap = abs(piece.left - row[n - 1].right)
        joined = n and (gap < JOIN_GAP * em or (gap < SPACE_GAP * em and piece.chars[0][1].isspace()))
        if n:
            separator = " " if joined else CELL_SEPARATOR
            text.append(separator)
            indices.extend([-1] * len(separator))
            cells += not joined
        if len(row) > 1 and not joined:
            spans.append((len(indices), len(indices), piece.left, piece.right))
        chars = piece.chars
        printed = "".join([c[1] for c in chars])
        if len(printed) == len(chars) and not _SPECIAL.search(printed):  # the usual case: one call, not a loop
            text.append(printed)
            indices.extend([c[0] for c in chars])
        else:
            for index, ch, *_ in chars:
                if ch in SOFT_HYPHENS:
                    continue
                ch = LIGATURES.get(ch, ch)
                text.append(ch)
                indices.extend([index] * len(ch))
        if spans:
            spans[-1] = (spans[-1][0], len(indices), spans[-1][2], piece.right)
    first = max(row, key=lambda p: len(p.chars))
    return Line(page=page_number, text="".join(text), indices=indices, size=first.size, bold=first.bold, italic=first.italic,
                top=max(p.top for p in row), bottom=min(p.bottom for p in row), left=row[0].left, right=row[-1].right,
                cells=cells, soft_break=row[-1].soft_break, cell_spans=spans if cells > 1 else [])
