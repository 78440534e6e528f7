"""Org mode (.org): headings by their stars, list items, tables as rows, source and example
blocks as code, quote blocks as quotes; `#+TITLE:` as the title. Keywords, comments and
property drawers are settings, not text. Links read as their description, =verbatim= and
~code~ as inline code.

A line-by-line reader (no library: Org's block syntax is line-based and small).
"""

from __future__ import annotations

import re

from .build import CODE_CLOSE, CODE_OPEN, TextBuilder, add_marked, squash, table_rows

_HEADING = re.compile(r"^(\*+)\s+(?:(?:TODO|DONE|NEXT|WAITING|CANCELLED)\s+)?(?:\[#[A-C]\]\s+)?(.*?)(?:\s+:[\w@#%:]+:)?\s*$")
_ITEM = re.compile(r"^(\s*)(?:[-+]|\s\*|\d+[.)])\s+(?:\[[ xX-]\]\s+)?(.*)$")
_BEGIN = re.compile(r"^\s*#\+begin_(\w+)", re.IGNORECASE)
_KEYWORD = re.compile(r"^\s*#\+(\w+):\s*(.*)$")
_LINK = re.compile(r"\[\[([^\]\n]*)\](?:\[([^\]\n]*)\])?\]")
_VERBATIM = re.compile(r"(?<![\w=~])([=~])(\S(?:[^\n]*?\S)?)\1(?![\w=~])")
_EMPHASIS = re.compile(r"(?<![\w*/_+])([*/_+])(\S(?:[^\n*/_+]*?\S)?)\1(?![\w*/_+])")


def extract(text: str) -> tuple[TextBuilder, str] | str:
    """(clean text builder, #+TITLE) of an Org document, or the reason nothing could be read."""
    builder, title = TextBuilder(), ""
    paragraph: list[str] = []
    rows: list[list[str]] = []
    lines = text.splitlines()
    i = 0

    def flush() -> None:
        nonlocal paragraph, rows
        if paragraph:
            add_marked(builder, "paragraph", _inline(" ".join(paragraph)))
        for row in table_rows(rows):
            add_marked(builder, "table", row)
        paragraph, rows = [], []

    while i < len(lines):
        line = lines[i]
        stripped = line.strip()
        begin = _BEGIN.match(line)
        if begin:
            flush()
            kind = begin.group(1).lower()
            end = re.compile(rf"^\s*#\+end_{re.escape(kind)}\b", re.IGNORECASE)
            j = i + 1
            while j < len(lines) and not end.match(lines[j]):
                j += 1
            body = "\n".join(lines[i + 1:j])
            if kind in ("src", "example"):
                builder.add("code", body.strip("\n"))
            elif kind == "quote":
                add_marked(builder, "quote", _inline(squash(body)))
            elif kind not in ("comment",):
                add_marked(builder, "paragraph", _inline(squash(body)))
            i = j + 1
            continue
        keyword = _KEYWORD.match(line)
        heading = _HEADING.match(line)
        if keyword:
            flush()
            if keyword.group(1).lower() == "title":
                title = title or squash(keyword.group(2))
        elif heading and line.startswith("*"):
            flush()
            add_marked(builder, "heading", _inline(heading.group(2)), len(heading.group(1)))
        elif stripped.startswith("#") and (stripped == "#" or stripped.startswith("# ")):
            flush()  # a comment line
        elif stripped == ":PROPERTIES:" or re.fullmatch(r":[A-Z]+:", stripped) and stripped != ":END:":
            flush()
            while i < len(lines) and lines[i].strip() != ":END:":
                i += 1
        elif stripped.startswith("|"):
            if paragraph:
                flush()
            if not re.fullmatch(r"\|[-+|\s]*", stripped):
                rows.append([cell.strip() for cell in stripped.strip("|").split("|")])
        elif not stripped:
            flush()
        elif _ITEM.match(line):
            flush()
            item = [_ITEM.match(line).group(2)]
            indent = len(line) - len(line.lstrip())
            while i + 1 < len(lines) and lines[i + 1].strip() and len(lines[i + 1]) - len(lines[i + 1].lstrip()) > indent \
                    and not _ITEM.match(lines[i + 1]):
                i += 1
                item.append(lines[i].strip())
            add_marked(builder, "list", _inline(" ".join(item)))
        else:
            if rows:
                flush()
            paragraph.append(stripped)
        i += 1
    flush()
    if not builder.blocks:
        return "no readable text in this Org file"
    return builder, title


def _inline(text: str) -> str:
    """Org inline markup as the words a person reads; verbatim and code marked for add_marked."""
    text = _LINK.sub(lambda m: m.group(2) or m.group(1), text)
    text = _VERBATIM.sub(lambda m: f"{CODE_OPEN}{m.group(2)}{CODE_CLOSE}", text)
    return _EMPHASIS.sub(r"\2", text)
