"""The web chat: a Gradio page and an `ask` HTTP endpoint, both thin layers over `Assistant`."""

# No `from __future__ import annotations` here: Gradio reads the handlers' annotations at
# runtime (gr.Request, gr.EventData, and the typed `ask` endpoint) and cannot use strings.

import html
import logging
import os
import re
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import gradio as gr

from assistant.errors import AssistantError

log = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).with_name("static")
QUEUE_MAX_SIZE = 64  # beyond this Gradio answers "This application is currently busy. Please try again."
CONCURRENCY = 2  # one model call per core on a 2-core machine
SNIPPET_CHARS = 320
NOT_FOUND = "I couldn't find this in the documents."
STOPWORDS = frozenset(
    "a an and are as at be been but by can could did do does for from had has have how i if in into is it"
    " its may of on or our should so than that the their them then there these they this those to was we"
    " were what when where which while who whom whose why will with would you your about also any more most"
    " other some such only own same very just over under again further once here all both each few many".split()
)


def _static_js(name: str) -> str:
    """Client-side glue for gr.HTML's js_on_load, kept as plain .js files beside the CSS."""
    return (STATIC_DIR / name).read_text(encoding="utf-8")


# ---------------------------------------------------------------- rendering helpers


def esc(text: str) -> str:
    """Escape document or user text for HTML; every such string passes through here."""
    return html.escape(text, quote=True)


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
        parts.append(f"page {int(page)}")
    parts.append(f'<span class="file">{esc(source)}</span>')
    return " · ".join(parts)


def render_citation(number: int, passage: Mapping[str, Any], reply: Mapping[str, Any], terms: Sequence[str]) -> str:
    """One numbered citation: title link, strength, place, and a snippet."""
    strength = passage["strength"] if reply.get("confident") else "weak"
    href = span_link(passage["source"], passage["start"], passage["end"])
    return (
        f'<li class="citation {esc(strength)}">'
        f'<div class="cite-head"><a class="cite" href="{esc(href)}" title="Show in the document">'
        f'<span class="num">[{number}]</span> {esc(passage["title"])}</a>'
        f' <span class="badge {esc(strength)}" title="relevance score {float(passage["score"]):.3f}">'
        f"{esc(strength)} match</span></div>"
        f'<div class="place">{render_place(passage["section"], passage.get("page"), passage["source"])}</div>'
        f'<blockquote class="snippet">{render_snippet(passage["text"], answer_focus(reply, passage), terms)}</blockquote>'
        "</li>"
    )


def render_reply(reply: Mapping[str, Any]) -> str:
    """A whole reply: the marked answer sentence (or a plain "not found"), then the citations."""
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
        parts.append(f'<p class="answer"><mark class="answer-mark">{esc(reply["answer"])}</mark>{link}</p>')
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
    return f'<header class="app-head"><h1>Document assistant</h1><p class="corpus">{esc(description)}</p></header>'


def render_examples(questions: Sequence[str]) -> str:
    buttons = "".join(f'<button type="button" class="example">{esc(q)}</button>' for q in questions)
    return f'<div class="examples"><span class="try">Try:</span>{buttons}</div>' if buttons else ""


def render_sources(sources: Sequence[Any]) -> str:
    """The Sources view: every indexed document (title, file, passages), each opening in the viewer."""
    rows = "".join(
        f'<tr><td><a class="open-source" href="{esc(span_link(s.source))}">{esc(s.title)}</a>'
        f'<div class="file">{esc(s.source)}</div></td><td class="num">{int(s.chunks)}</td></tr>'
        for s in sources
    )
    return (
        '<table class="sources"><thead><tr><th>Document</th><th class="num">Passages</th></tr></thead>'
        f"<tbody>{rows}</tbody></table>"
    )


def render_document(
    title: str, source: str, text: str, span: tuple[int, int] | None, section: str = "", page: int | None = None
) -> str:
    """The viewer: a whole document with the cited span marked (the page scrolls to it)."""
    link = ""
    if span is None:
        body = _doc_text(text)
    else:
        start, end = span
        link = f'<a class="permalink" href="{esc(span_link(source, start, end))}">Link to this passage</a>'
        body = _doc_text(text[:start]) + f'<mark class="cited">{_doc_text(text[start:end])}</mark>' + _doc_text(text[end:])
    return (
        f'<div class="viewer"><div class="doc-head"><h2>{esc(title)}</h2>'
        f'<div class="place">{render_place(section, page, source)}</div>{link}</div>'
        f'<div class="doc-text">{body}</div></div>'
    )


