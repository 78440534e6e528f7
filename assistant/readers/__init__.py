"""Format readers: each turns a file's bytes into a `Document` of clean text and blocks.

Plain text and Markdown are decoded as they are (the chunker reads their structure); PDF,
Word, HTML and reStructuredText go through a maintained extraction library each. A reader
never raises for a bad file: it returns the reason, and the file is skipped with it.
"""

from __future__ import annotations

from .build import TextBuilder

PDF_SUFFIXES = frozenset({".pdf"})
WORD_SUFFIXES = frozenset({".docx"})
HTML_SUFFIXES = frozenset({".html", ".htm", ".xhtml"})
RST_SUFFIXES = frozenset({".rst", ".rest"})
TEXT_SUFFIXES = frozenset({".txt", ".text", ".md", ".markdown"})
SUFFIXES = PDF_SUFFIXES | WORD_SUFFIXES | HTML_SUFFIXES | RST_SUFFIXES | TEXT_SUFFIXES


def format_of(suffix: str) -> str | None:
    """"pdf", "docx", "html", "rst" or "text" for a file suffix; None for formats not read."""
    suffix = suffix.lower()
    for name, suffixes in (("pdf", PDF_SUFFIXES), ("docx", WORD_SUFFIXES), ("html", HTML_SUFFIXES),
                           ("rst", RST_SUFFIXES), ("text", TEXT_SUFFIXES)):
        if suffix in suffixes:
            return name
    return None


def extract_structured(kind: str, raw: bytes) -> tuple[TextBuilder, str] | str:
    """(builder, title) for a PDF, Word, HTML or reStructuredText file, or the reason it cannot be read."""
    if kind == "pdf":
        from .pdf import extract

        result = extract(raw)
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
