"""Format readers: each turns a file's bytes into a `Document` of clean text and blocks.

`FORMATS` is the one table of what is read: a format's name, its suffixes, the module of this
package whose `extract` reads it, and whether that takes decoded text or the file's bytes. A new
format is one new module and one line here; `SUFFIXES`, `format_of` and `extract_structured`
(and so the folder walk, uploads, the web picker and the chunk fingerprint) follow from it.
Reader modules are imported only when a file of theirs is read, so the command line starts fast.

Plain text is decoded as it is (the chunker reads its structure). A reader never raises for a
bad file: it returns the reason, and the file is skipped with it.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass

from .build import TextBuilder


@dataclass(frozen=True)
class Format:
    """One format the assistant reads."""

    name: str  # Document.format, and the word skip reasons use
    suffixes: tuple[str, ...]  # lower case, with the dot
    # The module of this package that reads it, and its function if not `extract` ("sheets:extract_xls").
    module: str
    decoded: bool = False  # extract() gets the decoded text (reader.decode) rather than the bytes
    named: bool = False  # extract() also gets the file's name (plain text: a title from the name is not content)


FORMATS: tuple[Format, ...] = (
    Format("pdf", (".pdf",), "pdf"),
    Format("image", (".png", ".jpg", ".jpeg", ".tif", ".tiff"), "image"),  # read by OCR, one page each
    Format("docx", (".docx",), "word"),
    Format("html", (".html", ".htm", ".xhtml"), "webpage"),
    Format("markdown", (".md", ".markdown"), "markdown", decoded=True),
    Format("rst", (".rst", ".rest"), "rst", decoded=True),
    Format("text", (".txt", ".text"), "text", decoded=True, named=True),
    Format("pptx", (".pptx",), "slides"),
    Format("xlsx", (".xlsx", ".xlsm"), "sheets"),
    Format("xls", (".xls",), "sheets:extract_xls"),
    Format("csv", (".csv",), "delimited", decoded=True),
    Format("tsv", (".tsv", ".tab"), "delimited:extract_tsv", decoded=True),
    Format("eml", (".eml",), "mail"),
    Format("mbox", (".mbox",), "mail:extract_mbox"),
    Format("odf", (".odt", ".ods", ".odp"), "opendocument"),
    Format("epub", (".epub",), "ebook"),
    Format("rtf", (".rtf",), "richtext"),
    Format("org", (".org",), "org", decoded=True),
    Format("doc", (".doc",), "legacy:extract_doc"),
    Format("ppt", (".ppt", ".pps"), "legacy:extract_ppt"),
    Format("msg", (".msg",), "outlook"),
)

_BY_SUFFIX = {suffix: fmt for fmt in FORMATS for suffix in fmt.suffixes}
_BY_NAME = {fmt.name: fmt for fmt in FORMATS}
SUFFIXES = frozenset(_BY_SUFFIX)
DECODED = frozenset(fmt.name for fmt in FORMATS if fmt.decoded)  # formats read from decoded text rather than bytes


def format_of(suffix: str) -> str | None:
    """The format name for a file suffix ("pdf", "docx", "text", ...); None for formats not read."""
    fmt = _BY_SUFFIX.get(suffix.lower())
    return fmt.name if fmt else None


def reader_modules() -> tuple[str, ...]:
    """Full names of the reader modules the table imports by name (the fingerprint hashes them:
    no import statement shows them)."""
    return tuple(sorted({f"{__name__}.{fmt.module.partition(':')[0]}" for fmt in FORMATS}))


def extract_structured(kind: str, raw: bytes | str, source: str = "") -> tuple[TextBuilder, str] | str:
    """(builder, title) for a file of a registered format, or the reason it cannot be read.

    Formats marked `decoded` come as decoded text; the others as the file's bytes. Formats
    marked `named` also get `source`, the file's name in the corpus.
    """
    fmt = _BY_NAME.get(kind)
    if fmt is None:
        raise ValueError(kind)
    if not raw:
        return "empty file"
    module, _, function = fmt.module.partition(":")
    read = getattr(importlib.import_module(f"{__name__}.{module}"), function or "extract")
    result = read(raw, source) if fmt.named else read(raw)
    if isinstance(result, str | tuple):
        return result
    return result.builder, result.title  # the PDF reader returns its pages' boxes as well
