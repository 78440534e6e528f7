"""PDF: the text a person reads, page by page, with headings from font size and weight.

pypdfium2 (PDFium, Apache-2.0/BSD) is used rather than PyMuPDF (AGPL) or pdfminer-based
libraries: it gives reading-order text, each character's font size, weight and box, and it
is fast. Lines are grouped into paragraphs by their spacing, hard wraps and hyphenation are
joined, lines repeated at the top or bottom of most pages (running headers, footers, page
numbers) are dropped, and lines set larger than the body text become headings.

`char_map` keeps, for every character of the clean text, the PDF character it came from, so
a cited span can be drawn on the page exactly (see `span_boxes`).
"""

from __future__ import annotations

import re
import statistics
from collections import Counter
from dataclasses import dataclass, field

from .build import TextBuilder, squash, usable_title

HEADING_RATIO = 1.15  # a line this much larger than the body text is a heading
BOLD_WEIGHT = 600
_BULLET = re.compile(r"^\s*(?:[•●▪◦‣∙·\-–*]|\(?\d{1,3}[.)]|\(?[a-z][.)])\s+")
_PAGE_NUMBER = re.compile(r"^(?:page\s+)?[-–—(]?\s*\d{1,4}\s*[-–—)]?(?:\s*(?:of|/)\s*\d{1,4})?$", re.IGNORECASE)
_MONTH = r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?"
_DATE_LINE = re.compile(rf"^[\W\d]*(?:\d{{1,2}}\s+)?{_MONTH}\s+(?:\d{{1,2}},?\s+)?\d{{4}}\W*$"
                        r"|^\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}$", re.IGNORECASE)
_SENTENCE_END = re.compile(r"[.!?:;\"”’)]\s*$")


@dataclass
class _Line:
    page: int  # 0-based
    text: str
    indices: list[int]  # PDFium char index of each character of `text`
    size: float
    bold: bool
    top: float  # PDF units, origin at the bottom of the page
    bottom: float
    left: float
    right: float


@dataclass
class PdfText:
    """What the reader found: clean text, blocks and the char map back into the PDF."""

    builder: TextBuilder
    title: str
    char_map: list[tuple[int, int]] = field(default_factory=list)  # clean offset -> (page, char index) or (-1, -1)


def _open(raw: bytes):
    import pypdfium2 as pdfium

    return pdfium.PdfDocument(raw)


