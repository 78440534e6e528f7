"""Rows of cells (a spreadsheet's sheet, a CSV file) as blocks: the header row found, then each
row one line, "Header: value; Header: value", so a row is one answer a question can find.

Values are shown as the sheet shows them where the library gives the number format: dates as
dates, percentages as percentages, thousands separators and decimals as formatted.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from ...config import MAX_CELLS
from .build import TextBuilder, squash

HEADER_SCAN = 20  # the header row is looked for among a sheet's first rows with text
MAX_HEADER_CHARS = 60  # a longer cell is content, not a column name
_QUOTED = re.compile(r'"[^"]*"|\\.|\[[^\]]*\]')  # literal text, escapes and [Red]/[$-409] in a number format
_NUMBER = re.compile(r"[-+(]?[$£€¥]?\s*[\d.,:/ -]+(?:E[+-]?\d+)?\s*[%)]?", re.IGNORECASE)  # numbers, dates, times
_LETTER = re.compile(r"[^\W\d_]")


@dataclass
class CellBudget:
    """Cells left to read in this file, shared by its sheets; `cut` once a sheet ran out."""

    left: int = MAX_CELLS
    cut: bool = False


def cut_notice() -> str:
    """The line a cut file ends with, so the reader of the text knows the rest was not read."""
    return f"[Only the first {MAX_CELLS:,} cells of this file were read: the limit is {MAX_CELLS:,} cells per file.]"


def add_rows(builder: TextBuilder, rows: Iterable[list[str]], budget: CellBudget, heading: str = "") -> None:
    """One sheet: its name as a heading, lines above the header row as paragraphs, then one table
    block per row. Reading stops when the budget runs out (the caller adds `cut_notice`)."""
    builder.add("heading", squash(heading), 1)
    buffered: list[list[str]] = []
    header: list[str] | None = None
    for row in rows:
        budget.left -= max(len(row), 1)
        if budget.left < 0:
            budget.cut = True
            break
        cells = [squash(cell) for cell in row]
        while cells and not cells[-1]:
            cells.pop()
        if not cells:
            continue
        if header is None and len(buffered) < HEADER_SCAN:
            buffered.append(cells)
            continue
        if header is None:
            header = _flush(builder, buffered)
        _add_row(builder, header, cells)
    if header is None:
        _flush(builder, buffered)


def _flush(builder: TextBuilder, buffered: list[list[str]]) -> list[str]:
    """The header found among the buffered rows, the rows below it added; the buffer emptied."""
    header = _take_header(builder, buffered)
    for cells in buffered:
        _add_row(builder, header, cells)
    buffered.clear()
    return header


def _take_header(builder: TextBuilder, buffered: list[list[str]]) -> list[str]:
    """Find the header among the buffered first rows: the first row of several short, non-numeric
    cells with letters (no numbers or dates) about as wide as the table. Rows above it are paragraphs (a sheet's title, a note);
    they and the header leave the buffer. No header: [] (rows read as cells joined with " | ")."""
    widest = max((sum(1 for c in row if c) for row in buffered), default=0)
    for i, row in enumerate(buffered):
        filled = [c for c in row if c]
        if (len(filled) >= 2 and 2 * len(filled) >= widest and i + 1 < len(buffered)
                and all(len(c) <= MAX_HEADER_CHARS and _LETTER.search(c) and not _NUMBER.fullmatch(c) for c in filled)):
            for above in buffered[:i]:
                builder.add("paragraph", " ".join(c for c in above if c))
            del buffered[: i + 1]
            return row
    return []


def _add_row(builder: TextBuilder, header: list[str], cells: list[str]) -> None:
    if header:
        names = header + [""] * (len(cells) - len(header))
        line = "; ".join(f"{name}: {value}" if name else value for name, value in zip(names, cells) if value)
    else:
        line = " | ".join(c for c in cells if c)
    builder.add("table", line)


def display(value: object, number_format: str = "General") -> str:
    """A cell's value as the sheet shows it, as far as the number format says (no locale)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return _when(value, number_format)
    if isinstance(value, int | float):
        return _number(value, number_format)
    return str(value)


def _when(value: dt.datetime | dt.date | dt.time, number_format: str) -> str:
    plain = _QUOTED.sub("", number_format).lower()
    has_date = any(ch in plain for ch in "dy") or "m" in plain and "h" not in plain and "s" not in plain
    has_time = "h" in plain or "s" in plain
    if isinstance(value, dt.time):
        return value.strftime("%H:%M:%S" if "s" in plain else "%H:%M")
    if isinstance(value, dt.datetime):
        if has_time and not has_date:
            return value.strftime("%H:%M:%S" if "s" in plain else "%H:%M")
        if has_time or (not has_date and value.time() != dt.time()):
            return value.strftime("%Y-%m-%d %H:%M")
        value = value.date()
    return value.isoformat()


def _number(value: int | float, number_format: str) -> str:
    section = _QUOTED.sub("", (number_format or "General").split(";")[0])
    if section.strip().lower() in ("general", "@", ""):
        return str(int(value)) if float(value).is_integer() and abs(value) < 1e15 else f"{value:.15g}"
    decimals = len(re.match(r"[0#?]*", section.split(".", 1)[1]).group()) if "." in section else 0
    if "e+" in section.lower():
        return f"{value:.{decimals}E}"
    if "%" in section:
        return f"{_half_up(value * 100, decimals)}%"
    rounded = _half_up(abs(value), decimals)
    text = f"{rounded:,}" if "," in section else f"{rounded}"
    currency = next((ch for ch in "$£€¥" if ch in number_format.split(";")[0]), "")
    return ("-" if value < 0 else "") + currency + text


def _half_up(value: float, decimals: int) -> Decimal:
    """Rounded as a spreadsheet rounds (half away from zero: 2.5% shows as 3%), not to even."""
    return Decimal(repr(value)).quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)
