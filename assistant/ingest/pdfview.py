"""A PDF page as an image with a cited span drawn on it, from the extractor's own character boxes.

The span's rectangles come from the same reading that produced the clean text (each clean
character remembers the PDF character it came from), so the highlight lands exactly on the
words cited, never on a fuzzy text match. Pages are rendered by PDFium on the server; the
browser loads nothing from other hosts.
"""

from __future__ import annotations

import ctypes
import io
from dataclasses import dataclass

from .readers.image import extract as extract_image
from .readers.image import is_image
from .readers.pdf import PdfText, extract, open_pdf

_DEVICE = 100_000  # device units across a page for PDFium's transform (fractions to 5 digits)
RENDER_WIDTH = 1400  # pixels across: fits the viewer's width scaled down, shown at full size on click (zoom)
PALETTE = 256  # colours: a page of text and figures in a palette PNG is 25-250 KB at 1,400 px, 4x smaller than RGB


@dataclass(frozen=True)
class PageView:
    """One rendered page and the span's rectangles on it, as fractions of the page (0-1, top-left origin)."""

    page: int  # 1-based
    png: bytes
    boxes: tuple[tuple[float, float, float, float], ...]  # (left, top, width, height)


def span_boxes(raw: bytes, start: int, end: int) -> dict[int, list[tuple[float, float, float, float]]]:
    """Rectangles covering clean-text span [start, end), per 1-based page, one per line of text.

    Character boxes are mapped to the page as displayed (PDFium's page-to-device transform, so
    /Rotate 90, 180 and 270 pages are drawn right); OCR'd pages use the boxes OCR gave.
    """
    result = extract_any(raw)
    if isinstance(result, str):
        return {}
    wanted: dict[int, list[int]] = {}
    for page, index in result.char_map[start:end]:
        if page >= 0:
            wanted.setdefault(page, []).append(index)
    boxes: dict[int, list[tuple[float, float, float, float]]] = {}
    pdf = None
    try:
        for page, indices in wanted.items():
            if page in result.ocr_boxes:
                found = [result.ocr_boxes[page][i] for i in indices if 0 <= i < len(result.ocr_boxes[page])]
            else:
                pdf = pdf or open_pdf(raw)
                found = _char_boxes(pdf[page], indices)
            boxes[page + 1] = [(left, top, right - left, bottom - top) for left, top, right, bottom in _merge(found)]
    finally:
        if pdf is not None:
            pdf.close()
    return boxes


def _char_boxes(pdf_page, indices: list[int]) -> list[tuple[float, float, float, float]]:
    """(left, top, width, height) of each character as fractions of the displayed page."""
    import pypdfium2.raw as pdfium_c

    width, height = pdf_page.get_size()  # as displayed, after /Rotate
    across = _DEVICE
    down = max(1, round(_DEVICE * height / width))
    textpage = pdf_page.get_textpage()
    x, y = ctypes.c_int(), ctypes.c_int()
    found = []
    for index in indices:
        left, bottom, right, top = textpage.get_charbox(index)
        if right <= left or top <= bottom:
            continue
        corners = []
        for px, py in ((left, bottom), (right, top)):
            pdfium_c.FPDF_PageToDevice(pdf_page, 0, 0, across, down, 0, px, py, x, y)
            corners.append((x.value / across, y.value / down))
        (x0, y0), (x1, y1) = corners
        found.append((min(x0, x1), min(y0, y1), abs(x1 - x0), abs(y1 - y0)))
    return found


def _merge(found: list[tuple[float, float, float, float]]) -> list[list[float]]:
    """Character boxes (fractions, top-left origin) merged along each line: [left, top, right, bottom].

    A line may run down the displayed page (text on a /Rotate 90 page): then it is merged top to bottom.
    """
    pairs = list(zip(found, found[1:]))
    across = sum(abs(b[0] - a[0]) >= abs(b[1] - a[1]) for a, b in pairs) * 2 >= len(pairs)
    if not across:
        found = [(top, left, height, width) for left, top, width, height in found]
    lines: list[list[float]] = []
    for left, top, width, height in found:
        right, bottom = left + width, top + height
        line = lines[-1] if lines else None
        if line and min(bottom, line[3]) - max(top, line[1]) > 0.3 * min(bottom - top, line[3] - line[1]) \
                and min(right, line[2]) - max(left, line[0]) > -0.05:  # same line of text, close by
            line[:] = [min(line[0], left), min(line[1], top), max(line[2], right), max(line[3], bottom)]
        else:
            lines.append([left, top, right, bottom])
    return lines if across else [[top, left, bottom, right] for left, top, right, bottom in lines]


def extract_any(raw: bytes) -> PdfText | str:
    """A PDF's or an image file's reading (the viewer serves both)."""
    return extract_image(raw) if is_image(raw) else extract(raw)


def render_page(raw: bytes, page: int, width: int = RENDER_WIDTH) -> bytes:
    """PNG of a 1-based page, `width` pixels across (an image file is its own single page)."""
    if is_image(raw):
        from PIL import Image

        image = Image.open(io.BytesIO(raw))
        image.thumbnail((width, width * 4))
        return _png(image.convert("RGB"))
    pdf = open_pdf(raw)
    try:
        pdf_page = pdf[page - 1]
        scale = width / pdf_page.get_width()
        return _png(pdf_page.render(scale=scale).to_pil())
    finally:
        pdf.close()


def _png(image) -> bytes:
    """A palette PNG (fast octree quantising, zlib level 6): small enough to send at zoom size, quick to make."""
    from PIL import Image

    buffer = io.BytesIO()
    image.convert("RGB").quantize(PALETTE, method=Image.Quantize.FASTOCTREE).save(buffer, format="PNG", compress_level=6)
    return buffer.getvalue()


def page_view(raw: bytes, start: int, end: int) -> PageView | None:
    """The page holding the start of a span, rendered, with the span's boxes on that page."""
    boxes = span_boxes(raw, start, end)
    if not boxes:
        return None
    page = min(boxes)
    return PageView(page, render_page(raw, page), tuple(boxes[page]))
