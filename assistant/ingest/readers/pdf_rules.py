"""Ruling lines and drawn boxes of a PDF page: a table's printed grid, read from its page objects.

Whitespace alone cannot always say where a table's cells end: Google Docs sets a number and its
footnote mark a space apart from the next column ("273.879.750 1 83,190,556"), and a merged
cell ("Europe" over three countries) fills the empty strip the other rows leave between two
columns. The table's own grid can: a vertical rule crossing a row is a cell border, so the
row is cut there whatever the spacing. Rules are thin paths (filled rectangles a few points
thick, stroked lines) and the edges of stroked rectangles.

A stroked rectangle that encloses a few lines and touches no other rectangle is a text box
(Word's and LibreOffice's frames): two boxes side by side, or a box beside running text, are
no table, so their rows are read box by box (`unbox`).
"""

from __future__ import annotations

import ctypes
from dataclasses import dataclass, field

THIN = 3.0  # points: a path this thin (and longer than its thickness) is a rule
TOUCH = 4.0  # points: rectangles this close share an edge (the cells of one grid)
MAX_BOX_SEGMENTS = 6  # a rectangle's path: move, three or four lines, close
MAX_BOXES = 60  # a page with more stroked boxes is a drawing or a grid
MIN_BOX_WORDS = 2  # a framed symbol ("*", "U") is a figure's label, not a text box


@dataclass
class Rules:
    """A page's rules (in page space, before /Rotate) and its stroked boxes."""

    vertical: list[tuple[float, float, float]] = field(default_factory=list)  # x, bottom, top
    horizontal: list[tuple[float, float, float]] = field(default_factory=list)  # y, left, right
    boxes: list[tuple[float, float, float, float]] = field(default_factory=list)  # left, bottom, right, top


_CALLS: dict = {}


def _calls() -> dict:
    """PDFium's page-object functions called by address (no ctypes type checks per object)."""
    if not _CALLS:
        import pypdfium2.raw as pdfium_c

        def plain(function, result, *arguments):
            return ctypes.CFUNCTYPE(result, *arguments)(ctypes.cast(function, ctypes.c_void_p).value)

        pointer, index = ctypes.c_void_p, ctypes.c_int
        _CALLS.update(object=plain(pdfium_c.FPDFPage_GetObject, pointer, pointer, index),
                      type=plain(pdfium_c.FPDFPageObj_GetType, index, pointer),
                      bounds=plain(pdfium_c.FPDFPageObj_GetBounds, index, pointer, pointer, pointer, pointer, pointer),
                      segments=plain(pdfium_c.FPDFPath_CountSegments, index, pointer),
                      mode=plain(pdfium_c.FPDFPath_GetDrawMode, index, pointer, pointer, pointer),
                      path=pdfium_c.FPDF_PAGEOBJ_PATH)
    return _CALLS


def page_rules(page) -> Rules:
    """The rules and stroked boxes among a page's top-level paths (a pypdfium2 page)."""
    import pypdfium2.raw as pdfium_c

    calls = _calls()
    handle = ctypes.cast(page.raw, ctypes.c_void_p).value
    box = (ctypes.c_float * 4)()
    at = [ctypes.addressof(box) + 4 * k for k in range(4)]
    fill, stroke = ctypes.c_int(), ctypes.c_int()
    rules = Rules()
    for i in range(pdfium_c.FPDFPage_CountObjects(page.raw)):
        obj = calls["object"](handle, i)
        if not obj or calls["type"](obj) != calls["path"] or not calls["bounds"](obj, *at):
            continue
        left, bottom, right, top = box
        width, height = right - left, top - bottom
        if width <= THIN < height:
            rules.vertical.append(((left + right) / 2, bottom, top))
        elif height <= THIN < width:
            rules.horizontal.append(((bottom + top) / 2, left, right))
        elif width > THIN and height > THIN and calls["segments"](obj) <= MAX_BOX_SEGMENTS:
            calls["mode"](obj, ctypes.addressof(fill), ctypes.addressof(stroke))
            if stroke.value:
                rules.boxes.append((left, bottom, right, top))
                rules.vertical += [(left, bottom, top), (right, bottom, top)]
                rules.horizontal += [(bottom, left, right), (top, left, right)]
    return rules


