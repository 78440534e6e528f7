"""Spreadsheets (.xlsx by openpyxl, .xls by xlrd): each sheet a section, each row one line
"Header: value; ..." under the header row found (see grid.py), values as displayed.

openpyxl (MIT) reads in read-only mode with cached formula results (data_only); xlrd (BSD)
reads the old binary format with its number formats. At most `grid.MAX_CELLS` cells per file.
"""

from __future__ import annotations

import io

from .archive import OLE_MAGIC, zip_problem
from .build import TextBuilder, usable_title
from .grid import CellBudget, add_rows, cut_notice, display


def extract(raw: bytes) -> tuple[TextBuilder, str] | str:
    """(clean text builder, title) of an .xlsx file, or the reason it cannot be read."""
    problem = zip_problem(raw, "Excel")
    if problem:
        return problem
    try:
        import openpyxl

        book = openpyxl.load_workbook(io.BytesIO(raw), read_only=True, data_only=True)
    except Exception as exc:  # a zip that is not a workbook, or a damaged one
        return f"unreadable Excel file ({str(exc)[:120] or exc.__class__.__name__})"
    builder, budget = TextBuilder(), CellBudget()
    try:
        for sheet in book.worksheets:
            if budget.cut or not hasattr(sheet, "iter_rows"):  # a chart sheet has no cells
                continue
            sheet.reset_dimensions()  # a stated size can be wrong or huge: read the rows that are there
            rows = ([display(c.value, getattr(c, "number_format", "General")) for c in row] for row in sheet.iter_rows())
            add_rows(builder, rows, budget, sheet.title)
        title = usable_title(book.properties.title)
    except Exception as exc:  # damaged sheet XML found while reading
        return f"unreadable Excel file ({str(exc)[:120] or exc.__class__.__name__})"
    finally:
        book.close()
    if budget.cut:
        builder.add("paragraph", cut_notice())
    return builder, title


def extract_xls(raw: bytes) -> tuple[TextBuilder, str] | str:
    """(clean text builder, title) of an Excel 97-2003 .xls file, or the reason it cannot be read."""
    if not raw.startswith(OLE_MAGIC):
        return "unreadable Excel 97-2003 file (not an OLE compound file)"
    try:
        import xlrd

        book = xlrd.open_workbook(file_contents=raw, formatting_info=True, on_demand=True, logfile=io.StringIO())
    except Exception as exc:
        reason = str(exc)[:120] or exc.__class__.__name__
        return "encrypted Excel file (password-protected)" if "encrypt" in reason.lower() else f"unreadable Excel file ({reason})"
    builder, budget = TextBuilder(), CellBudget()
    try:
        for index in range(book.nsheets):
            if budget.cut:
                break
            sheet = book.sheet_by_index(index)
            add_rows(builder, (_xls_row(book, sheet, r) for r in range(sheet.nrows)), budget, sheet.name)
            book.unload_sheet(index)
    except Exception as exc:
        return f"unreadable Excel file ({str(exc)[:120] or exc.__class__.__name__})"
    finally:
        book.release_resources()
    if budget.cut:
        builder.add("paragraph", cut_notice())
    return builder, ""


def _xls_row(book, sheet, r: int) -> list[str]:
    import xlrd

    cells = []
    for c, cell in enumerate(sheet.row(r)):
        value = cell.value
        if cell.ctype == xlrd.XL_CELL_EMPTY or cell.ctype == xlrd.XL_CELL_BLANK:
            cells.append("")
            continue
        if cell.ctype == xlrd.XL_CELL_ERROR:
            cells.append(xlrd.error_text_from_code.get(value, "#ERR"))
            continue
        fmt = "General"
        xf = book.xf_list[sheet.cell_xf_index(r, c)] if book.xf_list else None
        if xf is not None and xf.format_key in book.format_map:
            fmt = book.format_map[xf.format_key].format_str
        if cell.ctype == xlrd.XL_CELL_DATE:
            try:
                value = xlrd.xldate_as_datetime(value, book.datemode)
            except (ValueError, OverflowError, xlrd.xldate.XLDateError):
                pass
        elif cell.ctype == xlrd.XL_CELL_BOOLEAN:
            value = bool(value)
        cells.append(display(value, fmt))
    return cells
