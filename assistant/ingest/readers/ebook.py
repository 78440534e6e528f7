"""E-books (.epub): the chapters in the spine's order (the reading order the OPF package file
gives), each read by the HTML reader (as all content: webpage.extract_body); the book's title from its metadata.

The standard library's zipfile opens the book after `zip_problem` checked it; lxml parses the
container and package files without entities or network.
"""

from __future__ import annotations

import io
import posixpath
import zipfile
from urllib.parse import unquote

from ...config import MAX_CHAPTERS
from .archive import zip_problem
from .build import TextBuilder, add_built, usable_title

_HTML_TYPES = ("application/xhtml+xml", "text/html")
_OPF = "{http://www.idpf.org/2007/opf}"
_DC = "{http://purl.org/dc/elements/1.1/}"


def extract(raw: bytes) -> tuple[TextBuilder, str] | str:
    """(clean text builder, title) of an .epub file, or the reason it cannot be read."""
    problem = zip_problem(raw, "EPUB")
    if problem:
        return problem
    from lxml import etree

    from .webpage import extract_body

    parser = etree.XMLParser(resolve_entities=False, no_network=True, recover=True)
    try:
        with zipfile.ZipFile(io.BytesIO(raw)) as book:
            container = etree.fromstring(book.read("META-INF/container.xml"), parser)
            rootfile = next(e.get("full-path") for e in container.iter() if str(e.tag).endswith("rootfile"))
            package = etree.fromstring(book.read(rootfile), parser)
            folder = posixpath.dirname(rootfile)
            items = {item.get("id"): item for item in package.iter(f"{_OPF}item")}
            spine = [items.get(ref.get("idref")) for ref in package.iter(f"{_OPF}itemref")]
            chapters = [posixpath.normpath(posixpath.join(folder, unquote(item.get("href") or "")))
                        for item in spine if item is not None and item.get("media-type") in _HTML_TYPES]
            names = set(book.namelist())
            builder = TextBuilder()
            for name in chapters[:MAX_CHAPTERS]:
                if name in names:
                    read = extract_body(book.read(name))
                    if not isinstance(read, str):
                        add_built(builder, read[0])
    except Exception as exc:  # no container, no package file, damaged XML or zip
        return f"unreadable EPUB file ({str(exc)[:120] or exc.__class__.__name__})"
    found = package.find(f".//{_DC}title")
    return builder, usable_title(found.text if found is not None else "")
