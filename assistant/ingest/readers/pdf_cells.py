"""Table cells set apart by whitespace columns: strips of a run of rows that no row inks.

Chromium, Google Docs and Word set a table's cells 1.5-4 em apart with a space PDFium keeps,
so a row comes out of the line cut as one piece ("Capital Jakarta Berlin Vienna"). Across a
run of rows, though, the gaps between columns line up: a vertical strip at least STRIP em wide
that holds no character of any row in the run. Each row of such a run is cut at those strips,
so every cell stays one cell, and rows can be paired with their header. Running text never
has such strips (its word spaces do not line up over lines and are narrower), and a strip
with only a bullet or an enumerator on its left ("1.", "•") is a list's indent, not a column.

Pieces are duck-typed (`pdf_layout`'s pieces): `chars` of (index, char, left, bottom, right, top)
in the text's frame, and `size`, `bold`, `direction`, `soft_break`; a new piece is made with
`type(piece)(chars)`.
"""

from __future__ import annotations

import re

STRIP = 1.2  # em: the narrowest whitespace column between cells
_ENUMERATOR = re.compile(r"^\W*(?:\w{1,3}[.)]|[•●▪◦‣∙·\-–*])\W*$")  # "1." "(a)" "iv)" "•": a list's mark, not a cell


def _ink(row) -> list[tuple[float, float]]:
    return sorted((c[2], c[4]) for piece in row for c in piece.chars if not c[1].isspace())


def _strips(ink: list[tuple[float, float]], width: float) -> list[tuple[float, float]]:
    """Empty intervals at least `width` wide between the inked intervals (sorted by left)."""
    strips, reach = [], None
    for left, right in ink:
        if reach is not None and left - reach >= width:
            strips.append((reach, left))
        reach = right if reach is None else max(reach, right)
    return strips


def _splits(row, strip: tuple[float, float]) -> bool:
    """Whether the row has a cell's ink on both sides of the strip (not just a list's mark on the left)."""
    left = "".join(c[1] for piece in row for c in piece.chars if c[4] <= strip[0]).strip()
    right = any(c[2] >= strip[1] and not c[1].isspace() for piece in row for c in piece.chars)
    return bool(left) and right and not _ENUMERATOR.match(left)


def _surviving(ink: list[tuple[float, float]], run: list, width: float) -> list[tuple[float, float]]:
    """Strips of the run's ink that at least two of its rows have cells on both sides of."""
    return [s for s in _strips(ink, width) if sum(_splits(row, s) for row in run) >= 2]


def cut_rows(rows: list[list], em: float) -> list[list]:
    """The rows with every run of table rows cut into cells at the strips they all leave empty."""
    width = STRIP * em
    out: list[list] = []
    i = 0
    while i < len(rows):
        run, ink = [rows[i]], _ink(rows[i])
        strips: list[tuple[float, float]] = []
        for row in rows[i + 1:]:
            if max(c[5] for piece in row for c in piece.chars) > min(c[3] for piece in run[-1] for c in piece.chars):
                break  # not below the row before: another column or a new page area
            merged = sorted(ink + _ink(row))
            found = _surviving(merged, run + [row], width)
            if not found or not any(_splits(row, s) for s in found):
                break
            run, ink, strips = run + [row], merged, found
        if len(run) >= 2 and strips:
            out += [_cut(row, strips) for row in run]
        else:
            out += run
        i += len(run)
    return out


def _cut(row: list, strips: list[tuple[float, float]]) -> list:
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
            new = type(piece)(part)
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
