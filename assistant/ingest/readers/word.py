"""Word (.docx): paragraphs in order, headings from their style, lists kept, tables as rows.

python-docx (MIT) opens the package; the body's XML is then walked with lxml directly, in document
order, because python-docx's proxies are slow on large files (every paragraph's style is looked up
anew, every table row rebuilds its grid) and repeat a merged cell once per grid column it spans.
Reading the XML, each `w:tc` is read once, nested tables come after their table, a table whose
layout makes no sense is read as plain text, and headers and footers (other parts) stay out.
"""

from __future__ import annotations

import io
import re

from .archive import zip_problem
from .build import TextBuilder, squash, table_rows, usable_title
from .word_lists import Numbering

_HEADING_STYLE = re.compile(r"^(?:heading|überschrift|titre|título)\s*(\d)$", re.IGNORECASE)
W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_MC = "{http://schemas.openxmlformats.org/markup-compatibility/2006}"
# Run content read as text; subtrees never read: text boxes and alternate renderings (their words
# would come twice or out of place), deleted revisions, field instructions.
_TEXT = {f"{W}t": None, f"{W}tab": "\t", f"{W}br": "\n", f"{W}cr": "\n", f"{W}noBreakHyphen": "-"}
_SKIP = frozenset({f"{W}txbxContent", f"{_MC}Fallback", f"{W}del", f"{W}moveFrom", f"{W}instrText",
                   f"{W}pPr", f"{W}rPr",
                   f"{W}footnoteReference", f"{W}commentReference"})
_MAX_SPAN = 64  # grid columns one cell may claim (a hostile gridSpan must not build a huge row)


def extract(raw: bytes) -> tuple[TextBuilder, str] | str:
    """(clean text builder, title) of a .docx file, or the reason it cannot be read."""
    problem = zip_problem(raw, "Word")
    if problem:
        return problem
    try:
        import docx

        document = docx.Document(io.BytesIO(raw))
        body = document.element.body
        styles = _Styles(document.styles.element)
        numbering = Numbering(_numbering_xml(document), styles.numbered)
        title = usable_title(document.core_properties.title)
    except Exception as exc:  # a zip that is not a Word file, or a damaged one
        return f"unreadable Word file ({str(exc)[:120] or exc.__class__.__name__})"
    reader = _Reader(styles, numbering)
    try:
        reader.container(body)
    except Exception as exc:  # noqa: BLE001 - a reader never raises: the file is skipped with the reason
        return f"unreadable Word file ({exc.__class__.__name__})"
    return reader.builder, title or reader.title or reader.first_heading


def _numbering_xml(document):
    """The numbering part's XML (list formats), or None when the file has no lists."""
    try:
        return document.part.numbering_part.element
    except (KeyError, NotImplementedError):
        return None


class _Styles:
    """Paragraph style names and their list numbering, looked up once per style id, not per paragraph."""

    def __init__(self, root) -> None:
        self.names: dict[str, str] = {}
        self.numbered: dict[str, tuple[str, int]] = {}  # style id -> (numId, level) a list style gives
        based: dict[str, str] = {}
        for style in root.iter(f"{W}style"):
            sid = style.get(f"{W}styleId") or ""
            name = style.find(f"{W}name")
            self.names[sid] = name.get(f"{W}val", "") if name is not None else ""
            base = style.find(f"{W}basedOn")
            if base is not None:
                based[sid] = base.get(f"{W}val", "")
            num = style.find(f"{W}pPr/{W}numPr")
            if num is not None:
                self.numbered[sid] = _num_pr(num)
        for sid in list(self.names):  # a style based on a list style numbers too
            seen, cur = {sid}, based.get(sid)
            while sid not in self.numbered and cur and cur not in seen:
                if cur in self.numbered:
                    self.numbered[sid] = self.numbered[cur]
                seen.add(cur)
                cur = based.get(cur)


