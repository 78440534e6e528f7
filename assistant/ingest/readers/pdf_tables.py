"""Table rows of a PDF page read with their header: "Column: value; Column: value".

A table row alone ("Guam | 0 | 100") does not say what its numbers are; the other readers pair
each row with the header row (`build.table_rows`), and this does the same for printed tables.
A header is the first row of a run of rows whose every cell sits under exactly one of its cells
(ink overlapping that cell's and no other's); its cells are words (no bare number, mostly no digits). Cells stay as printed:
a value is one cell's text, never parts of two, and any doubt (a cell under no header cell or
under two, two cells under one) keeps the row's cells joined with " | ".
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from .pdf_layout import Line

_NUMERIC = re.compile(r"^[\W\d_]*\d[\W\d_]*$")  # digits and punctuation only: 1,234.5 (3) 12% $7 4–1–00
_LETTERS = re.compile(r"[^\W\d_]{2,}")
_RUNS_ON = {"a", "an", "and", "as", "at", "by", "for", "from", "if", "in", "of", "on", "or", "the", "to", "with"}
LABEL = -1  # a row's first cell left of the header: the row's name, not a value
MIN_ROWS = 2  # rows under a header: one row under a line of capitals is as likely two captions side by side
MAX_NAME = 40  # characters: a longer cell is text, not a column name
MAX_NAME_WORDS = 5
TWO_LINE_GAP = 0.5  # em: a header's second line this close under its first (rows stand further apart)


def _cells(line: Line) -> list[str]:
    return [line.text[start:end] for start, end, _, _ in line.cell_spans]


def _name(cell: str) -> bool:
    """Short, starts with a capital, ends whole: "other person who handles an exempt" is prose."""
    cell = cell.strip()
    return bool(cell) and len(cell) <= MAX_NAME and len(cell.split()) <= MAX_NAME_WORDS and cell[0].isupper() \
        and cell[-1] not in "-,;"


def _running(cell: str) -> bool:
    """Running text cut by the line end: starts in lower case with three words or more ("a week to:")."""
    cell = cell.strip()
    return cell[:1].islower() and len(cell.split()) >= 3


def _header(line: Line) -> bool:
    """A row that can name columns: several short cells, each with words, mostly not numbers."""
    if line.cells < 2 or len(line.cell_spans) != line.cells or line.vertical or line.ocr:
        return False
    cells = [cell.strip() for cell in _cells(line)]
    if not all(_name(cell) for cell in cells):
        return False  # names start with a capital and end whole: "other person who handles an exempt" is prose
    if any(_NUMERIC.match(cell) for cell in cells):  # a row holding a bare number is data, not names
        return False
    if any(cell.count("(") != cell.count(")") or cell.split()[-1].casefold() in _RUNS_ON for cell in cells):
        return False  # the first line of a cell printed over several lines ("Service not in the course of the")
    return sum(any(ch.isdigit() for ch in cell) for cell in cells) * 2 < len(cells) and all(
        _LETTERS.search(cell) for cell in cells)


def _columns(row: Line, header: Line) -> list[int] | None:
    """For each cell of `row`, the header cell above it; None when any cell is not under exactly one."""
    if row.cells < 2 or len(row.cell_spans) != row.cells or row.vertical or row.ocr or row.page != header.page:
        return None  # (rows set apart are bands of their own: the run is what the columns say, not the leaf)
    found: list[int] = []
    for n, (_, _, left, right) in enumerate(row.cell_spans):
        if n == 0 and right <= header.cell_spans[0][2] and _name(row.text[row.cell_spans[0][0]:row.cell_spans[0][1]]):
            found.append(LABEL)  # left of every header cell: the row's own name ("Capital", under an empty corner)
            continue
        above = [k for k, (_, _, h_left, h_right) in enumerate(header.cell_spans)
                 if min(right, h_right) > max(left, h_left)]
        if len(above) != 1 or above[0] in found:
            return None
        found.append(above[0])
    return found if len(found) - found.count(LABEL) >= 1 else None


def _paired(row: Line, header: Line, columns: list[int]) -> Line:
    """The row as "Name: value; Name: value"; names map to the header's own PDF characters."""
    text: list[str] = []
    indices: list[int] = []
    for n, ((start, end, _, _), k) in enumerate(zip(row.cell_spans, columns)):
        value = row.text[start:end].strip()
        if not value:
            continue
        start += len(row.text[start:end]) - len(row.text[start:end].lstrip())
        if k == LABEL:  # "Capital — Indonesia: Jakarta; ..."
            text += [value, " — "]
            indices += row.indices[start:start + len(value)] + [-1, -1, -1]
            continue
        h_start, h_end, _, _ = header.cell_spans[k]
        raw_name = header.text[h_start:h_end]
        name = raw_name.strip().rstrip(":").rstrip()
        h_start += len(raw_name) - len(raw_name.lstrip())
        if n and text and text[-1] != " — ":
            text.append("; ")
            indices += [-1, -1]
        text += [name, ": ", value]
        indices += header.indices[h_start:h_start + len(name)] + [-1, -1] + row.indices[start:start + len(value)]
    return replace(row, text="".join(text), indices=indices, cell_spans=[])


