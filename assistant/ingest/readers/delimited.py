"""CSV and TSV: the dialect sniffed (comma, semicolon, tab or bar), then the rows as a sheet
(see grid.py): the header row found, each row one line "Header: value; ...".

The standard library's csv module reads it, from the text reader.decode decoded. At most
`grid.MAX_CELLS` cells per file.
"""

from __future__ import annotations

import csv
import io

from ...config import SNIFF_CHARS
from .build import TextBuilder
from .grid import CellBudget, add_rows, cut_notice

MAX_FIELD_CHARS = 1_000_000  # one cell; csv's own default (131,072) refuses long text cells


def extract(text: str) -> tuple[TextBuilder, str] | str:
    """(clean text builder, "") of a CSV file's text, or the reason it cannot be read."""
    return _read(text, None)


def extract_tsv(text: str) -> tuple[TextBuilder, str] | str:
    """(clean text builder, "") of a TSV file's text: tab-separated whatever the sample suggests."""
    return _read(text, "\t")


def _read(text: str, delimiter: str | None) -> tuple[TextBuilder, str] | str:
    sample = text[:SNIFF_CHARS]
    if len(text) > SNIFF_CHARS and "\n" in sample:
        sample = sample[:sample.rindex("\n")]  # whole lines only
    if delimiter is None:
        try:
            dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(sample, delimiters=",;\t|")
        except csv.Error:  # one column, or no consistent separator: commas as the standard says
            dialect = csv.excel
    else:
        dialect = csv.excel_tab
    builder, budget = TextBuilder(), CellBudget()
    limit = csv.field_size_limit()
    try:
        csv.field_size_limit(MAX_FIELD_CHARS)
        add_rows(builder, csv.reader(io.StringIO(text, newline=""), dialect), budget)
    except csv.Error as exc:
        return f"unreadable CSV file ({str(exc)[:120]})"
    finally:
        csv.field_size_limit(limit)
    if budget.cut:
        builder.add("paragraph", cut_notice())
    return builder, ""
