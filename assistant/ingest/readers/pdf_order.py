"""A page's reading order: its pieces cut recursively along empty strips (XY-cut) into leaves.

Bands (empty horizontal strips) are cut first, then columns of running text (empty vertical
strips, never between a table's cells); neighbouring bands set in the same columns are read as
one, so a column is read to its end before the next even where the columns' paragraph gaps line
up. Pieces are `pdf_layout.Piece`s (their extent in the text's frame, their words).
"""

from __future__ import annotations

import math
import statistics
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .pdf_layout import Piece

BAND_GAP = 0.5  # em: an empty horizontal strip this tall separates bands of a page
COLUMN_GAP = 0.9  # em: an empty vertical strip this wide separates columns of running text
COLUMN_WORDS = 3  # running text: its pieces hold at least this many words (median); table cells fewer


def _split(pieces: list[Piece], vertical: bool, min_gap: float) -> list[list[Piece]]:
    """Pieces grouped by empty strips at least `min_gap` wide: bands top to bottom, or columns left to right."""
    span = (lambda p: (-p.top, -p.bottom)) if not vertical else (lambda p: (p.left, p.right))
    ordered = sorted(pieces, key=span)
    groups: list[list[Piece]] = []
    reach = -math.inf
    for piece in ordered:
        start, end = span(piece)
        if not groups or start - reach >= min_gap:
            groups.append([])
        groups[-1].append(piece)
        reach = max(reach, end)
    return groups


def reading_leaves(pieces: list[Piece], em: float) -> list[list[Piece]]:
    """XY-cut: bands first (neighbours set in the same columns read as one), then columns of running text
    (never between a table's cells), recursively."""
    if len(pieces) <= 1:
        return [pieces] if pieces else []
    bands = _split(pieces, False, BAND_GAP * em)
    if len(bands) > 1:
        runs = [_columns(run, em) if merged else [run] for run, merged in _column_runs(bands, em)]
        return [leaf for parts in runs for part in parts for leaf in reading_leaves(part, em)]
    columns = _columns(pieces, em)
    if columns:
        return [leaf for column in columns for leaf in reading_leaves(column, em)]
    return [pieces]


def _columns(pieces: list[Piece], em: float) -> list[list[Piece]]:
    """The pieces as columns of running text left to right, or [] when they are not (a table's cells, one column)."""
    columns = _split(pieces, True, COLUMN_GAP * em)
    if len(columns) > 1 and all(statistics.median(p.words() for p in column) >= COLUMN_WORDS for column in columns) \
            and _narrow_gutters(columns):
        return columns
    return []


def _column_runs(bands: list[list[Piece]], em: float) -> list[tuple[list[Piece], bool]]:
    """Bands with runs of neighbours set in the same columns merged: a column read to its end before the next.

    Two columns whose paragraph gaps happen to line up are cut into bands across both; read band
    by band, the left column's lower half came after the right column's upper half.
    """
    runs: list[list[Piece]] = []
    merged: list[bool] = []
    previous: list[tuple[float, float]] | None = None
    for band in bands:
        columns = _columns(band, em)
        extents = [(min(p.left for p in c), max(p.right for p in c)) for c in columns]
        if previous and extents and len(extents) == len(previous) and all(
                a[0] < b[1] and b[0] < a[1] for a, b in zip(extents, previous)) and _columns(runs[-1] + band, em):
            runs[-1], merged[-1] = runs[-1] + band, True
            previous = [(min(a[0], b[0]), max(a[1], b[1])) for a, b in zip(extents, previous)]
            continue
        runs.append(band)
        merged.append(False)
        previous = extents or None
    return list(zip(runs, merged))


def _narrow_gutters(columns: list[list[Piece]]) -> bool:
    """Columns of text are wider than twice the gap between them; a table's cells ("Row 1 Col 1") are not."""
    extents = [(min(p.left for p in column), max(p.right for p in column)) for column in columns]
    return all(b[0] - a[1] < 0.5 * min(a[1] - a[0], b[1] - b[0]) for a, b in zip(extents, extents[1:]))


def rows_of(pieces: list[Piece]) -> list[list[Piece]]:
    """Pieces of one leaf as rows, top to bottom; pieces side by side on a baseline share a row."""
    rows: list[list[Piece]] = []
    for piece in sorted(pieces, key=lambda p: -p.top):
        if rows:
            last = rows[-1][0]
            overlap = min(last.top, piece.top) - max(last.bottom, piece.bottom)
            if overlap > 0.5 * min(last.top - last.bottom, piece.top - piece.bottom):
                rows[-1].append(piece)
                continue
        rows.append([piece])
    return [sorted(row, key=lambda p: p.left) for row in rows]
