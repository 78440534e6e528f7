"""A PDF page as an image with a cited span drawn on it, from the extractor's own character boxes.

The span's rectangles come from the same reading that produced the clean text (each clean
character remembers the PDF character it came from), so the highlight lands exactly on the
words cited, never on a fuzzy text match. Pages are rendered by PDFium on the server; the
browser loads nothing from other hosts.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from .readers.pdf import _open, extract

RENDER_WIDTH = 900  # pixels across: sharp in a side panel, about 100-250 KB of PNG


@dataclass(frozen=True)
class PageView:
    """One rendered page and the span's rectangles on it, as fractions of the page (0-1, top-left origin)."""

    page: int  # 1-based
    png: bytes
    boxes: tuple[tuple[float, float, float, float], ...]  # (left, top, width, height)


def span_boxes(raw: bytes, start: int, end: int) -> dict[int, list[tuple[float, float, float, float]]]:
    """Rectangles covering clean-text span [start, end), per 1-based page, one per line of text."""
    result = extract(raw)
    if isinstance(result, str):
        return {}
    wanted: dict[int, list[int]] = {}
    for page, index in result.char_map[start:end]:
        if page >= 0:
            wanted.setdefault(page, []).append(index)
    boxes: dict[int, list[tuple[float, float, float, float]]] = {}
    pdf = _open(raw)
    try:
        for page, indices in wanted.items():
            pdf_page = pdf[page]
            width, height = pdf_page.get_size()
            textpage = pdf_page.get_textpage()
            lines: list[list[float]] = []  # [left, bottom, right, top] merged along a line
            for index in indices:
                left, bottom, right, top = textpage.get_charbox(index)
                if right <= left or top <= bottom:
                    continue
                line = lines[-1] if lines else None
                if line and min(top, line[3]) - max(bottom, line[1]) > 0.3 * min(top - bottom, line[3] - line[1]) \
                        and left >= line[0] - 1:  # same line of text, further right
                    line[:] = [min(line[0], left), min(line[1], bottom), max(line[2], right), max(line[3], top)]
                else:
                    lines.append([left, bottom, right, top])
            boxes[page + 1] = [(left / width, 1 - top / height, (right - left) / width, (top - bottom) / height)
                               for left, bottom, right, top in lines]
    finally:
        pdf.close()
    return boxes


def render_page(raw: bytes, page: int, width: int = RENDER_WIDTH) -> bytes:
    """PNG of a 1-based page, `width` pixels across."""
    pdf = _open(raw)
    try:
        pdf_page = pdf[page - 1]
        scale = width / pdf_page.get_width()
        image = pdf_page.render(scale=scale).to_pil()
        buffer = io.BytesIO()
        image.save(buffer, format="PNG", optimize=True)
        return buffer.getvalue()
    finally:
        pdf.close()


def page_view(raw: bytes, start: int, end: int) -> PageView | None:
    """The page holding the start of a span, rendered, with the span's boxes on that page."""
    boxes = span_boxes(raw, start, end)
    if not boxes:
        return None
    page = min(boxes)
    return PageView(page, render_page(raw, page), tuple(boxes[page]))