def _num_pr(num_pr) -> tuple[str, int]:
    num_id = num_pr.find(f"{W}numId")
    ilvl = num_pr.find(f"{W}ilvl")
    level = ilvl.get(f"{W}val", "0") if ilvl is not None else "0"
    return (num_id.get(f"{W}val", "") if num_id is not None else "",
            int(level) if level.isdigit() else 0)


class _Reader:
    """Walks the body's XML into a TextBuilder."""

    def __init__(self, styles: _Styles, numbering: Numbering) -> None:
        self.builder = TextBuilder()
        self.styles, self.numbering = styles, numbering
        self.title = self.first_heading = ""

    def container(self, element) -> None:
        """The paragraphs and tables of the body (or of a content control in it), in order."""
        for child in element:
            if child.tag == f"{W}p":
                self.paragraph(child)
            elif child.tag == f"{W}tbl":
                self.table(child)
            elif child.tag in _WRAPPERS:
                self.container(child)

    def paragraph(self, p) -> None:
        text = paragraph_text(p)
        sid_el = p.find(f"{W}pPr/{W}pStyle")
        sid = sid_el.get(f"{W}val", "") if sid_el is not None else ""
        style = self.styles.names.get(sid, sid)
        heading = _HEADING_STYLE.match(style)
        if style.casefold() == "title":
            self.title = self.title or squash(text)
            self.builder.add("heading", squash(text), 1)
        elif heading:
            self.first_heading = self.first_heading or squash(text)
            self.builder.add("heading", squash(text), int(heading.group(1)) + 1)  # the Title style is level 1
        elif (marker := self.numbering.marker(p, sid)) is not None:
            self.builder.add("list", f"{marker} {text.strip()}" if marker and text.strip() else text)
        elif style.casefold().startswith("list"):
            self.builder.add("list", text)
        elif style.casefold() in ("quote", "intense quote"):
            self.builder.add("quote", text)
        else:
            self.builder.add("paragraph", text)

    def table(self, tbl) -> None:
        """A table's rows, each cell once (a merged cell is one `w:tc`; a continued vertical merge is
        empty), then its nested tables; a table whose layout cannot be read comes as plain lines."""
        nested: list = []
        try:
            rows = []
            for tr in _children(tbl, f"{W}tr"):
                row: list[str] = []
                for tc in _children(tr, f"{W}tc"):
                    span = tc.find(f"{W}tcPr/{W}gridSpan")
                    width = int(span.get(f"{W}val", "1")) if span is not None else 1
                    row.append(" ".join(paragraph_text(p) for p in _children(tc, f"{W}p")))
                    row += [""] * (min(max(width, 1), _MAX_SPAN) - 1)
                    nested += _children(tc, f"{W}tbl")
                rows.append(row)
            lines = table_rows(rows)
        except (ValueError, TypeError):  # a layout python-docx also chokes on: the words still count
            lines, nested = [squash(paragraph_text(p)) for p in tbl.iter(f"{W}p")], []
        for line in lines:
            self.builder.add("table", line)
        for inner in nested:  # each nested table once, after the table it sits in
            self.table(inner)


_WRAPPERS = frozenset({f"{W}sdt", f"{W}sdtContent", f"{W}customXml", f"{W}smartTag"})


def _children(element, tag: str) -> list:
    """An element's children with this tag, looking through content controls and custom XML wrappers."""
    found = []
    for child in element:
        if child.tag == tag:
            found.append(child)
        elif child.tag in _WRAPPERS:
            found += _children(child, tag)
    return found


def paragraph_text(p) -> str:
    """A paragraph's words as Word shows them in the body: runs, hyperlinks, fields, inserted text."""
    parts: list[str] = []
    _collect(p, parts)
    return "".join(parts)


def _collect(element, parts: list[str]) -> None:
    for child in element:
        tag = child.tag
        if tag in _SKIP or not isinstance(tag, str):
            continue
        if tag in _TEXT:
            parts.append(child.text or "" if _TEXT[tag] is None else _TEXT[tag])
        elif len(child):
            _collect(child, parts)
