"""The web chat's HTML: replies, citations, snippets, the document viewer and the sources table, without Gradio."""

import bisect
import html
import re
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlencode

from assistant.api import NOT_FOUND
from assistant.text import terminal_safe

SNIPPET_CHARS = 320
STOPWORDS = frozenset(
    "a an and are as at be been but by can could did do does for from had has have how i if in into is it"
    " its may of on or our should so than that the their them then there these they this those to was we"
    " were what when where which while who whom whose why will with would you your about also any more most"
    " other some such only own same very just over under again further once here all both each few many".split()
)


def esc(text: str) -> str:
    """Escape document or user text for HTML; every such string passes through here."""
    return html.escape(text, quote=True)


def esc_name(name: str) -> str:
    """Escape a file name or title for HTML, with control characters shown as \\x1b, \\n (as the CLI does)."""
    return esc(terminal_safe(name))


def span_link(source: str, start: int | None = None, end: int | None = None) -> str:
    """The shareable URL query that opens the page at this span of this source."""
    query: dict[str, Any] = {"source": source}
    if start is not None and end is not None:
        query.update(start=start, end=end)
    return "?" + urlencode(query)


def query_terms(question: str) -> list[str]:
    """Content words of the question, longest first, so emphasis prefers the longer match."""
    words = {w for w in re.findall(r"[^\W_]+", question.lower()) if len(w) > 2 and w not in STOPWORDS}
    return sorted(words, key=lambda w: (-len(w), w))


def terms_pattern(terms: Sequence[str]) -> re.Pattern[str] | None:
    """Matches whole words that start with a query term (so "contract" finds "contracts")."""
    return re.compile(r"\b(?:" + "|".join(map(re.escape, terms)) + r")\w*", re.IGNORECASE) if terms else None


def emphasise(text: str, terms: Sequence[str]) -> str:
    """Escape `text`, wrapping words that start with a query term in <strong>."""
    flat = re.sub(r"\s+", " ", text)
    pattern = terms_pattern(terms)
    if pattern is None:
        return esc(flat)
    out, pos = [], 0
    for match in pattern.finditer(flat):
        out += [esc(flat[pos : match.start()]), f"<strong>{esc(match.group())}</strong>"]
        pos = match.end()
    out.append(esc(flat[pos:]))
    return "".join(out)


def answer_focus(reply: Mapping[str, Any], passage: Mapping[str, Any]) -> tuple[int, int] | None:
    """Where the answer sentence sits inside this passage's text, if it does."""
    start, end = reply.get("answer_start"), reply.get("answer_end")
    if not reply.get("confident") or reply.get("answer_source") != passage["source"] or start is None or end is None:
        return None
    lo, hi = max(start, passage["start"]), min(end, passage["end"])
    return (lo - passage["start"], hi - passage["start"]) if lo < hi else None


