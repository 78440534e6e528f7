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
        if child.tag != "list":
            parts.append("".join(child.itertext()))
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
