"""PDF: the text a person reads, page by page, with headings from rendered glyph size and weight.

pypdfium2 (PDFium, Apache-2.0/BSD) is used rather than PyMuPDF (AGPL) or pdfminer-based
libraries: it gives each character's box, matrix and weight, and it is fast. `pdf_layout`
turns the characters into lines in reading order (columns, bands, table rows); table rows under
a header are read with it (`pdf_tables`); here lines are grouped into paragraphs by their
spacing, indents and short last lines, hard wraps and hyphenation are joined, lines repeated
at the top or bottom of most pages (running headers, footers, page numbers) are dropped, and
lines set larger than the body text become headings.
Pages with no text layer are read by OCR (`ocr`), within a page and time budget.

`char_map` keeps, for every character of the clean text, the PDF character it came from, so
a cited span can be drawn on the page exactly (see `span_boxes`); OCR text keeps its word boxes.
"""

from __future__ import annotations

import re
import statistics
from collections import Counter
from dataclasses import dataclass, field

from .build import TextBuilder, squash, usable_title
from .ocr import engine, ocr_pages
from .pdf_layout import Line, page_lines
from .pdf_tables import pair_rows

HEADING_RATIO = 1.15  # a line this much larger than the body text is a heading
_BULLET = re.compile(r"^\s*(?:[•●▪◦‣∙·\-–*]|\(?\d{1,3}[.)]|\(?[a-z][.)])\s+")
_PAGE_NUMBER = re.compile(r"^(?:page\s+)?[-–—(]?\s*\d{1,4}\s*[-–—)]?(?:\s*(?:of|/)\s*\d{1,4})?$", re.IGNORECASE)
_MONTH = r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?"
_DATE_LINE = re.compile(rf"^[\W\d]*(?:\d{{1,2}}\s+)?{_MONTH}\s+(?:\d{{1,2}},?\s+)?\d{{4}}\W*$"
                        r"|^\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}$", re.IGNORECASE)
_SENTENCE_END = re.compile(r"[.!?:;\"”’)]\s*$")
_WORD = re.compile(r"[^\W\d_]{2,}")
_NUMBERED_CAPS = re.compile(r"^(?:[IVXL]{1,6}|\d{1,2}(?:\.\d{1,2}){0,3})\.?\s+(\w.*)$")  # II. / 3 / 3.1 then the title
ENCRYPTED = "encrypted PDF: a password-free copy is needed"
_PASSWORD_ERRORS = (4, 5)  # FPDF_ERR_PASSWORD, FPDF_ERR_SECURITY
_NOWHERE = (-1, -1)  # a clean character printed nowhere (a space joining lines)


@dataclass
class PdfText:
    """What the reader found: clean text, blocks and the char map back into the PDF."""

    builder: TextBuilder
    title: str
    char_map: list[tuple[int, int]] = field(default_factory=list)  # clean offset -> (page, char index) or (-1, -1)
    ocr_boxes: dict[int, list[tuple[float, float, float, float]]] = field(default_factory=dict)  # page -> boxes
    ocr_pages: int = 0


def open_pdf(raw: bytes):
    """A PDFium document of the bytes (the viewer's page renderer opens PDFs the same way)."""
    import pypdfium2 as pdfium

    return pdfium.PdfDocument(raw)


def _failure(exc: Exception) -> str:
    """One line saying why PDFium could not open the file."""
    if getattr(exc, "err_code", None) in _PASSWORD_ERRORS:
        return ENCRYPTED
    return f"unreadable PDF: {str(exc).strip().rstrip('.') or exc.__class__.__name__}"