@dataclass
class Paired:
    """A table row as printed, the header row naming it, and for each of its cells the header cell (or LABEL)."""

    row: Line
    header: Line
    columns: list[int]


def read_rows(lines: list[Line]) -> list[Line | Paired]:
    """The page's lines with every row of a run of table rows under a header given with its pairing.

    The header row itself is not kept when every row of its run is paired: its names are in every row.
    """
    out: list[Line | Paired] = []
    i = 0
    while i < len(lines):
        heads = [lines[i]]
        header = lines[i]
        run: list[Line | Paired] = []
        paired = 0
        prose = False  # a cell of running text goes on over the rows: boxes of text side by side, not a table
        if _header(header):
            if i + 1 < len(lines) and (both := _two_lines(header, lines[i + 1])) is not None:
                header, heads = both, [header, lines[i + 1]]
            for row in lines[i + len(heads):]:
                columns = _columns(row, header)
                prose = prose or (columns is not None and any(_running(cell) for cell in _cells(row)))
                if columns is not None and all(cell.strip()[:1].islower() for cell in _cells(row)):
                    break  # all lower case: the cells of the row above going on ("ABCP" over "tranches"), not a row
                if columns is None:
                    if row.cells < 2 or row.page != header.page or row.vertical or row.ocr:
                        break
                    run.append(row)  # a row of the table the header cannot name (a merged cell): cells apart
                    continue
                run.append(Paired(row, header, columns))
                paired += 1
        while run and isinstance(run[-1], Line):  # rows left unpaired at the end are the next thing's, not this table's
            run.pop()
        if paired >= MIN_ROWS and not prose:
            out += run if all(isinstance(row, Paired) for row in run) else [*heads, *run]
            i += len(run) + len(heads)
        else:
            out.append(lines[i])
            i += 1
    return out


def _names_below(line: Line) -> bool:
    """The second line of a header: short cells with words, no number ("(each employee)", "and Tips")."""
    if line.cells < 2 or len(line.cell_spans) != line.cells or line.vertical or line.ocr:
        return False
    cells = [cell.strip() for cell in _cells(line)]
    return all(cell and len(cell) <= MAX_NAME and len(cell.split()) <= MAX_NAME_WORDS and _LETTERS.search(cell)
               and not any(ch.isdigit() for ch in cell) for cell in cells)


def _two_lines(upper: Line, lower: Line) -> Line | None:
    """A header printed over two lines as one header line whose cells hold both lines' words, or None.

    The two lines of a header cell are set a line's pitch apart (rows of a table stand further
    apart, with their padding), and each cell of either line sits in one column of the other's:
    "Wage Base Limit | Taxable Wages" over "Calendar Year | (each employee) | and Tips" reads
    "Calendar Year", "Wage Base Limit (each employee)", "Taxable Wages and Tips".
    """
    if lower.page != upper.page or not _names_below(lower) or upper.bottom - lower.top > TWO_LINE_GAP * upper.size:
        return None
    cells = sorted([(left, right, 0, n) for n, (_, _, left, right) in enumerate(upper.cell_spans)]
                   + [(left, right, 1, n) for n, (_, _, left, right) in enumerate(lower.cell_spans)])
    columns: list[list[tuple[float, float, int, int]]] = []
    for cell in cells:
        if columns and cell[0] < max(c[1] for c in columns[-1]):
            columns[-1].append(cell)
        else:
            columns.append([cell])
    if any(len({c[2] for c in column}) != len(column) for column in columns):
        return None  # two cells of one line in one column: not a header's two lines
    text: list[str] = []
    indices: list[int] = []
    spans: list[tuple[int, int, float, float]] = []
    for column in columns:
        if text:
            text.append(" | ")
            indices += [-1, -1, -1]
        start = len(indices)
        for k, (_, _, which, n) in enumerate(sorted(column, key=lambda c: c[2])):
            line = (upper, lower)[which]
            a, b, _, _ = line.cell_spans[n]
            word = line.text[a:b].strip()
            a += len(line.text[a:b]) - len(line.text[a:b].lstrip())
            if k:
                text.append(" ")
                indices.append(-1)
            text.append(word)
            indices += line.indices[a:a + len(word)]
        spans.append((start, len(indices), min(c[0] for c in column), max(c[1] for c in column)))
    return replace(upper, text="".join(text), indices=indices, cell_spans=spans, cells=len(spans),
                   bottom=lower.bottom)


def pair_rows(lines: list[Line]) -> list[Line]:
    """The page's lines with every run of table rows under a header read as "Name: value" (header dropped)."""
    return [_paired(item.row, item.header, item.columns) if isinstance(item, Paired) else item
            for item in read_rows(lines)]
