"""Image files (.png, .jpg, .tif) as one-page documents read by OCR, cited and highlighted like a scanned PDF."""

from __future__ import annotations

import io

from ...config import MAX_IMAGE_PIXELS
from .pdf import PdfText, layout

IMAGE_MAGIC = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"II*\x00", b"MM\x00*")
POINTS_PER_PIXEL = 72 / 300  # page units for an image without a resolution: as if scanned at 300 dpi


def is_image(raw: bytes) -> bool:
    return raw.startswith(IMAGE_MAGIC)


def extract(raw: bytes) -> PdfText | str:
    """The image's OCR'd text as a one-page document, or the reason it cannot be read."""
    if not raw.strip():
        return "empty file"
    from PIL import Image

    from .ocr import engine, ocr_image

    if engine() is None:
        return "no OCR engine installed (tesseract-ocr) to read an image"
    Image.MAX_IMAGE_PIXELS = MAX_IMAGE_PIXELS
    try:
        image = Image.open(io.BytesIO(raw))
        image.seek(0)  # a multi-page TIFF: its first page
        image.load()
    except Exception as exc:  # Pillow raises many types for damaged or hostile files
        return f"unreadable image: {str(exc).strip().rstrip('.') or exc.__class__.__name__}"
    width, height = image.width * POINTS_PER_PIXEL, image.height * POINTS_PER_PIXEL
    lines, boxes = ocr_image(image, 0, width, height)
    if not lines:
        return "no text found in the image"
    result = layout([lines])
    result.ocr_boxes, result.ocr_pages = {0: boxes}, 1
    return result
