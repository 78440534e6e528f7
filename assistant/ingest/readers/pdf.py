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
from collections import Counter
from dataclasses import dataclass, field

from ...text import SURROGATE
from .build import TextBuilder, squash, usable_title
from .ocr import engine, ocr_pages
from .pdf_blocks import DATE_LINE, HEADING_RATIO, WORD, carry_over, headline, paragraphs
from .pdf_layout import Line, page_lines
from .pdf_rules import page_rules
from .pdf_tables import pair_rows

_PAGE_NUMBER = re.compile(r"^(?:page\s+)?[-–—(]?\s*\d{1,4}\s*[-–—)]?(?:\s*(?:of|/)\s*\d{1,4})?$", re.IGNORECASE)
_EDGE_NUMBER = re.compile(r"^\W*(\d{1,4})\b|\b(\d{1,4})\W*$|\bpage\s+(\d{1,4})\b", re.IGNORECASE)  # first, last, "page N"
ENCRYPTED = "encrypted PDF: a password-free copy is needed"
_PASSWORD_ERRORS = (4, 5)  # FPDF_ERR_PASSWORD, FPDF_ERR_SECURITY
# FPDF_ERR_FORMAT: no PDF, or its cross-reference table or page tree is broken (py-pdf's unreadablemetadata.pdf);
# FPDF_ERR_SUCCESS with no document: the catalog names a page tree that is not there
_FORMAT_ERRORS = (3, 0)
DAMAGED = "unreadable PDF: not a PDF or damaged (its structure cannot be read); a copy re-saved by a PDF tool may read"
_NOWHERE = (-1, -1)  # a clean character printed nowhere (a space joining lines)
_SECTION_NUMBER = re.compile(r"^\d{1,2}(?:\.\d{1,2})*\.?\s+\w")  # "1 Your Chapter", "2.3. Methods": a section's head
_PAGE_REF = re.compile(r"(?:^|\s|\.)\d{1,4}$")  # a contents line's page number at its end
TOC_BLOCKS = 6  # blocks after a heading looked at for a table of contents


@dataclass
class PdfText:
    """What the reader found: clean text, blocks and the char map back into the PDF."""

    builder: TextBuilder
    title: str
    char_map: list[tuple[int, int]] = field(default_factory=list)  # clean offset -> (page, char index) or (-1, -1)
    ocr_boxes: dict[int, list[tuple[float, float, float, float]]] = field(default_factory=dict)  # page -> boxes
    ocr_pages: int = 0
    body_size: float = 0.0  # the glyph size most characters are set in (the body text)
    block_sizes: list[float] = field(default_factory=list)  # per block of `builder`: the size most of its characters are set in


def open_pdf(raw: bytes):
    """A PDFium document of the bytes (the viewer's page renderer opens PDFs the same way)."""
    import pypdfium2 as pdfium

    return pdfium.PdfDocument(raw)


def _failure(exc: Exception) -> str:
    """One line saying why PDFium could not open the file."""
    if getattr(exc, "err_code", None) in _PASSWORD_ERRORS:
        return ENCRYPTED
    if getattr(exc, "err_code", None) in _FORMAT_ERRORS:
        return DAMAGED
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
    found = {place for place, k in edges.items()
             if counts[k] >= needed or _PAGE_NUMBER.match(squash(pages[place[0]][place[1]].text))}
    return found | _numbered_edges(pages, [place for place in edges if place not in found])


