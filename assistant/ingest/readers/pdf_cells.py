"""Table cells set apart by whitespace columns: strips of a run of rows that no row inks.

Chromium, Google Docs and Word set a table's cells 1.5-4 em apart with a space PDFium keeps,
so a row comes out of the line cut as one piece ("Capital Jakarta Berlin Vienna"). Across a
run of rows, though, the gaps between columns line up: a vertical strip at least STRIP em wide
that holds no character of any row in the run. Each row of such a run is cut at those strips,
so every cell stays one cell, and rows can be paired with their header. Running text never
has such strips (its word spaces do not line up over lines and are narrower), and a strip
with only a bullet or an enumerator on its left ("1.", "•") is a list's indent, not a column.

Pieces are duck-typed (`pdf_layout`'s pieces): `chars` of (index, char, left, bottom, right, top)
in the text's frame, `spaces` (its wide word spaces: right before, left after), `size`, `bold`,
`direction`, `soft_break`; a new piece is made with
`type(piece)(chars)`.
"""

from __future__ import annotations

import re

STRIP = 1.2  # em: the narrowest whitespace column between cells
RULE_GAP = 0.25  # em: the least room between a cell's text and the next cell's across a rule
OVERLAP = 0.45  # em: in a table of two rows or more, the loose glyph boxes of a row may reach this far up
# into the row before (a row name centred over two lines); the first two rows stand strictly apart
_ENUMERATOR = re.compile(r"^\W*(?:\w{1,3}[.)]|[•●▪◦‣∙·\-–*])\W*$")  # "1." "(a)" "iv)" "•": a list's mark, not a cell


def _blocks(spans, width: float) -> list[tuple[float, float]]:
    """Inked intervals (left, right) merged wherever they are closer than `width`: a row's cells, at most."""
    merged: list[list[float]] = []
    for left, right in sorted(spans):
        if merged and left - merged[-1][1] < width:
            merged[-1][1] = max(merged[-1][1], right)
        else:
            merged.append([left, right])
    return [(left, right) for left, right in merged]


def _spans(piece, width: float) -> list[tuple[float, float]]:
    """A piece's extent cut at its word spaces wider than `width` (a gap that wide without a space cut the piece)."""
    spans, left = [], piece.left
    for before, after in piece.spaces:
        if after - before >= width:
            spans.append((left, before))
            left = after
    spans.append((left, piece.right))
    return spans


def _splits(row, blocks: list[tuple[float, float]], strip: tuple[float, float]) -> bool:
    """Whether the row has a cell's ink on both sides of the strip (not just a list's mark on the left)."""
    if not (blocks[0][1] <= strip[0] and blocks[-1][0] >= strip[1]):
        return False
    left = "".join(c[1] for piece in row for c in piece.chars if c[4] <= strip[0]).strip()
    return bool(left) and not _ENUMERATOR.match(left)


def cut_rows(rows: list[list], em: float, rules=None) -> list[list]:
    """The rows with every run of table rows cut into cells at the strips they all leave empty.

    With the page's `Rules` (`pdf_rules`), a row is first cut wherever a vertical rule crosses it.
    """
    if rules is not None and rules.vertical:
        rows = [_ruled(row, rules) for row in rows]
    width = STRIP * em
    blocks = [_blocks([span for piece in row for span in _spans(piece, width)], width) for row in rows]
    out: list[list] = []
    i = 0
    while i < len(rows):
        run, union = [i], blocks[i]
        strips: list[tuple[float, float]] = []
        kept = 1  # the run up to its last row with cells
        for j in range(i + 1, len(rows) if len(blocks[i]) > 1 else i + 1):
            if (max(c[5] for piece in rows[j] for c in piece.chars)
                    > min(c[3] for piece in rows[run[-1]] for c in piece.chars) + OVERLAP * em * (len(run) > 1)):
                break  # not below the row before: another column or a new page area
            if len(blocks[j]) < 2:
                if strips and blocks[j][-1][1] <= strips[0][1]:
                    run.append(j)  # a row name's next line, short of the first column ("around counterparties'")
                    continue
                break
            merged = _blocks(union + blocks[j], width)
            found = [(a[1], b[0]) for a, b in zip(merged, merged[1:])]
            found = [s for s in found if sum(_splits(rows[k], blocks[k], s) for k in run + [j]) >= 2]
            if not found or not any(_splits(rows[j], blocks[j], s) for s in found):
                break
            run, union, strips = run + [j], merged, found
            kept = len(run)
        run = run[:kept]
        if len(run) >= 2 and strips:
            out += [split_row(rows[k], strips) for k in run]
        else:
            out += [rows[k] for k in run]
        i += len(run)
    return out


def _ruled(row: list, rules) -> list:
    """A row cut at the vertical rules crossing it (a cell border is a border whatever the spacing)."""
    from .pdf_rules import crossing

    xs = crossing(rules, min(p.bottom for p in row), max(p.top for p in row))
    cuts = [(x, x) for x in xs if any(p.left < x < p.right and _padded(p, x) for p in row)]
    return split_row(row, cuts) if cuts else row


def _padded(piece, x: float) -> bool:
    """Whether the rule at x passes between two characters with a cell's padding (RULE_GAP em) between them.

    A rule through a word ("t|ext": a comment's anchor drawn around a letter) is no cell border.
    """
    inked = [c for c in piece.chars if not c[1].isspace()]
    before = [c[4] for c in inked if c[4] <= x]
    after = [c[2] for c in inked if c[2] >= x]
    crossed = any(c[2] < x < c[4] for c in inked)
    return not crossed and bool(before) and bool(after) and min(after) - max(before) >= RULE_GAP * max(piece.size, 1.0)


def split_row(row: list, strips: list[tuple[float, float]]) -> list:
    """A row's pieces split at the strips (spaces at the cut dropped)."""
    pieces = []
    for piece in row:
        parts: list[list] = [[]]
        bounds = iter(sorted(s[1] for s in strips if piece.left < s[1] and s[0] < piece.right))
        bound = next(bounds, None)
        for c in piece.chars:
            while bound is not None and c[2] >= bound - 1e-6 and not c[1].isspace():
                parts.append([])
                bound = next(bounds, None)
            parts[-1].append(c)
        parts = [_trim(part) for part in parts]
        parts = [part for part in parts if part]
        if len(parts) <= 1:
            pieces.append(piece)
            continue
        for n, part in enumerate(parts):
            new = type(piece)(part, [gap for gap in piece.spaces if part[0][2] <= gap[0] and gap[1] <= part[-1][4]])
            new.size, new.bold, new.direction = piece.size, piece.bold, piece.direction
            new.soft_break = piece.soft_break and n == len(parts) - 1
            pieces.append(new)
    return pieces


def _trim(chars: list) -> list:
    start, end = 0, len(chars)
    while start < end and chars[start][1].isspace():
        start += 1
    while end > start and chars[end - 1][1].isspace():
        end -= 1
    return chars[start:end]
