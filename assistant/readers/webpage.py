"""HTML: the page's main content only, with <h1>-<h6> as sections and <title> as the title.

trafilatura (Apache-2.0) finds the main content and drops navigation, scripts, styles,
forms, sidebars and footers; its XML output keeps headings, lists, tables, code and quotes,
which become blocks here.
"""

from __future__ import annotations

import re

from .build import TextBuilder, squash, table_rows, usable_title

_TITLE = re.compile(r"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)


def extract(raw: bytes) -> tuple[TextBuilder, str] | str:
    """(clean text builder, title) of an HTML page, or the reason nothing could be read.

    The bytes go to trafilatura undecoded so that the page's own charset declaration counts.
    """
    import trafilatura
    from lxml import etree

    try:
        xml = trafilatura.extract(raw, output_format="xml", include_formatting=True, include_tables=True,
                                  include_links=False, include_comments=False, include_images=False,
                                  favor_recall=True, with_metadata=True)
    except Exception as exc:  # malformed markup that even lxml's recovering parser gives up on
        return f"unreadable HTML ({exc.__class__.__name__})"
    if not xml:
        return "no readable text in this HTML page"
    root = etree.fromstring(xml.encode("utf-8"), etree.XMLParser(resolve_entities=False, no_network=True))
    builder = TextBuilder()
    main = root.find("main")
    for element in (main if main is not None else root):
        _add(builder, element)
    if not builder.blocks:
        return "no readable text in this HTML page"
    return builder, _title(raw, root, builder)


def _add(builder: TextBuilder, element) -> None:
    tag = element.tag
    if tag == "head":
        rend = element.get("rend") or "h2"
        level = int(rend[1]) if re.fullmatch(r"h[1-6]", rend) else 2
        builder.add("heading", squash("".join(element.itertext())), level)
    elif tag == "list":
        for item in element.iter("item"):  # nested lists too, each item once
            builder.add("list", squash(_own_text(item)))
    elif tag == "table":
        rows = [["".join(cell.itertext()) for cell in row.iter("cell")] for row in element.iter("row")]
        for line in table_rows(rows):
            builder.add("table", line)
    elif tag == "code":
        builder.add("code", "".join(element.itertext()).strip("\n"))
    elif tag == "quote":
        builder.add("quote", squash("".join(element.itertext())))
    elif tag in ("p", "div", "item"):
        builder.add("paragraph", squash("".join(element.itertext())))
    elif len(element):
        for child in element:
            _add(builder, child)


def _own_text(item) -> str:
    """An item's words without those of a list nested in it (its items come on their own)."""
    parts = [item.text or ""]
    for child in item:
        if child.tag not in ("list", "ul", "ol"):
            parts.append("".join(t for t in child.itertext() if isinstance(t, str)))
        parts.append(child.tail or "")
    return "".join(parts)


def _title(raw: bytes, root, builder: TextBuilder) -> str:
    """trafilatura's title (from <title>, cleaned of the site name), else <title>, else the first heading."""
    found = usable_title(root.get("title"))
    if found:
        return found
    match = _TITLE.search(raw[:200_000].decode("utf-8", "replace"))
    if match:
        import html as html_lib

        found = usable_title(html_lib.unescape(re.sub(r"<[^>]+>", "", match.group(1))))
        if found:
            return found
    text = builder.text()
    return next((squash(text[b.start:b.end]) for b in builder.blocks if b.kind == "heading"), "")


# --- HTML that is all content ---------------------------------------------------------------------

_SKIP = frozenset({"script", "style", "head", "nav", "noscript", "template", "svg", "math", "button", "form"})
_HEADINGS = {f"h{n}": n for n in range(1, 7)}
_BLOCKS = frozenset({"p", "div", "section", "article", "main", "body", "header", "footer", "aside", "figure",
                     "figcaption", "dl", "dt", "dd", "address", "center", "hr", "br", "caption", "details", "summary",
                     *_HEADINGS, "ul", "ol", "table", "pre", "blockquote"})


def extract_body(raw: bytes) -> tuple[TextBuilder, str] | str:
    """(clean text builder, <title>) of HTML whose whole body is content: an e-book chapter or an
    e-mail body, where a main-content finder would drop short chapters or run them together.
    Headings, paragraphs, list items, tables, code and quotes become blocks; scripts and styles go."""
    import lxml.html

    try:
        root = lxml.html.document_fromstring(raw)
    except Exception as exc:  # noqa: BLE001 - empty or unparseable markup
        return f"unreadable HTML ({exc.__class__.__name__})"
    title = usable_title(squash(root.findtext(".//title") or ""))
    builder = TextBuilder()
    body = root.find("body")
    _walk_body(builder, body if body is not None else root)
    if not builder.blocks:
        return "no readable text in this HTML"
    return builder, title


def _walk_body(builder: TextBuilder, element) -> None:
    inline: list[str] = [element.text or ""]
    for child in element:
        tag = child.tag if isinstance(child.tag, str) else ""
        if tag in _SKIP or not tag:
            inline.append(child.tail or "")
            continue
        if tag not in _BLOCKS:
            inline += [child.text_content(), child.tail or ""]
            continue
        builder.add("paragraph", squash("".join(inline)))
        if tag in _HEADINGS:
            builder.add("heading", squash(child.text_content()), _HEADINGS[tag])
        elif tag in ("ul", "ol"):
            for item in child.iter("li"):
                builder.add("list", squash(_own_text(item)))
        elif tag == "table":
            rows = [[cell.text_content() for cell in row if cell.tag in ("td", "th")] for row in child.iter("tr")]
            for line in table_rows(rows):
                builder.add("table", line)
        elif tag == "pre":
            builder.add("code", child.text_content().strip("\n"))
        elif tag == "blockquote":
            builder.add("quote", squash(child.text_content()))
        else:
            _walk_body(builder, child)
        inline = [child.tail or ""]
    builder.add("paragraph", squash("".join(inline)))