def _doc_text(text: str) -> str:
    return esc(text).replace("\f", '<hr class="page-break">')


def render_viewer_message(message: str) -> str:
    return f'<div class="viewer"><p class="viewer-note">{esc(message)}</p></div>'


VIEWER_START = render_viewer_message("Click a citation to read it in its document here.")


# ---------------------------------------------------------------- handlers


def _to_int(value: Any) -> int | None:
    try:
        return int(str(value))
    except ValueError:
        return None


class WebChat:
    """The page's event handlers, bound to one Assistant; tests call these directly."""

    def __init__(self, bot: Any, k: int = 5) -> None:
        self.bot = bot
        self.k = k

    # -- chat

    def answer_html(self, question: str, history: list[str]) -> tuple[str, bool]:
        """One reply as HTML, and whether it succeeded; errors become a message, never a traceback."""
        try:
            reply = self.bot.ask(question, history=history or None, k=self.k)
        except AssistantError as exc:
            return render_error(str(exc)), False
        except Exception:  # noqa: BLE001 - the page must stay usable whatever happens
            log.exception("answering %r failed", question)
            return render_error("Something went wrong while answering. Please try again."), False
        return render_reply(reply.to_dict()), True

    def respond(self, question: str, turns: list[dict]) -> Iterator[tuple[str, list[dict], str]]:
        """Show the question at once, then the reply; earlier questions go along as history."""
        question = (question or "").strip()
        turns = list(turns or [])
        if not question:
            yield render_transcript(turns), turns, ""
            return
        yield render_transcript([*turns, {"question": question}]), turns, ""
        history = [t["question"] for t in turns if t.get("ok")]
        body, ok = self.answer_html(question, history)
        done = [*turns, {"question": question, "html": body, "ok": ok}]
        yield render_transcript(done), done, ""

    def respond_example(self, turns: list[dict], evt: gr.EventData) -> Iterator[tuple[str, list[dict], str]]:
        """A click on an example question asks it."""
        yield from self.respond(getattr(evt, "question", ""), turns)

    def clear(self) -> tuple[str, list[dict], str]:
        return render_transcript([]), [], ""

    # -- viewer

    def document_html(self, source: str, start: Any = None, end: Any = None) -> str:
        """The viewer for a source (and span) named by a click or a URL; only indexed files open."""
        info = {s.source: s for s in self.bot.sources()}.get(source)
        if info is None:
            return render_viewer_message(f"“{source}” is not one of the indexed documents.")
        try:
            text = self.bot.read_source(info.source)
        except AssistantError as exc:
            return render_viewer_message(str(exc))
        lo, hi = _to_int(start), _to_int(end)
        if lo is None or hi is None or not 0 <= lo < hi <= len(text):
            return render_document(info.title, info.source, text, None)
        section, page = self.place_of(info.source, lo, hi)
        return render_document(info.title, info.source, text, (lo, hi), section, page)

    def place_of(self, source: str, start: int, end: int) -> tuple[str, int | None]:
        """Section path and page of a span, from the indexed passage that holds its start."""
        passage = self.bot.locate(source, start)
        return (passage.section, passage.page) if passage else ("", None)

    def open_link(self, evt: gr.EventData) -> tuple[str, Any]:
        """A click on a citation or a source: show it in the viewer's Document tab."""
        source = str(getattr(evt, "source", ""))
        viewer = self.document_html(source, getattr(evt, "start", None), getattr(evt, "end", None))
        return viewer, gr.Tabs(selected="document")

    # -- page load

    def load(self, request: gr.Request) -> tuple[str, str, str, str, Any]:
        """Fill the page from the current index; a ?source=&start=&end= URL opens that span."""
        params = dict(request.query_params) if request is not None else {}
        source = params.get("source")
        if source:
            viewer, tab = self.document_html(source, params.get("start"), params.get("end")), "document"
        else:
            viewer, tab = VIEWER_START, "sources"
        return (
            render_header(self.bot.describe()),
            render_examples(self.bot.example_questions(4)),
            render_sources(self.bot.sources()),
            viewer,
            gr.Tabs(selected=tab),
        )

    # -- HTTP API

    def ask(self, question: str, history: list[str] | None = None, k: int = 5) -> dict:
        """Answer a question from the documents; returns the reply as JSON (see README)."""
        try:
            return self.bot.ask(question, history=history or None, k=k).to_dict()
        except AssistantError as exc:
            raise gr.Error(str(exc)) from exc