def snippet_window(text: str, focus: tuple[int, int] | None, terms: Sequence[str]) -> tuple[int, int]:
    """A window of about SNIPPET_CHARS around the answer sentence or the first matching word."""
    if len(text) <= SNIPPET_CHARS:
        return 0, len(text)
    if focus is None:
        pattern = terms_pattern(terms)
        hit = pattern.search(text) if pattern else None
        focus = (hit.start(), hit.end()) if hit else (0, 0)
    pad = max(60, (SNIPPET_CHARS - (focus[1] - focus[0])) // 2)
    start, end = max(0, focus[0] - pad), min(len(text), focus[1] + pad)
    if start > 0:  # do not start or end in the middle of a word
        start = next((m.end() for m in re.finditer(r"\s", text[start : focus[0]])), 0) + start
    if end < len(text):
        cut = text.rfind(" ", focus[1], end)
        end = cut if cut > 0 else end
    return start, end


def render_snippet(text: str, focus: tuple[int, int] | None, terms: Sequence[str]) -> str:
    """The snippet of a passage: matching words in bold, the answer sentence marked."""
    start, end = snippet_window(text, focus, terms)
    lead, tail = ("… " if start > 0 else ""), (" …" if end < len(text) else "")
    if focus is None:
        return lead + emphasise(text[start:end], terms) + tail
    f0, f1 = max(focus[0], start), min(focus[1], end)
    return (
        lead
        + emphasise(text[start:f0], terms)
        + f'<mark class="answer-mark">{emphasise(text[f0:f1], terms)}</mark>'
        + emphasise(text[f1:end], terms)
        + tail
    )


def render_place(section: str, page: int | None, source: str) -> str:
    """Section path, page and file of a span, for citations and the viewer."""
    parts = [f'<span class="section">{esc(section)}</span>'] if section else []
    if page is not None:
        parts.append(f"p. {int(page)}")
    parts.append(f'<span class="file">{esc_name(source)}</span>')
    return " · ".join(parts)


def render_citation(number: int, passage: Mapping[str, Any], reply: Mapping[str, Any], terms: Sequence[str]) -> str:
    """One numbered citation: title link, strength, place, and a snippet."""
    strength = passage["strength"] if reply.get("confident") else "weak"
    href = span_link(passage["source"], passage["start"], passage["end"])
    return (
        f'<li class="citation {esc(strength)}">'
        f'<div class="cite-head"><a class="cite" href="{esc(href)}" title="Show in the document">'
        f'<span class="num">[{number}]</span> {esc_name(passage["title"])}</a>'
        f' <span class="badge {esc(strength)}" title="relevance score {float(passage["score"]):.3f}">'
        f"{esc(strength)} match</span></div>"
        f'<div class="place">{render_place(passage["section"], passage.get("page"), passage["source"])}</div>'
        f'<blockquote class="snippet">{render_snippet(passage["text"], answer_focus(reply, passage), terms)}</blockquote>'
        "</li>"
    )


def render_answer(reply: Mapping[str, Any], document: Any = None) -> str:
    """The answer's words, escaped; where its document marks code (Markdown code blocks and inline
    code), that part is shown as code, a block with its lines kept, from the document's own text."""
    start, end = reply.get("answer_start"), reply.get("answer_end")
    if document is None or start is None or end is None or not document.in_code(start, end):
        return esc(reply["answer"])
    text = document.text
    runs = sorted([(b.start, b.end, "pre") for b in document.blocks if b.kind == "code"]
                  + [(b.start, b.end, "code") for b in document.spans])
    out, cursor = [], start
    for s, e, tag in runs:
        if e <= cursor or s >= end:
            continue
        s, e = max(s, cursor), min(e, end)
        out.append(esc(_SPACES.sub(" ", text[cursor:s])))
        code = esc(text[s:e])
        out.append(f'<pre class="answer-code"><code>{code}</code></pre>' if tag == "pre" else f"<code>{code}</code>")
        cursor = e
    out.append(esc(_SPACES.sub(" ", text[cursor:end])))
    return "".join(out).strip()


_SPACES = re.compile(r"\s+")


def render_reply(reply: Mapping[str, Any], document: Any = None) -> str:
    """A whole reply: the marked answer sentence (or a plain "not found"), then the citations.

    `document` is the answer's document, when known: code in the answer is then shown as code."""
    passages = reply.get("passages") or []
    terms = query_terms(reply.get("question", ""))
    parts = []
    if reply.get("notice"):
        parts.append(f'<p class="notice">{esc(reply["notice"])}</p>')
    if reply.get("confident"):
        number = next((i for i, p in enumerate(passages, 1) if answer_focus(reply, p)), None)
        link = ""
        if number is not None:
            href = span_link(reply["answer_source"], reply["answer_start"], reply["answer_end"])
            link = f' <a class="cite" href="{esc(href)}" title="Show in the document">[{number}]</a>'
        answer = render_answer(reply, document)
        tag = "div" if "<pre" in answer else "p"  # a code block cannot sit inside a paragraph
        parts.append(f'<{tag} class="answer"><mark class="answer-mark">{answer}</mark>{link}</{tag}>')
    else:
        parts.append(f'<p class="not-found">{esc(NOT_FOUND)}</p>')
        if passages:
            parts.append('<p class="hint">The nearest passages are below; they are weak matches.</p>')
    if passages:
        items = "".join(render_citation(i, p, reply, terms) for i, p in enumerate(passages, 1))
        parts.append(f'<ol class="citations">{items}</ol>')
    return "".join(parts)


def render_error(message: str) -> str:
    return f'<p class="error">{esc(message)}</p>'


def render_transcript(turns: Sequence[Mapping[str, Any]]) -> str:
    """The conversation; an unanswered turn shows a working indicator."""
    if not turns:
        return (
            '<div class="chat empty"><p>Ask a question about the documents. Each answer quotes the'
            " sentence it comes from and cites its passages; click a citation to read it in place.</p></div>"
        )
    rows = []
    for turn in turns:
        body = turn.get("html") or '<p class="pending">Searching the documents…</p>'
        rows.append(
            f'<div class="msg user" aria-label="You"><p>{esc(turn["question"])}</p></div>'
            f'<div class="msg bot" aria-label="Assistant">{body}</div>'
        )
    return f'<div class="chat">{"".join(rows)}</div>'


def render_header(description: str) -> str:
    """The page's heading; the description names documents, so it is escaped as names are (no bidi overrides)."""
    return f'<header class="app-head"><h1>Document assistant</h1><p class="corpus">{esc_name(description)}</p></header>'


def render_examples(questions: Sequence[str]) -> str:
    """Suggestion buttons; each quotes a document's title and section, escaped as names are."""
    buttons = "".join(f'<button type="button" class="example">{esc_name(q)}</button>' for q in questions)
    return f'<div class="examples"><span class="try">Try:</span>{buttons}</div>' if buttons else ""


def render_sources(sources: Sequence[Any], removable: bool = False, skipped: Sequence[Any] = ()) -> str:
    """The Sources view: every indexed document (title, file, passages), each opening in the viewer,
    then every file that was not read and why, so a missing answer has a visible cause."""
    def remove(source: str) -> str:
        if not removable:
            return ""
        return (f'<button type="button" class="remove-source" data-source="{esc(source)}" '
                f'title="Take this document out of the index (the file is moved aside)">Remove</button>')

    rows = "".join(
        f'<tr><td><a class="open-source" href="{esc(span_link(s.source))}">{esc_name(s.title)}</a>'
        f'<div class="file">{esc_name(s.source)}</div></td><td class="num">{int(s.chunks)}</td>'
        f'<td class="act">{remove(s.source)}</td></tr>'
        for s in sources
    )
    return (
        '<table class="sources"><thead><tr><th>Document</th><th class="num">Passages</th><th></th></tr></thead>'
        f"<tbody>{rows}</tbody></table>" + render_skipped(skipped)
    )


def render_skipped(skipped: Sequence[Any]) -> str:
    """The files the index could not read (`Assistant.skipped()`), each with its reason; nothing when none."""
    if not skipped:
        return ""
    items = "".join(f'<li><span class="name">{esc_name(s.source)}</span>: <span class="reason">{esc_name(s.reason)}</span></li>'
                    for s in skipped)
    count = len(skipped)
    return (f'<details class="skipped" open><summary>{count} file{"s" if count != 1 else ""} not read</summary>'
            f"<ul>{items}</ul></details>")


def render_upload_status(lines: Sequence[str], busy: bool) -> str:
    """What adding or removing documents did: progress while indexing, then the result or refusals."""
    if not lines:
        return ""
    items = "".join(f"<li>{esc(line)}</li>" for line in lines if line)
    return f'<ul class="upload-status{" busy" if busy else ""}" role="status">{items}</ul>'


def render_document(
    title: str, source: str, text: str, span: tuple[int, int] | None, section: str = "", page: int | None = None,
    blocks: Sequence[Any] | None = None, page_image: Any | None = None, original: tuple[str, str] | None = None,
    code: Sequence[Any] = (),
) -> str:
    """The viewer: a whole document with the cited span marked (the page scrolls to it).

    With `blocks` the document is shown as structure (headings, paragraphs, lists, tables,
    code) and markup never shows; `page_image` (a PDF page with the span's boxes) comes first.
    """
    link = ""
    if span is not None:
        start, end = span
        link = f'<a class="permalink" href="{esc(span_link(source, start, end))}">Link to this passage</a>'
    if original is not None:
        link += (f' <a class="original" href="{esc(original[0])}" target="_blank" rel="noopener noreferrer">'
                 f"{esc(original[1])}</a>")
    body = render_blocks(text, blocks, span, code) if blocks else _marked(text, 0, len(text), span)
    return (
        f'<div class="viewer"><div class="doc-head"><h2>{esc_name(title)}</h2>'
        f'<div class="place">{render_place(section, page, source)}</div>{link}</div>'
        f"{render_page_image(page_image) if page_image is not None else ''}"
        f'<div class="doc-text{" structured" if blocks else ""}">{body}</div></div>'
    )


def _marked(text: str, start: int, end: int, span: tuple[int, int] | None,
            code: Sequence[tuple[int, int]] = ()) -> str:
    """Escaped text[start:end], with the part inside the cited span in <mark class="cited"> and
    inline code (sorted (start, end) runs) in <code>."""
    runs = [(max(s, start), min(e, end)) for s, e in code if s < end and e > start]
    if not runs and (span is None or span[1] <= start or span[0] >= end):
        return _doc_text(text[start:end])
    cuts = {start, end, *(x for run in runs for x in run)}
    if span is not None:
        cuts |= {min(max(x, start), end) for x in span}
    out = []
    edges = sorted(cuts)
    for lo, hi in zip(edges, edges[1:]):
        piece = _doc_text(text[lo:hi])
        if any(s <= lo and hi <= e for s, e in runs):
            piece = f"<code>{piece}</code>"
        if span is not None and span[0] <= lo and hi <= span[1]:
            piece = f'<mark class="cited">{piece}</mark>'
        out.append(piece)
    return "".join(out)


_BLOCK_TAGS = {"paragraph": "p", "quote": "blockquote", "text": "div"}
CELL = " | "  # between the cells of a table row a reader could not name by a header (PDF, slides)


def _cells(text: str, block: Any, span: tuple[int, int] | None, inside: Sequence[tuple[int, int]]) -> str:
    """A table row's cells, each its own box: cells set apart as printed, not a line with bars."""
    cuts, at = [], block.start
    while (found := text.find(CELL, at, block.end)) >= 0:
        cuts.append((at, found))
        at = found + len(CELL)
    cuts.append((at, block.end))
    return "".join(f'<span class="doc-cell">{_marked(text, lo, hi, span, inside)}</span>' for lo, hi in cuts)


def render_blocks(text: str, blocks: Sequence[Any], span: tuple[int, int] | None,
                  code: Sequence[Any] = ()) -> str:
    """Blocks as HTML: consecutive list items in one list, table rows in one table, page breaks ruled,
    and `code` (the document's inline code spans, in order) as <code>."""
    runs = [(c.start, c.end) for c in code]
    starts = [s for s, _ in runs]
    out: list[str] = []
    group = ""  # "list" or "table" while one is open
    page = None
    for block in blocks:
        if block.page is not None and page is not None and block.page != page:
            out.append(("</ul>" if group == "list" else "</div>" if group == "table" else "")
                       + f'<hr class="page-break" title="page {int(block.page)}">'
                       + f'<div class="page-label">p. {int(block.page)}</div>')
            group = ""
        page = block.page if block.page is not None else page
        if group and block.kind != group:
            out.append("</ul>" if group == "list" else "</div>")
            group = ""
        if block.kind in ("list", "table") and not group:
            out.append('<ul class="doc-list">' if block.kind == "list" else '<div class="doc-table">')
            group = block.kind
        inside = runs[bisect.bisect_left(starts, block.start):bisect.bisect_left(starts, block.end)]
        inner = _marked(text, block.start, block.end, span, inside if block.kind != "code" else ())
        if block.kind == "heading":
            level = min(6, max(3, int(block.level) + 2))
            out.append(f'<h{level} class="doc-heading">{inner}</h{level}>')
        elif block.kind == "list":
            out.append(f"<li>{inner}</li>")
        elif block.kind == "table":
            cells = CELL in text[block.start:block.end]
            out.append(f'<div class="doc-row">{_cells(text, block, span, inside) if cells else inner}</div>')
        elif block.kind == "code":
            out.append(f'<pre class="doc-code"><code>{inner}</code></pre>')
        else:
            tag = _BLOCK_TAGS.get(block.kind, "p")
            out.append(f'<{tag} class="doc-{"plain" if block.kind == "text" else esc(block.kind)}">{inner}</{tag}>')
    if group:
        out.append("</ul>" if group == "list" else "</div>")
    return "".join(out)


def render_page_image(view: Any) -> str:
    """A rendered PDF page (inline PNG: nothing is fetched) with the cited span's boxes drawn over it.

    The page fits the viewer's width; a click on it shows it at its rendered size (a checkbox
    the page's label toggles, styled in web.css: no script), a second click fits it again.
    """
    import base64

    boxes = "".join(
        f'<div class="pdf-box" style="left:{left * 100:.3f}%;top:{top * 100:.3f}%;'
        f'width:{width * 100:.3f}%;height:{height * 100:.3f}%"></div>'
        for left, top, width, height in view.boxes
    )
    data = base64.b64encode(view.png).decode("ascii")
    return (
        f'<details class="pdf-view" open><summary>Page {int(view.page)} of the PDF</summary>'
        f'<input type="checkbox" class="pdf-zoom" id="pdf-zoom" aria-label="Zoom the page">'
        f'<div class="pdf-scroll"><label class="pdf-page" for="pdf-zoom" title="Click to zoom in or out">'
        f'<img alt="Page {int(view.page)}" src="data:image/png;base64,{data}">{boxes}</label></div></details>'
    )


def _doc_text(text: str) -> str:
    return esc(text).replace("\f", '<hr class="page-break">')


def render_viewer_message(message: str) -> str:
    return f'<div class="viewer"><p class="viewer-note">{esc(message)}</p></div>'


VIEWER_START = render_viewer_message("Click a citation to read it in its document here.")