def _furniture(pages: list[list[Line]]) -> set[tuple[int, int]]:
    """(page, line number) of running headers, footers and page numbers.

    A line in the top or bottom two of its page is furniture when the same words (digits
    aside) sit there on at least half of the pages (and two), or when it is a page number.
    """
    def key(line: Line) -> str:
        return re.sub(r"\d+", "#", squash(line.text).casefold())

    edges: dict[tuple[int, int], str] = {}
    for p, lines in enumerate(pages):
        order = sorted((i for i, line in enumerate(lines) if not line.vertical), key=lambda i: -lines[i].top)
        for i in order[:2] + order[-2:]:
            edges[(p, i)] = key(lines[i])
    keys: dict[int, set[str]] = {}
    for (page, _), k in edges.items():
        keys.setdefault(page, set()).add(k)
    counts = Counter(k for page_keys in keys.values() for k in page_keys)  # pages each key stands on
    needed = max(2, (len(pages) + 1) // 2)
    return {place for place, k in edges.items()
            if counts[k] >= needed or _PAGE_NUMBER.match(squash(pages[place[0]][place[1]].text))}


def _printed_words(body: list[list[Line]]) -> Counter:
    """How often each word is printed whole: the halves of a word hyphenated over two lines are not counted."""
    words: Counter = Counter()
    for lines in body:
        broken = False  # the line before ended in a hyphen PDFium marked as a break
        for line in lines:
            found = re.findall(r"\w+", line.text)
            ends = line.soft_break and line.text.endswith("-")
            words.update(found[int(broken and bool(found)):len(found) - int(ends and bool(found))])
            broken = ends
    return words


def _kept_hyphen(text: str, body: str, words: Counter) -> bool:
    """Whether a printed hyphen PDFium marked as breaking a word at a line end is part of the word.

    Dropped when the joined word is printed elsewhere ("inter-" "national"); kept before a capital
    or digit ("Stress-" "Engineered") and when both halves are words printed whole elsewhere ("self-" "driving").
    """
    head, tail = re.search(r"(\w+)-$", text), re.match(r"\w+", body)
    if not head or not tail:
        return True
    if (head.group(1) + tail.group()).casefold() in words:
        return False
    halves = (head.group(1).casefold(), tail.group().casefold())
    capital = tail.group()[0].isupper() and not (head.group(1).isupper() and tail.group().isupper())  # not "FED-" "ERAL"
    return capital or tail.group()[0].isdigit() or all(len(half) >= 4 and words[half] for half in halves)


def _join(parts: list[Line], words: Counter) -> tuple[str, list[tuple[int, int]]]:
    """Lines of one paragraph as one line; returns the text and each char's PDF char (page, index) or _NOWHERE.

    A line broken by a soft hyphen joins the next without a space; a line ending in a printed
    hyphen loses it only when the joined word occurs elsewhere in the document ("inter-" + "national").
    """
    text, origin = "", []
    for n, line in enumerate(parts):
        body = line.text.strip()
        lead = len(line.text) - len(line.text.lstrip())
        if n and text:
            if parts[n - 1].soft_break:
                if text.endswith("-") and not _kept_hyphen(text, body, words):
                    text, origin = text[:-1], origin[:-1]
            elif text.endswith("-") and body[:1].islower():
                head = re.search(r"(\w+)-$", text)
                tail = re.match(r"\w+", body)
                if head and tail and (head.group(1) + tail.group()).casefold() in words:
                    text, origin = text[:-1], origin[:-1]
            else:
                text += " "
                origin.append(_NOWHERE)
        text += body
        page = line.page
        places = [(page, i) if i >= 0 else _NOWHERE for i in line.indices[lead:lead + len(body)]]
        origin.extend(places + [_NOWHERE] * (len(body) - len(places)))
    return text, origin


def extract(raw: bytes, ocr: bool = True) -> PdfText | str:
    """The PDF's clean text and structure, or the reason it cannot be read."""
    if not raw.strip():
        return "empty file"
    try:
        pdf = open_pdf(raw)
    except Exception as exc:  # PDFium raises its own error types for damaged or encrypted files
        return _failure(exc)
    ocr_boxes: dict[int, list] = {}
    try:
        if len(pdf) == 0:
            return "empty file"
        pages = [page_lines(pdf[p].get_textpage(), p) for p in range(len(pdf))]
        metadata = pdf.get_metadata_dict()
        if ocr and any(not lines for lines in pages):
            for p, (lines, boxes) in ocr_pages(pdf, [p for p, lines in enumerate(pages) if not lines]).items():
                pages[p], ocr_boxes[p] = lines, boxes
    except Exception as exc:
        return _failure(exc)
    finally:
        pdf.close()
    if not any(pages):
        if not ocr or engine() is None:
            return "no text layer (a scanned PDF? install tesseract-ocr to read it)"
        return "no text layer (a scanned PDF, and OCR found no text in it)"
    result = layout(pages, metadata.get("Title"))
    result.ocr_boxes, result.ocr_pages = ocr_boxes, len(ocr_boxes)
    return result


def layout(pages: list[list[Line]], metadata_title: object = None) -> PdfText:
    """Clean text, blocks, title and char map from each page's lines in reading order."""
    furniture = _furniture(pages)
    body = [[line for i, line in enumerate(lines) if (p, i) not in furniture] for p, lines in enumerate(pages)]
    sizes: Counter = Counter()
    for lines in body:
        for line in lines:
            if not line.vertical:
                sizes[line.size] += len(line.text)
    body_size = sizes.most_common(1)[0][0] if sizes else 0.0
    heading_sizes = sorted({line.size for lines in body for line in lines
                            if line.size >= body_size * HEADING_RATIO and _headline(line)}, reverse=True)
    words = _printed_words(body)
    result = PdfText(TextBuilder(), _metadata_title(metadata_title, pages))
    candidates: list[tuple[float, float, str]] = []  # first page's headings: (-size, -top, text)
    for p, lines in enumerate(body):
        if p:
            result.builder.new_page()
        for kind, level, group in _paragraphs(pair_rows(lines), body_size, heading_sizes):
            text, origin = _join(group, words)
            block = result.builder.add(kind, text, level, p + 1)
            if block is None:
                continue
            if kind == "heading" and p == 0 and not _DATE_LINE.match(squash(text)):
                candidates.append((-group[0].size, -group[0].top, squash(text)))
            _map(result, block.start, text, origin)
    # No usable title in the metadata: the largest heading on the first page, the highest of equals.
    result.title = result.title or (min(candidates)[2] if candidates else "")
    return result


def _metadata_title(title: object, body: list[list[Line]]) -> str:
    """The metadata title when at least half its words are printed on the first two pages (not a template's)."""
    title = usable_title(title)
    wanted = {w.casefold() for w in _WORD.findall(title)}
    if not wanted:
        return title if title and not any(body) else ""
    printed = {w.casefold() for lines in body[:2] for line in lines for w in _WORD.findall(line.text)}
    return title if len(wanted & printed) * 2 >= len(wanted) else ""


def _headline(line: Line) -> bool:
    """Whether a line can be a heading at all: words (not figure labels or numbers), no table row, upright."""
    letters = sum(ch.isalpha() for ch in line.text)
    return (not line.vertical and line.cells == 1 and len(_WORD.findall(line.text)) >= 1
            and not _DATE_LINE.match(squash(line.text))
            and letters >= 0.5 * len(line.text.replace(" ", "")) and len(line.text.split()) <= 20)


def _map(result: PdfText, start: int, text: str, origin: list[tuple[int, int]]) -> None:
    """Record, for each clean character from `start`, the PDF character it came from (one slice, not a loop)."""
    cmap = result.char_map
    known = len(cmap)
    cmap.extend([_NOWHERE] * (start + len(text) - known))
    places = origin[len(text) - len(text.lstrip()):][:max(0, len(cmap) - start)]
    if start >= known:
        cmap[start:start + len(places)] = places
        return
    for offset, place in enumerate(places, start):  # overlaps text already mapped: keep what has no new place
        if place is not _NOWHERE:
            cmap[offset] = place


def _paragraphs(lines: list[Line], body_size: float, heading_sizes: list[float]):
    """Yield (kind, level, lines) groups: headings, list items, table rows and paragraphs.

    A new block starts at a heading, a bullet, a table row, a change of size, a gap clearly
    wider than the usual line spacing, an indented first line, after a line that ends a sentence
    well short of its column's right edge, and at a new column unless the sentence runs on.
    """
    gaps = [b.bottom - a.top for b, a in zip(lines, lines[1:])
            if a.column == b.column and not a.vertical and -0.5 * a.size <= b.bottom - a.top < 2 * a.size]
    usual = statistics.median(gaps) if gaps else 0.0

    def level_of(line: Line) -> int:
        if line.size in heading_sizes and _headline(line):
            return heading_sizes.index(line.size) + 1
        if line.bold and _headline(line) and len(line.text.split()) <= 12 and not _SENTENCE_END.search(line.text):
            return len(heading_sizes) + 1  # a bold line of body size standing alone: the lowest heading level
        if _section_head(line, body_size):
            return len(heading_sizes) + 1  # "II. STRESS-ENGINEERED MICROROBOT": capitals (or small capitals), numbered
        return 0

    def breaks(last: Line, line: Line, first: Line) -> bool:
        em = max(line.size, 1.0)
        if (_section_head(first, body_size) and not level_of(line) and _capitals(line.text) and line.size == first.size
                and line.column == last.column and last.bottom - line.top <= usual + 0.5 * em):
            return False  # the section head's second line ("AND ASSEMBLY")
        if level_of(line) != level_of(first) or line.vertical or last.vertical or line.cells > 1 or last.cells > 1:
            return True
        if level_of(line):  # a heading over two lines stays one heading
            return line.column != last.column or last.bottom - line.top > usual + 0.5 * em
        if _BULLET.match(line.text) or abs(line.size - last.size) > 0.25 * em:
            return True
        ended = _SENTENCE_END.search(last.text) is not None
        if line.column != last.column:
            return ended or not (line.text[:1].islower() or last.soft_break or last.text.rstrip().endswith(("-", ",")))
        if line.ocr:  # OCR said which lines make a paragraph (its paragraph number is the column)
            return False
        gap = last.bottom - line.top
        return (gap > usual + 0.5 * em or gap < -0.5 * em
                or (ended and last.right < last.column_right - 2 * em)
                or (ended and line.left > line.column_left + 0.8 * em and line.left > last.left + 0.8 * em))

    group: list[Line] = []
    for line in lines:
        if group and breaks(group[-1], line, group[0]):
            yield _kind(group[0], level_of(group[0])), level_of(group[0]), group
            group = []
        group.append(line)
    if group:
        yield _kind(group[0], level_of(group[0])), level_of(group[0]), group


def _section_head(line: Line, body_size: float) -> bool:
    """A numbered section head set in capitals, small capitals (0.8 of the body size) or larger ("IV. BEYOND STRING CONTROL")."""
    match = _NUMBERED_CAPS.match(squash(line.text))
    if not match or not _headline(line) or line.size < 0.75 * body_size or _SENTENCE_END.search(line.text):
        return False
    return _capitals(match.group(1)) and len(line.text.split()) <= 14


def _capitals(text: str) -> bool:
    letters = [ch for ch in text if ch.isalpha()]
    return len(letters) >= 4 and all(ch.isupper() for ch in letters)


def _kind(first: Line, level: int) -> str:
    if level:
        return "heading"
    if first.cells > 1:
        return "table"
    return "list" if _BULLET.match(first.text) else "paragraph"
