"""Markdown: parsed by markdown-it-py (CommonMark plus tables) into clean text and blocks.

Headings become sections, list items, table rows, code blocks and block quotes become blocks
of their kind, and inline markup (backticks, emphasis, link syntax, HTML comments and tags)
becomes the words a person reads. Front matter gives the title and is not content; template
shortcodes of static-site generators (`{{% note %}}`, `{{< relref "x" >}}`) are not either.
"""

from __future__ import annotations

import re

from ...text import front_matter, front_matter_title
from .build import CODE_CLOSE, CODE_OPEN, TextBuilder, add_marked, squash, table_rows

# Hugo shortcodes (`{{% note %}}`, `{{< relref "page" >}}`): instructions to a site generator,
# removed before parsing so that a link whose target is one still reads as a link.
# A scan stops at the next opener, so each character is looked at by one opener only (linear; a
# scan to the end of the line from every "{{<" of a long line was quadratic).
_SHORTCODE = re.compile(r"\{\{<(?:(?!\{\{[<%])[^\n])*?>\}\}|\{\{%(?:(?!\{\{[<%])[^\n])*?%\}\}")
# A tag ends at the next "<" as well as at ">": from every "<" of `<div <<<<...` a scan to the end of
# the line was quadratic.
_TAG = re.compile(r"<(script|style)\b.*?(?:</\1\s*>|\Z)|<!--.*?(?:-->|\Z)|<[^<>\n]*>", re.DOTALL | re.IGNORECASE)
_HIDDEN_OPEN = re.compile(r"<(script|style)\b", re.IGNORECASE)  # inline: words up to its closing tag are not text
# Admonition openers: MkDocs "!!! note" and GitHub "[!NOTE]" say what kind of aside follows.
_ADMONITION = re.compile(r"^(?:!!!|\?\?\?\+?)[ \t]+(\w+)(?:[ \t]+\"([^\"\n]*)\")?[ \t]*|^\[!(\w+)\][ \t]*", re.MULTILINE)


def _parser():
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark", {"html": True}).enable("table")


def extract(text: str) -> tuple[TextBuilder, str] | str:
    """(clean text builder, title) of a Markdown document, or the reason nothing could be read."""
    meta = front_matter(text)
    tokens = _parser().parse(_SHORTCODE.sub("", text[len(meta):]))
    builder = TextBuilder()
    _Walker(builder).walk(tokens)
    if not builder.blocks:
        return "no readable text in this Markdown file"
    return builder, _title(meta, builder)


class _Walker:
    """One pass over markdown-it's token stream, tracking lists, quotes and tables."""

    def __init__(self, builder: TextBuilder) -> None:
        self.builder = builder
        self.lists: list[str] = []  # open list items' markers ("" for a bullet, "3." numbered)
        self.quotes = 0
        self.rows: list[list[str]] | None = None  # the open table's rows
        self.heading = ""  # the open heading's tag ("h2"), whose inline run is its name

    def walk(self, tokens) -> None:
        for token in tokens:
            kind = token.type
            if kind == "heading_open":
                self.heading = token.tag
            elif kind == "list_item_open":
                self.lists.append(f"{token.info}{token.markup} " if token.info else "")
            elif kind == "list_item_close":
                self.lists.pop()
            elif kind == "blockquote_open":
                self.quotes += 1
            elif kind == "blockquote_close":
                self.quotes -= 1
            elif kind == "table_open":
                self.rows = []
            elif kind == "tr_open" and self.rows is not None:
                self.rows.append([])
            elif kind == "table_close":
                for line in table_rows(self.rows or []):
                    add_marked(self.builder, "table", line)
                self.rows = None
            elif kind == "inline":
                self._inline(token)
            elif kind in ("fence", "code_block"):
                self.builder.add("code", token.content.strip("\n"))
            elif kind == "html_block":
                self._paragraph(squash(_TAG.sub(" ", token.content)))

    def _inline(self, token) -> None:
        words = inline_text(token.children or [])
        if self.rows is not None:
            if self.rows:
                self.rows[-1].append(words)
            return
        if self.heading:
            add_marked(self.builder, "heading", squash(words), int(self.heading[1]))
            self.heading = ""
            return
        self._paragraph(words)

    def _paragraph(self, words: str) -> None:
        words = _admonition(squash(words))
        if not words:
            return
        if self.lists:
            marker = self.lists[-1]
            self.lists[-1] = ""  # a second paragraph of the same item is not numbered again
            add_marked(self.builder, "list", marker + words)
        else:
            add_marked(self.builder, "quote" if self.quotes else "paragraph", words)


def inline_text(children) -> str:
    """What an inline run reads as: code without backticks, links as their words, no tags."""
    parts: list[str] = []
    hidden = ""  # the tag (script, style) whose closing tag ends a run of hidden words
    for child in children:
        kind = child.type
        if hidden:
            if kind == "html_inline" and child.content.lower().startswith(f"</{hidden}"):
                hidden = ""
            continue
        opening = _HIDDEN_OPEN.match(child.content) if kind == "html_inline" else None
        if opening:
            hidden = opening.group(1).lower()
        elif kind == "text":
            parts.append(child.content.replace(CODE_OPEN, "").replace(CODE_CLOSE, ""))
        elif kind == "code_inline":
            parts.append(f"{CODE_OPEN}{child.content.replace(CODE_OPEN, '').replace(CODE_CLOSE, '')}{CODE_CLOSE}")
        elif kind in ("softbreak", "hardbreak"):
            parts.append("\n" if kind == "hardbreak" else " ")
        elif kind == "image":
            parts.append(inline_text(child.children or []))
        elif kind == "html_inline" and re.fullmatch(r"<br\s*/?>", child.content, re.IGNORECASE):
            parts.append(" ")
    return "".join(parts)


def _admonition(words: str) -> str:
    """ "!!! note "Title" text" or "[!WARNING] text" as "Note: Title. text" (how a person reads it)."""
    match = _ADMONITION.match(words)
    if not match:
        return words
    name = (match.group(1) or match.group(3)).capitalize()
    title = match.group(2)
    rest = words[match.end():]
    return f"{name}: {title}. {rest}".strip() if title else f"{name}: {rest}".strip()


def _title(meta: str, builder: TextBuilder) -> str:
    """Front matter `title:`, else the first heading when it is the document's first block."""
    named = front_matter_title(meta)
    if named:
        return squash(named)
    first = builder.blocks[0]
    if first.kind == "heading":
        return squash(builder.text()[first.start:first.end])
    return ""
