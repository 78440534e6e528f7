"""Word (.docx): paragraphs in order, headings from their style, lists kept, tables as rows.

python-docx (MIT) reads the file; the body is walked in document order so tables stay where
they stand between paragraphs.
"""

from __future__ import annotations

import io
import re

from .archive import zip_problem
from .build import TextBuilder, squash, table_rows, usable_title

_HEADING_STYLE = re.compile(r"^(?:heading|überschrift|titre|título)\s*(\d)$", re.IGNORECASE)


def extract(raw: bytes) -> tuple[TextBuilder, str] | str:
    """(clean text builder, title) of a .docx file, or the reason it cannot be read."""
    problem = zip_problem(raw, "Word")
    if problem:
        return problem
    try:
        import docx
        from docx.document import Document as _DocxDocument
        from docx.table import Table
        from docx.text.paragraph import Paragraph

        document: _DocxDocument = docx.Document(io.BytesIO(raw))
    except Exception as exc:  # a zip that is not a Word file, or a damaged one
        return f"unreadable Word file ({str(exc)[:120] or exc.__class__.__name__})"
    builder = TextBuilder()
    title = usable_title(document.core_properties.title)
    first_heading = ""
    for item in document.iter_inner_content():
        if isinstance(item, Table):
            for row in table_rows([[cell.text for cell in row.cells] for row in item.rows]):
                builder.add("table", row)
            continue
        if not isinstance(item, Paragraph):
            continue
        text = item.text
        style = (item.style.name if item.style is not None else "") or ""
        heading = _HEADING_STYLE.match(style)
        if style.casefold() == "title":
            title = title or squash(text)
            builder.add("heading", squash(text), 1)
        elif heading:
            level = int(heading.group(1)) + 1  # the Title style is level 1
            first_heading = first_heading or squash(text)
            builder.add("heading", squash(text), level)
        elif style.casefold().startswith("list") or item._p.pPr is not None and item._p.pPr.numPr is not None:
            builder.add("list", text)
        elif style.casefold() in ("quote", "intense quote"):
            builder.add("quote", text)
        else:
            builder.add("paragraph", text)
    return builder, title or first_heading
