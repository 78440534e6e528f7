"""Format readers: each turns a file's bytes into a `Document` of clean text and blocks.

Plain text is decoded as it is (the chunker reads its structure); Markdown is decoded and
parsed by markdown-it-py, reStructuredText by docutils; PDF, Word and HTML go through a
maintained extraction library each. A reader never raises for a bad file: it returns the
reason, and the file is skipped with it.
"""

from __future__ import annotations

from .build import TextBuilder

PDF_SUFFIXES = frozenset({".pdf"})
WORD_SUFFIXES = frozenset({".docx"})
HTML_SUFFIXES = frozenset({".html", ".htm", ".xhtml"})
MARKDOWN_SUFFIXES = frozenset({".md", ".markdown"})
RST_SUFFIXES = frozenset({".rst", ".rest"})
TEXT_SUFFIXES = frozenset({".txt", ".text"})
IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".tif", ".tiff"})  # read by OCR (readers/image.py)
SUFFIXES = IMAGE_SUFFIXES | PDF_SUFFIXES | WORD_SUFFIXES | HTML_SUFFIXES | MARKDOWN_SUFFIXES | RST_SUFFIXES | TEXT_SUFFIXES
DECODED = frozenset({"markdown", "rst"})  # formats read from decoded text rather than bytes


def format_of(suffix: str) -> str | None:
    """"pdf", "docx", "html", "markdown", "rst" or "text" for a file suffix; None for formats not read."""
    suffix = suffix.lower()
    for name, suffixes in (("image", IMAGE_SUFFIXES), ("pdf", PDF_SUFFIXES), ("docx", WORD_SUFFIXES), ("html", HTML_SUFFIXES),
                           ("markdown", MARKDOWN_SUFFIXES), ("rst", RST_SUFFIXES), ("text", TEXT_SUFFIXES)):
        if suffix in suffixes:
            return name
    return None


def extract_structured(kind: str, raw: bytes | str) -> tuple[TextBuilder, str] | str:
    """(builder, title) for a PDF, Word, HTML, Markdown or reStructuredText file, or the reason it cannot be read.

    Markdown and reStructuredText come as decoded text (see DECODED); the other formats as the file's bytes.
    """
    if kind == "markdown":
        from .markdown import extract as extract_markdown

        return extract_markdown(raw)
    if kind in ("pdf", "image"):
        from .image import extract as extract_image
        from .pdf import extract

        result = (extract if kind == "pdf" else extract_image)(raw)
        return result if isinstance(result, str) else (result.builder, result.title)
    if kind == "docx":
        from .word import extract as extract_word

        return extract_word(raw)
    if kind == "html":
        from .webpage import extract as extract_html

        return extract_html(raw)
    if kind == "rst":
        from .rst import extract as extract_rst

        return extract_rst(raw)
    raise ValueError(kind)