def crossing(rules: Rules, bottom: float, top: float) -> list[float]:
    """x of the vertical rules crossing the middle of a row between `bottom` and `top`."""
    middle = (bottom + top) / 2
    return [x for x, low, high in rules.vertical if low <= middle <= high]


def text_boxes(rules: Rules) -> list[tuple[float, float, float, float]]:
    """Stroked boxes that touch no other box: frames of text, not the cells of a grid.

    A page of more than MAX_BOXES boxes is a drawing or a grid: no text boxes are looked for.
    """
    boxes = sorted(set(rules.boxes))
    if len(boxes) > MAX_BOXES:
        return []

    def near(a, b) -> bool:
        return a[0] - TOUCH <= b[2] and b[0] - TOUCH <= a[2] and a[1] - TOUCH <= b[3] and b[1] - TOUCH <= a[3]

    def same(a, b) -> bool:  # a filled box and its border a little larger
        return all(abs(x - y) <= TOUCH for x, y in zip(a, b))

    return [a for a in boxes if not any(b != a and near(a, b) and not same(a, b) and not _encloses(b, a)
                                        and not _encloses(a, b) for b in boxes)]


def _encloses(outer, inner) -> bool:
    return outer[0] - 1 <= inner[0] and outer[1] - 1 <= inner[1] and inner[2] <= outer[2] + 1 and inner[3] <= outer[3] + 1


def box_of(boxes: list[tuple[float, float, float, float]], left: float, bottom: float, right: float, top: float):
    """The smallest text box enclosing the extent, or None."""
    inside = [b for b in boxes if _encloses(b, (left, bottom, right, top))]
    return min(inside, key=lambda b: (b[2] - b[0]) * (b[3] - b[1]), default=None)


def unbox(placed: list[tuple], rules: Rules) -> list[tuple]:
    """Rows whose pieces stand in different text boxes, read box by box (boxes left to right, then the rest).

    `placed` is `pdf_layout`'s (column, left, right, row of pieces) in reading order; a run of
    such rows becomes, per box, one row per original row holding that box's pieces.
    """
    boxes = text_boxes(rules)
    if not boxes:
        return placed
    out: list[tuple] = []
    run: list[tuple] = []

    def keyed(row) -> dict:
        groups: dict = {}
        for piece in row:
            groups.setdefault(box_of(boxes, piece.left, piece.bottom, piece.right, piece.top), []).append(piece)
        return groups

    def flush() -> None:
        order: dict = {}
        for column, left, right, row in run:
            for key, pieces in keyed(row).items():
                order.setdefault(key, []).append((column, left, right, pieces))
        for key in sorted(order, key=lambda k: (k is None, k[0] if k else 0.0)):
            out.extend(order[key])
        run.clear()

    def boxed(row) -> bool:  # text in two frames, or one frame and outside: words, not a figure's labels
        groups = keyed(row)
        return len(groups) > 1 and all(sum(p.words() for p in pieces) >= MIN_BOX_WORDS
                                       for key, pieces in groups.items() if key is not None)

    for item in placed:
        if len(item[3]) > 1 and boxed(item[3]):
            run.append(item)
            continue
        flush()
        out.append(item)
    flush()
    return out


def widen_cells(lines: list, rules: Rules) -> None:
    """Give each cell of a ruled row the extent of its ruled cell (a merged cell spans the columns it merges).

    A cell's text is often narrower than its cell ("Europe" centred over three countries), so
    the header a value sits under is read from the rules on both sides of it, when there are.
    """
    for line in lines:
        if not line.cell_spans or line.vertical:
            continue
        xs = sorted(crossing(rules, line.bottom, line.top))
        if len(xs) < 2:
            continue
        ruled = []
        for _, _, left, right in line.cell_spans:
            before = [x for x in xs if x <= left + 1]
            after = [x for x in xs if x >= right - 1]
            ruled.append((before[-1], after[0]) if before and after else None)
        # a ruled cell holding two of the row's cells is no cell: the rules are the table's outer border
        line.cell_spans = [(start, end, *ruled[n]) if ruled[n] is not None and ruled.count(ruled[n]) == 1
                           else (start, end, left, right)
                           for n, (start, end, left, right) in enumerate(line.cell_spans)]
