"""OCR for pages with no text layer (scans) and for image files, with a box for every word.

Tesseract (Debian `tesseract-ocr`, Apache-2.0) is run as a program with TSV output: one
thread, a few seconds a page at 300 dpi, under 300 MB in its own process, and a box for every
word to highlight a cited span on the page image. RapidOCR (PyPI, PP-OCR ONNX models) was
measured too and not taken: as accurate on clean pages but several times slower, lines rather
than words, and over 1 GB inside the reader process, past the reader worker's address-space
limit (BENCHMARKS.md, "PDFs as printed"). Work is bounded per file: at most OCR_MAX_PAGES pages
and OCR_SECONDS seconds; pages past either limit stay unread.
"""

from __future__ import annotations

import csv
import io
import os
import shutil
import subprocess
import tempfile
import time

from ...config import MAX_PIXELS, OCR_MAX_PAGES, OCR_SECONDS
from .pdf_layout import Line

OCR_DPI = 300  # rendering for OCR: Tesseract is trained on text about 20-30 px high
MIN_CONFIDENCE = 30.0  # Tesseract words below this confidence are noise (specks, picture edges)

Boxes = list[tuple[float, float, float, float]]  # per OCR'd character: (left, top, width, height), page fractions


def engine() -> str | None:
    """"tesseract", or None when it is not installed (`make run` installs it; scans are then skipped)."""
    return "tesseract" if shutil.which("tesseract") else None


def ocr_pages(pdf, pages: list[int]) -> dict[int, tuple[list[Line], Boxes]]:
    """Lines and character boxes of the given 0-based pages of an open PDF, within the per-file budget."""
    found: dict[int, tuple[list[Line], Boxes]] = {}
    if engine() is None:
        return found
    deadline = time.monotonic() + OCR_SECONDS
    for p in pages[:OCR_MAX_PAGES]:
        if time.monotonic() > deadline:
            break
        page = pdf[p]
        width, height = page.get_size()
        image = page.render(scale=OCR_DPI / 72).to_pil()
        result = ocr_image(image, p, width, height, deadline - time.monotonic())
        if result[0]:
            found[p] = result
    return found


def ocr_image(image, page: int, width: float, height: float, seconds: float = OCR_SECONDS) -> tuple[list[Line], Boxes]:
    """A page image's lines (geometry in `width` x `height` page units, y up) and a box per character."""
    if image.width * image.height > MAX_PIXELS:
        factor = (MAX_PIXELS / (image.width * image.height)) ** 0.5
        image = image.resize((max(1, int(image.width * factor)), max(1, int(image.height * factor))))
    image = image.convert("L")
    words = _tesseract(image, seconds)
    return _lines(words, page, image.width, image.height, width, height)


def _tesseract(image, seconds: float) -> list[tuple[tuple[int, int, int], str, int, int, int, int]]:
    """Words as ((block, paragraph, line), text, left, top, width, height) in pixels."""
    with tempfile.TemporaryDirectory(prefix="assistant-ocr-") as folder:
        path = os.path.join(folder, "page.png")
        image.save(path)
        try:
            done = subprocess.run(["tesseract", path, "stdout", "--psm", "3", "-l", "eng", "tsv"],
                                  capture_output=True, timeout=max(seconds, 1.0),
                                  env={**os.environ, "OMP_THREAD_LIMIT": "1"}, check=False)
        except (subprocess.TimeoutExpired, OSError):
            return []
    words = []
    for row in csv.DictReader(io.StringIO(done.stdout.decode("utf-8", "replace")), delimiter="\t", quoting=csv.QUOTE_NONE):
        text = (row.get("text") or "").strip()
        try:
            confidence = float(row.get("conf") or -1)
            key = (int(row["block_num"]), int(row["par_num"]), int(row["line_num"]))
            box = int(row["left"]), int(row["top"]), int(row["width"]), int(row["height"])
        except (KeyError, ValueError):
            continue
        if text and confidence >= MIN_CONFIDENCE:
            words.append((key, text, *box))
    return words


def _lines(words, page: int, pixels_wide: int, pixels_high: int, width: float, height: float) -> tuple[list[Line], Boxes]:
    """Words grouped by their OCR line; each character gets an index into the page's box list."""
    boxes: Boxes = []
    lines: list[Line] = []
    sx, sy = width / pixels_wide, height / pixels_high
    for key in dict.fromkeys(w[0] for w in words):
        members = [w for w in words if w[0] == key]
        text, indices = [], []
        for n, (_, word, left, top, w, h) in enumerate(members):
            if n:
                text.append(" ")
                indices.append(-1)
            for k, ch in enumerate(word):
                indices.append(len(boxes))
                boxes.append(((left + w * k / len(word)) / pixels_wide, top / pixels_high,
                              w / len(word) / pixels_wide, h / pixels_high))
                text.append(ch)
        left = min(m[2] for m in members)
        right = max(m[2] + m[4] for m in members)
        top = min(m[3] for m in members)
        bottom = max(m[3] + m[5] for m in members)
        heights = sorted(m[5] for m in members)
        lines.append(Line(page=page, text="".join(text), indices=indices, size=round(heights[len(heights) // 2] * sy, 0),
                          bold=False, top=height - top * sy, bottom=height - bottom * sy, left=left * sx, right=right * sx,
                          column=key[0] * 1000 + key[1], ocr=True))
    for line in lines:  # a block's extent is its column's, for the short-last-line rule
        same = [other for other in lines if other.column == line.column]
        line.column_left, line.column_right = min(o.left for o in same), max(o.right for o in same)
    return lines, boxes