def _page_lines(textpage, page_number: int) -> list[_Line]:
    import pypdfium2.raw as pdfium_c

    count = textpage.count_chars()
    if count <= 0:
        return []
    text = textpage.get_text_range(0, count)
    if len(text) != count:  # characters outside the BMP: fall back to one call per character
        text = "".join(chr(pdfium_c.FPDFText_GetUnicode(textpage, i) or 32) for i in range(count))
    lines: list[_Line] = []
    start = 0
    for match in re.finditer(r"\r\n|\r|\n|$", text):
        end = match.start()
        indices = [i for i in range(start, end) if text[i] not in "\x00\ufffe"]
        chars = "".join(text[i] for i in indices).replace("\x02", "-").replace("\xad", "-")
        start = match.end()
        if not chars.strip():
            continue
        inked = [i for i in indices if not text[i].isspace()]
        sample = inked if len(inked) <= 24 else inked[:: max(1, len(inked) // 24)]
        sizes = [pdfium_c.FPDFText_GetFontSize(textpage, i) for i in sample]
        weights = [pdfium_c.FPDFText_GetFontWeight(textpage, i) for i in sample]
        boxes = [textpage.get_charbox(i) for i in (inked[0], inked[-1])]
        lines.append(_Line(
            page=page_number, text=chars, indices=indices, size=round(statistics.median(sizes), 1),
            bold=statistics.median(weights) >= BOLD_WEIGHT,
            top=max(b[3] for b in boxes), bottom=min(b[1] for b in boxes),
            left=boxes[0][0], right=boxes[-1][2]))
        if match.end() >= len(text):
            break
    return lines


def _furniture(pages: list[list[_Line]]) -> set[tuple[int, int]]:
    """(page, line number) of running headers, footers and page numbers.

    A line in the top or bottom two of its page is furniture when the same words (digits
    aside) sit there on at least half of the pages (and two), or when it is a page number.
    """
    def key(line: _Line) -> str:
        return re.sub(r"\d+", "#", squash(line.text).casefold())

    edges: dict[tuple[int, int], str] = {}
    for p, lines in enumerate(pages):
        order = sorted(range(len(lines)), key=lambda i: -lines[i].top)
        for i in order[:2] + order[-2:]:
            edges[(p, i)] = key(lines[i])
    counts = Counter(k for keys in _per_page(edges).values() for k in keys)  # pages each key stands on
    needed = max(2, (len(pages) + 1) // 2)
    return {place for place, k in edges.items()
            if counts[k] >= needed or _PAGE_NUMBER.match(squash(pages[place[0]][place[1]].text))}


def _per_page(edges: dict[tuple[int, int], str]) -> dict[int, set[str]]:
    """The distinct edge keys of each page, gathered in one pass (a page's count must not rescan every edge)."""
    keys: dict[int, set[str]] = {}
    for (page, _), key in edges.items():
        keys.setdefault(page, set()).add(key)
    return keys


def _join(parts: list[_Line], words: set[str]) -> tuple[str, list[int]]:
    """Lines of one paragraph as one line; returns the text and each char's index into `flat`.

    A line ending in a hyphen joins the next without a space; the hyphen itself is dropped
    only when the joined word occurs elsewhere in the document ("inter-" + "national").
    """
    text, origin = "", []
    for n, line in enumerate(parts):
        body = line.text.strip()
        lead = len(line.text) - len(line.text.lstrip())
        if n and text:
            if text.endswith("-") and body[:1].islower():
                head = re.search(r"(\w+)-$", text)
                tail = re.match(r"\w+", body)
                if head and tail and (head.group(1) + tail.group()).casefold() in words:
                    text, origin = text[:-1], origin[:-1]
            else:
                text += " "
                origin.append(-1)
        text += body
        origin.extend((n << 20) | (lead + i) for i in range(len(body)))
    return text, origin


def extract(raw: bytes) -> PdfText | str:
    """The PDF's clean text and structure, or the reason it cannot be read."""
    try:
        pdf = _open(raw)
    except Exception as exc:  # PDFium raises its own error types for damaged or encrypted files
        return f"unreadable PDF: {str(exc).strip().rstrip('.') or exc.__class__.__name__}"
    try:
        pages = []
        for p in range(len(pdf)):
            page = pdf[p]
            pages.append(_page_lines(page.get_textpage(), p))
        metadata = pdf.get_metadata_dict()
    except Exception as exc:
        return f"unreadable PDF: {str(exc).strip().rstrip('.') or exc.__class__.__name__}"
    finally:
        pdf.close()
    if not any(pages):
        return "no text layer (a scanned PDF? run OCR on it first)"
    furniture = _furniture(pages)
    body = [[line for i, line in enumerate(lines) if (p, i) not in furniture] for p, lines in enumerate(pages)]
    sizes = Counter()
    for lines in body:
        for line in lines:
            sizes[line.size] += len(line.text)
    body_size = sizes.most_common(1)[0][0] if sizes else 0.0
    heading_sizes = sorted({line.size for lines in body for line in lines
                            if line.size >= body_size * HEADING_RATIO}, reverse=True)
    words = {w.casefold() for lines in body for line in lines for w in re.findall(r"\w+", line.text)}
    result = PdfText(TextBuilder(), usable_title(metadata.get("Title")))
    first_page_headings: list[tuple[int, str]] = []
    for p, lines in enumerate(body):
        if p:
            result.builder.new_page()
        for kind, level, group in _paragraphs(lines, body_size, heading_sizes):
            text, origin = _join(group, words)
            block = result.builder.add(kind, text, level, p + 1)
            if block is None:
                continue
            if kind == "heading" and p == 0 and not _DATE_LINE.match(squash(text)):
                first_page_headings.append((level, squash(text)))
            _map(result, block.start, text, origin, group)
    # No title in the metadata: the largest heading on the first page (a printed date is never a title).
    result.title = result.title or min(first_page_headings, key=lambda h: h[0], default=(0, ""))[1]
    return result


def _map(result: PdfText, start: int, text: str, origin: list[int], group: list[_Line]) -> None:
    """Record, for each clean character from `start`, the PDF character it came from."""
    cmap = result.char_map
    cmap.extend([(-1, -1)] * (start + len(text) - len(cmap)))
    stripped = len(text) - len(text.lstrip())
    for offset, code in enumerate(origin[stripped:], start):
        if code >= 0 and offset < len(cmap):
            line = group[code >> 20]
            position = code & 0xFFFFF
            if position < len(line.indices):
                cmap[offset] = (line.page, line.indices[position])


def _paragraphs(lines: list[_Line], body_size: float, heading_sizes: list[float]):
    """Yield (kind, level, lines) groups: headings, list items and paragraphs.

    A new block starts at a heading, a bullet, a change of font size, a gap clearly wider
    than the page's usual line spacing, or after a line that ends a sentence well short of
    the right margin (the last line of a paragraph).
    """
    gaps = [a.bottom - b.top for a, b in zip(lines, lines[1:]) if 0 <= a.bottom - b.top < 3 * max(a.size, 1)]
    usual = statistics.median(gaps) if gaps else 0.0
    right = max((line.right for line in lines), default=0.0)

    def level_of(line: _Line) -> int:
        if line.size in heading_sizes and len(line.text.split()) <= 20:
            return heading_sizes.index(line.size) + 1
        if line.bold and len(line.text.split()) <= 12 and not _SENTENCE_END.search(line.text):
            return len(heading_sizes) + 1  # a bold line of body size standing alone: the lowest heading level
        return 0

    group: list[_Line] = []
    for line in lines:
        if group:
            last = group[-1]
            gap = last.bottom - line.top
            if (level_of(line) or level_of(group[0]) or _BULLET.match(line.text)
                    or abs(line.size - last.size) > 0.5
                    or gap > max(1.6 * usual, usual + 0.4 * line.size) or gap < -0.5 * line.size
                    or (_SENTENCE_END.search(last.text) and last.right < right - 2 * max(body_size, 1))):
                yield _kind(group[0], level_of(group[0])), level_of(group[0]), group
                group = []
        group.append(line)
    if group:
        yield _kind(group[0], level_of(group[0])), level_of(group[0]), group


def _kind(first: _Line, level: int) -> str:
    return "heading" if level else ("list" if _BULLET.match(first.text) else "paragraph")
