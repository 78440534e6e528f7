"""OpenDocument (.odt text, .ods spreadsheet, .odp presentation): `content.xml` walked in order.

Text: headings by outline level, paragraphs, list items, tables as rows. Spreadsheet: each
sheet a section, rows under the header found (grid.py), cells as displayed (ODF stores the
displayed text). Presentation: one page per slide, its title as a heading, notes kept.
lxml (BSD) parses the XML without entities or network; `zip_problem` checks the container first.
"""

from __future__ import annotations

import io
import zipfile

from ...config import MAX_REPEAT
from .archive import zip_problem
from .build import TextBuilder, squash, table_rows, usable_title
from .grid import CellBudget, add_rows, cut_notice

NS = {
    "office": "urn:oasis:names:tc:opendocument:xmlns:office:1.0",
    "text": "urn:oasis:names:tc:opendocument:xmlns:text:1.0",
    "table": "urn:oasis:names:tc:opendocument:xmlns:table:1.0",
    "draw": "urn:oasis:names:tc:opendocument:xmlns:drawing:1.0",
    "presentation": "urn:oasis:names:tc:opendocument:xmlns:presentation:1.0",
    "dc": "http://purl.org/dc/elements/1.1/",
}


def _tag(prefix: str, name: str) -> str:
    return f"{{{NS[prefix]}}}{name}"


def extract(raw: bytes) -> tuple[TextBuilder, str] | str:
    """(clean text builder, title) of an .odt, .ods or .odp file, or the reason it cannot be read."""
    problem = zip_problem(raw, "OpenDocument")
    if problem:
        return problem
    try:
        from lxml import etree

        parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
        with zipfile.ZipFile(io.BytesIO(raw)) as archive:
            content = etree.fromstring(archive.read("content.xml"), parser)
            names = set(archive.namelist())
            meta = etree.fromstring(archive.read("meta.xml"), parser) if "meta.xml" in names else None
    except Exception as exc:  # not an OpenDocument file, or damaged XML
        return f"unreadable OpenDocument file ({str(exc)[:120] or exc.__class__.__name__})"
    body = content.find(_tag("office", "body"))
    if body is None or not len(body):
        return "unreadable OpenDocument file (no body)"
    builder, kind = TextBuilder(), body[0]
    if kind.tag == _tag("office", "spreadsheet"):
        budget = CellBudget()
        for sheet in kind.iter(_tag("table", "table")):
            if not budget.cut:
                add_rows(builder, _sheet_rows(sheet), budget, sheet.get(_tag("table", "name"), ""))
        if budget.cut:
            builder.add("paragraph", cut_notice())
    elif kind.tag == _tag("office", "presentation"):
        for number, page in enumerate(kind.iter(_tag("draw", "page")), 1):
            if number > 1:
                builder.new_page()
            _add_slide(builder, page, number)
    else:
        _walk(builder, kind)
    title = ""
    if meta is not None:
        found = meta.find(f".//{_tag('dc', 'title')}")
        title = usable_title(found.text if found is not None else "")
    if kind.tag == _tag("office", "spreadsheet"):  # a sheet's name is no title
        return builder, title
    return builder, title or next((builder.text()[b.start:b.end] for b in builder.blocks if b.kind == "heading"), "")


def _text(element) -> str:
    """An element's words: text:s spaces, tabs and line breaks as spaces, notes and annotations left out."""
    parts: list[str] = []

    def visit(node) -> None:
        if node.tag in (_tag("text", "note"), _tag("office", "annotation")):
            parts.append(node.tail or "")
            return
        if node.tag in (_tag("text", "s"), _tag("text", "tab"), _tag("text", "line-break")):
            parts.append(" ")
        parts.append(node.text or "")
        for child in node:
            visit(child)
        if node is not element:
            parts.append(node.tail or "")

    visit(element)
    return squash("".join(parts))


def _walk(builder: TextBuilder, parent, page: int | None = None, in_list: bool = False) -> None:
    for node in parent:
        tag = node.tag
        if tag == _tag("text", "h"):
            level = int(node.get(_tag("text", "outline-level"), "1") or 1)
            builder.add("heading", _text(node), min(level, 6) + 1, page)  # a Title paragraph is level 1
        elif tag == _tag("text", "p"):
            builder.add("list" if in_list else "paragraph", _text(node), 0, page)
        elif tag == _tag("text", "list"):
            _walk(builder, node, page, True)
        elif tag == _tag("table", "table"):
            rows = [[_text(cell) for cell in _cells(row)] for row in node.iter(_tag("table", "table-row"))]
            for line in table_rows(rows):
                builder.add("table", line, 0, page)
        elif len(node):
            _walk(builder, node, page, in_list)


def _cells(row) -> list:
    cells = []
    for cell in row:
        if cell.tag in (_tag("table", "table-cell"), _tag("table", "covered-table-cell")):
            repeat = int(cell.get(_tag("table", "number-columns-repeated"), "1") or 1)
            cells += [cell] * (min(repeat, MAX_REPEAT) if len(cell) else 1)
    return cells


def _sheet_rows(sheet):
    for row in sheet.iter(_tag("table", "table-row")):
        cells = [_text(cell) for cell in _cells(row)]
        repeat = int(row.get(_tag("table", "number-rows-repeated"), "1") or 1)
        for _ in range(min(repeat, MAX_REPEAT) if any(cells) else 1):
            yield cells


def _add_slide(builder: TextBuilder, page, number: int) -> None:
    notes = page.find(_tag("presentation", "notes"))
    in_notes = set(notes.iter()) if notes is not None else set()
    frames = [f for f in page.iter(_tag("draw", "frame")) if f not in in_notes]
    for frame in frames:
        if frame.get(_tag("presentation", "class")) == "title":
            builder.add("heading", _text(frame), 1, number)
    for frame in frames:
        if frame.get(_tag("presentation", "class")) != "title":
            _walk(builder, frame, number)
    if notes is not None:
        words = " ".join(_text(p) for p in notes.iter(_tag("text", "p")))
        if words.strip():
            builder.add("paragraph", f"Speaker notes: {words}", 0, number)