# ---------------------------------------------------------------- app


def build_blocks(bot: Any) -> gr.Blocks:
    """The page and the `ask` endpoint for an opened Assistant (tests pass their own)."""
    os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"  # read by Gradio at launch, not only here
    chat = WebChat(bot)
    private = {"api_visibility": "private", "concurrency_id": "assistant"}
    links = {"js_on_load": _static_js("links.js"), "apply_default_css": False}  # our CSS, not Gradio's prose
    with gr.Blocks(title="Document assistant", analytics_enabled=False) as app:
        turns = gr.State([])
        header = gr.HTML(render_header(bot.describe()), js_on_load=None, apply_default_css=False)
        with gr.Row(equal_height=False, elem_id="main-row"):
            with gr.Column(scale=3, min_width=340, elem_id="chat-col"):
                clear_btn = gr.Button("Clear chat", size="sm", variant="secondary", elem_id="clear")
                transcript = gr.HTML(render_transcript([]), elem_id="transcript", **links)
                with gr.Row(elem_id="ask-row"):
                    question = gr.Textbox(
                        placeholder="Ask about the documents…",
                        show_label=False,
                        lines=1,
                        max_lines=6,
                        scale=5,
                        min_width=160,
                        elem_id="question",
                        container=False,
                        autofocus=True,
                    )
                    ask_btn = gr.Button("Ask", variant="primary", scale=0, min_width=72, elem_id="ask")
                examples = gr.HTML(render_examples(bot.example_questions(4)), elem_id="examples", **links)
            with gr.Column(scale=2, min_width=340, elem_id="viewer-col"):
                with gr.Tabs(selected="sources", elem_id="side-tabs") as tabs:
                    with gr.Tab("Document", id="document"):
                        viewer = gr.HTML(
                            VIEWER_START, elem_id="viewer", js_on_load=_static_js("viewer.js"), apply_default_css=False
                        )
                    with gr.Tab("Sources", id="sources"):
                        sources = gr.HTML(render_sources(bot.sources()), elem_id="sources", **links)

        chat_out = [transcript, turns, question]
        # One event for Enter and the button, so a second submit waits for the pending answer.
        gr.on([question.submit, ask_btn.click], chat.respond, [question, turns], chat_out, show_progress="hidden", **private)
        examples.click(chat.respond_example, [turns], chat_out, show_progress="hidden", **private)
        clear_btn.click(chat.clear, None, chat_out, queue=False, api_visibility="private")
        for view in (transcript, sources):
            view.click(chat.open_link, None, [viewer, tabs], show_progress="hidden", api_visibility="private")
        app.load(chat.load, None, [header, examples, sources, viewer, tabs], api_visibility="private")
        gr.api(chat.ask, api_name="ask", concurrency_id="assistant")
    app.queue(max_size=QUEUE_MAX_SIZE, default_concurrency_limit=CONCURRENCY)
    return app


def build_app(index_dir: str | Path) -> gr.Blocks:
    """Open the index (loading the model once) and build the page on it."""
    from assistant import Assistant

    return build_blocks(Assistant.open(index_dir))


def launch_options(server_name: str | None = None, server_port: int | None = None) -> dict[str, Any]:
    """launch() arguments shared by main() and the tests (Gradio 6 takes css and theme here)."""
    return {
        "server_name": server_name or os.environ.get("GRADIO_SERVER_NAME") or "127.0.0.1",
        "server_port": server_port or int(os.environ.get("GRADIO_SERVER_PORT") or 7860),
        "share": False,
        "show_error": False,
        "ssr_mode": False,
        "footer_links": ["api"],
        "css_paths": [STATIC_DIR / "web.css"],
        "theme": gr.themes.Default(primary_hue="blue"),
    }


def main() -> None:
    """Serve the page on 127.0.0.1:7860 unless GRADIO_SERVER_NAME / GRADIO_SERVER_PORT say otherwise."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    index_dir = os.environ.get("ASSISTANT_INDEX") or "index"
    try:
        app = build_app(index_dir)
    except AssistantError as exc:
        raise SystemExit(f"error: {exc}") from None
    app.launch(**launch_options())


if __name__ == "__main__":
    main()
