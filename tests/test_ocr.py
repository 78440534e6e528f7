"""OCR: pages with no text layer and image files are read, cited by page and highlighted (issue 20)."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from pdf_make import image_only_pdf, make_pdf

from assistant.ingest.indexer import build_index
from assistant.ingest.pdfview import render_page, span_boxes
from assistant.ingest.readers import format_of
from assistant.ingest.readers.ocr import OCR_MAX_PAGES, engine
from assistant.ingest.readers.pdf import extract

REAL = Path(__file__).parent / "data" / "real" / "pdf"
pytestmark = pytest.mark.skipif(engine() is None, reason="no OCR engine (make run installs tesseract-ocr)")

FACT = ["The night ferry to Hollin Island", "leaves the harbour at eleven", "o'clock on Fridays in summer."]


def _mixed_pdf() -> bytes:
    """Page 1 with a text layer, page 2 a scan of printed text (no text layer)."""
    import pypdfium2 as pdfium

    first = make_pdf([(72, 700, 18, "Harbour Notices"), (72, 660, 12, "The harbour office opens at nine every weekday.")])
    scan = image_only_pdf(make_pdf([(72, 700 - 20 * n, 14, line) for n, line in enumerate(FACT)]), dpi=200)
    pdf = pdfium.PdfDocument(first)
    pdf.import_pages(pdfium.PdfDocument(scan))
    buffer = io.BytesIO()
    pdf.save(buffer)
    return buffer.getvalue()


def test_a_real_scanned_pdf_is_read():
    result = extract((REAL / "testOCR.pdf").read_bytes())
    assert "Happy New Year 2003" in result.builder.text() and result.ocr_pages == 1


def test_only_pages_without_text_are_ocrd_and_the_scan_answers_with_page_and_boxes(tmp_path, embedder):
    from PIL import Image

    from assistant import Assistant

    raw = _mixed_pdf()
    result = extract(raw)
    assert result.ocr_pages == 1 and 1 in result.ocr_boxes and 0 not in result.ocr_boxes
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "notices.pdf").write_bytes(raw)
    build_index(corpus, tmp_path / "index", embedder=embedder)
    bot = Assistant.open(tmp_path / "index", embedder=embedder)
    reply = bot.ask("When does the night ferry to Hollin Island leave?", k=3)
    hit = reply.passages[0]
    assert hit.source == "notices.pdf" and hit.page == 2 and "eleven" in hit.text
    start = hit.start + hit.text.index("eleven")
    boxes = span_boxes(raw, start, start + len("eleven"))
    assert list(boxes) == [2] and len(boxes[2]) == 1
    left, top, width, height = boxes[2][0]
    image = Image.open(io.BytesIO(render_page(raw, 2, 900))).convert("L")
    w, h = image.size
    crop = image.crop((int(left * w), int(top * h), int((left + width) * w), int((top + height) * h)))
    assert crop.width > 20 and crop.getextrema()[0] < 100  # the box sits on the printed word


def test_image_files_are_documents(tmp_path):
    import pypdfium2 as pdfium

    page = pdfium.PdfDocument(make_pdf([(72, 700, 16, "Tide tables are posted at the harbour office.")]))[0]
    buffer = io.BytesIO()
    page.render(scale=200 / 72).to_pil().save(buffer, format="PNG")
    assert format_of(".PNG") == "image" and format_of(".tiff") == "image"
    from assistant.ingest.readers.image import extract as extract_image

    result = extract_image(buffer.getvalue())
    assert "Tide tables are posted" in result.builder.text() and result.ocr_boxes[0]
    assert extract_image(b"\x89PNG\r\n\x1a\nbroken").startswith("unreadable image")


def test_ocr_is_bounded_per_file(monkeypatch):
    import pypdfium2 as pdfium

    from assistant.ingest.readers import ocr

    scan = pdfium.PdfDocument(image_only_pdf(make_pdf([(72, 700, 14, "First scanned page.")])))
    scan.import_pages(pdfium.PdfDocument(image_only_pdf(make_pdf([(72, 700, 14, "Second scanned page.")]))))
    buffer = io.BytesIO()
    scan.save(buffer)
    monkeypatch.setattr(ocr, "OCR_MAX_PAGES", 1)
    result = extract(buffer.getvalue())
    assert result.ocr_pages == 1 and "First" in result.builder.text() and "Second" not in result.builder.text()
    assert 1 <= OCR_MAX_PAGES <= 50
