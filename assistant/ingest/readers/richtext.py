"""Rich Text Format (.rtf): the text without control words, a paragraph per line, the title
from the \\info group.

striprtf (BSD-3-Clause) removes the markup; the code page comes from \\ansicpgN.
"""

from __future__ import annotations

import codecs
import re

from .build import TextBuilder, squash, usable_title

_CODEPAGE = re.compile(rb"\\ansicpg(\d{3,5})")
_TITLE = re.compile(rb"\{\\title\s+([^{}]{1,400})\}")


def extract(raw: bytes) -> tuple[TextBuilder, str] | str:
    """(clean text builder, title) of an .rtf file, or the reason it cannot be read."""
    if not raw.lstrip().startswith(b"{\\rtf"):
        return "unreadable RTF file (it does not start with {\\rtf)"
    from striprtf.striprtf import rtf_to_text

    head = raw[:4096]
    match = _CODEPAGE.search(head)
    encoding = f"cp{match.group(1).decode()}" if match else "cp1252"
    try:
        codecs.lookup(encoding)
    except LookupError:
        encoding = "cp1252"
    try:
        text = rtf_to_text(raw.decode("latin-1"), encoding=encoding, errors="replace")
    except Exception as exc:  # noqa: BLE001 - striprtf on a damaged group structure
        return f"unreadable RTF file ({exc.__class__.__name__})"
    builder = TextBuilder()
    for line in text.splitlines():
        if "|" in line and line.strip().endswith("|"):  # striprtf ends each table cell with " |"
            builder.add("table", squash(line.replace("|", " | ")).strip(" |"))
        else:
            builder.add("paragraph", squash(line))
    found = _TITLE.search(raw[:65536])
    title = usable_title(rtf_to_text("{\\rtf1 " + found.group(1).decode("latin-1") + "}", encoding=encoding,
                                     errors="replace")) if found else ""
    return builder, title
