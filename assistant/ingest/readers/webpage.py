"""HTML: the page's main content only, with <h1>-<h6> as sections and the article's own title.

trafilatura (Apache-2.0) finds the main content and drops scripts, styles, forms, sidebars and
footers; its XML output keeps headings, lists, tables, code and quotes, which become blocks here.
Before it runs, the page's landmarks that are never content (navigation, the site's banner and
footer, asides) are pruned. It runs favouring recall, but its whole-page rescue (which flattens a
short page into one line with its menus) only for pages where it finds under 50 characters:
favouring precision instead scored as well on news articles but dropped list items holding inline
code on real documentation pages (benchmarks/html_extraction.py, BENCHMARKS.md).
"""

from __future__ import annotations

import functools
import re

from .build import TextBuilder, squash, table_rows, usable_title

# Landmarks that hold the site's chrome, not the page's content (ARIA: a <header>/<footer> is the
# page's banner/contentinfo only when it is not inside an article, aside, main, nav or section). A
# <header> holding an <h1> is the article's own header (its title), whatever wraps it.
_OUTSIDE_CONTENT = "not(ancestor::article or ancestor::main or ancestor::section or ancestor::aside)"
_CHROME = ("//nav | //aside | //*[@role='navigation' or @role='banner' or @role='contentinfo']"
           f" | //header[{_OUTSIDE_CONTENT} and not(.//h1)] | //footer[{_OUTSIDE_CONTENT}]")
# Separators between an article's title and the site's name in <title>: "Timetable | Ouse Ferry".
_SITE_SEPARATOR = re.compile(r"\s+[|\u2013\u2014\u00b7\u2022:/-]{1,2}\s+")


def extract(raw: bytes) -> tuple[TextBuilder, str] | str:
    """(clean text builder, title) of an HTML page, or the reason nothing could be read.

    The bytes go to trafilatura's loader undecoded so that the page's own charset declaration counts.
    """
    import trafilatura
    from lxml import etree

    try:
        tree = trafilatura.load_html(raw)
        if tree is None:
            return "no readable text in this HTML page"
        titles = _page_titles(tree)
        _prune_chrome(tree)
        xml = trafilatura.extract(tree, output_format="xml", include_formatting=True, include_tables=True,
                                  include_links=False, include_comments=False, include_images=False,
                                  favor_recall=True, with_metadata=True, config=_config())
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
    return builder, _title(titles, root, builder)


@functools.cache
def _config():
    """trafilatura's settings with the whole-page rescue only below 50 characters found (default 250)."""
    from trafilatura.settings import use_config

    config = use_config()
    config.set("DEFAULT", "MIN_EXTRACTED_SIZE", "50")
    return config


def _prune_chrome(tree) -> None:
    """Drop the page's navigation, banner, footer and asides (their tails, text between blocks, stay)."""
    for element in tree.xpath(_CHROME):
        if element.getparent() is not None:
            element.drop_tree()


def _page_titles(tree) -> dict[str, str]:
    """The page's own title candidates, read before pruning: its <h1>s, og:title, <title>, site name."""
    def meta(*names: str) -> str:
        for name in names:
            for value in tree.xpath(f"//meta[@property='{name}' or @name='{name}']/@content"):
                if squash(value):
                    return squash(value)
        return ""

    h1s = [squash(h.text_content()) for h in tree.xpath("//h1")]
    return {"h1": h1s[0] if len(h1s) == 1 else "", "og": meta("og:title", "twitter:title"),
            "site": meta("og:site_name", "application-name"), "title": squash(tree.findtext(".//title") or "")}


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


def _title(titles: dict[str, str], root, builder: TextBuilder) -> str:
    """The article's own title: the main content's first <h1>, else the page's only <h1>, else og:title,
    else <title> without the site's name, else the first heading. The site's name is never the title."""
    site = titles["site"].casefold()
    text = builder.text()
    first_h1 = next((squash(text[b.start:b.end]) for b in builder.blocks if b.kind == "heading" and b.level == 1), "")
    for candidate in (first_h1, titles["h1"], titles["og"], _without_site(titles["title"], site)):
        found = usable_title(candidate)
        if found and found.casefold() != site:
            return found
    return next((squash(text[b.start:b.end]) for b in builder.blocks if b.kind == "heading"), "")


def _without_site(title: str, site: str) -> str:
    """<title> without its site part ("Winter timetable | Ouse Ferry" -> "Winter timetable"): the part that
    is not the site's name (og:site_name), else the longest part, since a site's name is usually the shorter."""
    parts = [part for part in _SITE_SEPARATOR.split(title) if part.strip()]
    if len(parts) < 2:
        return title
    rest = [part for part in parts if part.casefold() != site] or parts
    return max(rest, key=len)


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