def _numbered_edges(pages: list[list[Line]], places: list[tuple[int, int]]) -> set[tuple[int, int]]:
    """Edge lines that carry the printed page number ("12 Journal Name", "Page 3 of 12", "7 | 1.2. METRIC SPACES").

    The printed number is the page's index plus one offset for the document (front matter
    counts apart): an offset found on at least a quarter of the pages (and three) marks its
    lines as furniture, whatever else they say.
    """
    numbers: dict[tuple[int, int], set[int]] = {}
    for p, i in places:
        text = squash(pages[p][i].text)
        if len(text.split()) <= 12:
            found = _EDGE_NUMBER.findall(text)
            numbers[(p, i)] = {int(n) for group in found for n in group if n}
    offsets = Counter(offset for offset, _ in {(n - p, p) for (p, _), ns in numbers.items() for n in ns})
    if not offsets:
        return set()
    offset, pages_with = offsets.most_common(1)[0]
    if pages_with < max(3, len(pages) // 4):
        return set()
    return {(p, i) for (p, i), ns in numbers.items() if p + offset in ns}


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
        pages = [read_page(pdf[p], p) for p in range(len(pdf))]
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


def read_page(page, number: int) -> list[Line]:
    """One page's lines, its ruling lines and text boxes taken into account."""
    return page_lines(page.get_textpage(), number, page_rules(page))


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
                            if line.size >= body_size * HEADING_RATIO and headline(line)}, reverse=True)
    words = _printed_words(body)
    result = PdfText(TextBuilder(), _metadata_title(metadata_title, pages), body_size=body_size)
    candidates: list[tuple[float, float, str, int]] = []  # first page's headings: (-size, -top, text, next block)
    first: list[str] = []  # the first page's blocks
    flows = [list(paragraphs(pair_rows(lines), body_size, heading_sizes)) for lines in body]
    continued = [False] * len(flows)  # the page's first group goes on from the page before
    for p in range(len(flows) - 1):
        continued[p + 1] = carry_over(flows[p], flows[p + 1], continued[p])
    for p, groups in enumerate(flows):
        if p:
            result.builder.new_page()
        for n, (kind, level, group) in enumerate(groups):
            text, origin = _join(group, words)
            if SURROGATE.search(text):
                text, origin = _astral(text, origin)
            block = result.builder.add(kind, text, level, p + 1, continues=continued[p] and n == 0)
            if block is None:
                continue
            result.block_sizes.append(_size_of(group))
            if p == 0:
                first.append(squash(text))
                if kind == "heading" and not DATE_LINE.match(first[-1]) and not _SECTION_NUMBER.match(first[-1]):
                    candidates.append((-group[0].size, -group[0].top, first[-1], len(first)))
            _map(result, block.start, text, origin)
    # No usable title in the metadata: the largest heading on the first page, the highest of equals;
    # a numbered section's heading or the heading over a table of contents is no document title.
    candidates = [c for c in candidates if not _contents(first[c[3]:c[3] + TOC_BLOCKS])]
    result.title = result.title or (min(candidates)[2] if candidates else "")
    return result


def _astral(text: str, origin: list[tuple[int, int]]) -> tuple[str, list[tuple[int, int]]]:
    """Characters outside the BMP that PDFium gives as two halves ("𝑉" in a paper's formulas) made whole,
    mapped to the first half's PDF character; a half with no partner becomes U+FFFD. Either way the
    text can be encoded (the tokenizer refused it: indexing such a PDF failed)."""
    out: list[str] = []
    places: list[tuple[int, int]] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if "\ud800" <= ch <= "\udbff" and i + 1 < len(text) and "\udc00" <= text[i + 1] <= "\udfff":
            out.append(text[i:i + 2].encode("utf-16-le", "surrogatepass").decode("utf-16-le"))
            places.append(origin[i] if i < len(origin) else _NOWHERE)
            i += 2
            continue
        out.append("\ufffd" if "\ud800" <= ch <= "\udfff" else ch)
        places.append(origin[i] if i < len(origin) else _NOWHERE)
        i += 1
    return "".join(out), places


def _contents(blocks: list[str]) -> bool:
    """Whether the blocks after a heading are a table of contents: most end in a page number."""
    return len(blocks) >= 3 and sum(bool(_PAGE_REF.search(block)) for block in blocks) * 4 >= len(blocks) * 3


def _size_of(lines: list[Line]) -> float:
    """The glyph size most of the lines' characters are set in."""
    sizes: Counter = Counter()
    for line in lines:
        sizes[line.size] += len(line.text)
    return sizes.most_common(1)[0][0]


def _metadata_title(title: object, body: list[list[Line]]) -> str:
    """The metadata title when at least half its words are printed on the first two pages (not a template's)."""
    title = usable_title(title)
    wanted = {w.casefold() for w in WORD.findall(title)}
    if not wanted:
        return title if title and not any(body) else ""
    printed = {w.casefold() for lines in body[:2] for line in lines for w in WORD.findall(line.text)}
    return title if len(wanted & printed) * 2 >= len(wanted) else ""


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
