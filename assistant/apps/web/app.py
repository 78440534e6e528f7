"""The web chat: a Gradio page and an `ask` HTTP endpoint, both thin layers over `Assistant`."""

# No `from __future__ import annotations` here: Gradio reads the handlers' annotations at
# runtime (gr.Request, gr.EventData, and the typed `ask` endpoint) and cannot use strings.

import json
import logging
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import gradio as gr

from assistant.api import MAX_QUESTION_CHARS, clean_question
from assistant.apps.api.grants import home_collection, may_change, source_in, view_of
from assistant.apps.api.signin import SIGN_OUT_FORM
from assistant.apps.output import reply_json
from assistant.apps.web.display import display_blocks
from assistant.apps.web.files import original_link
from assistant.apps.web.render import (
    VIEWER_START,
    render_document,
    render_error,
    render_examples,
    render_header,
    render_reply,
    render_sources,
    render_transcript,
    render_upload_status,
    render_viewer_message,
)
from assistant.apps.web.strict_blocks import StrictBlocks
from assistant.apps.web.uploads import Reindexer, check_upload, collection_folder, discard_upload, remove_source, save_upload
from assistant.config import CONCURRENCY, MAX_TURNS, MAX_TYPED_CHARS, QUEUE_MAX_SIZE
from assistant.errors import AssistantError
from assistant.ingest.readers import SUFFIXES
from assistant.ingest.sandbox import Sandbox

log = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).with_name("static")
WATCH_TICK_SECONDS = 3.0  # how soon a page notices a run started by a change in the corpus folder


def _static_js(name: str) -> str:
    """Client-side glue for gr.HTML's js_on_load, kept as plain .js files beside the CSS."""
    return (STATIC_DIR / name).read_text(encoding="utf-8")


def _upload_js() -> str:
    """upload.js with the picker's `accept` list: every suffix a reader is registered for."""
    return _static_js("upload.js").replace("__ACCEPT__", json.dumps(",".join(sorted(SUFFIXES))))


# ---------------------------------------------------------------- handlers


def _to_int(value: Any) -> int | None:
    try:
        return int(str(value))
    except ValueError:
        return None


class WebChat:
    """The page's event handlers, bound to one Assistant; tests call these directly."""

    def __init__(self, bot: Any, k: int = 5, reindexer: Reindexer | None = None, auth: Any = None) -> None:
        self.bot = bot
        self.auth = auth  # apps/api/auth.Auth: who is signed in (None: the single-user app)
        self.k = k
        self.reindexer = reindexer
        self.sandbox = Sandbox()  # PDF pages are rendered by a worker process, never by the web process

    def user(self, request: Any) -> Any:
        """The signed-in user of a page event: None with sign-in off (see apps/api/auth.Auth.user_of)."""
        return self.auth.user_of(request) if self.auth is not None else None

    def scope(self, request: Any) -> dict[str, Any]:
        """Keywords that limit Assistant calls to the user's collections (empty: every document)."""
        return view_of(self.user(request))

    # -- chat

    def answer_html(self, question: str, history: list[str], scope: dict | None = None) -> tuple[str, bool]:
        """One reply as HTML, and whether it succeeded; errors become a message, never a traceback."""
        scope = scope or {}
        try:
            reply = self.bot.ask(question, history=history or None, k=self.k, **scope)
        except AssistantError as exc:
            log.info("refused question: %s", exc)
            return render_error(str(exc)), False
        except Exception:  # noqa: BLE001 - the page must stay usable whatever happens
            log.exception("answering %r failed", question)
            return render_error("Something went wrong while answering. Please try again."), False
        document = self.bot.document(reply.answer_source, **scope) if reply.answer_source else None
        return render_reply(reply.to_dict(), document), True

    def respond(self, question: str, turns: list[dict],
                request: gr.Request = None) -> Iterator[tuple[str, list[dict], str]]:
        """Show the question at once, then the reply; earlier questions go along as history."""
        question = (question if isinstance(question, str) else "").strip()
        turns = list(turns or [])[-(MAX_TURNS - 1):]
        if not question:
            yield render_transcript(turns), turns, ""
            return
        try:  # the transcript holds the question as answered (at most MAX_QUESTION_CHARS), never more
            shown = clean_question(question)[0]
        except AssistantError:
            shown = question[:MAX_QUESTION_CHARS]
        yield render_transcript([*turns, {"question": shown}]), turns, ""
        history = [t["question"] for t in turns if t.get("ok")]
        body, ok = self.answer_html(question, history, self.scope(request))
        done = [*turns, {"question": shown, "html": body, "ok": ok}]
        yield render_transcript(done), done, ""

    def respond_example(self, turns: list[dict], evt: gr.EventData,
                        request: gr.Request = None) -> Iterator[tuple[str, list[dict], str]]:
        """A click on an example question asks it."""
        yield from self.respond(getattr(evt, "question", ""), turns, request)

    def clear(self) -> tuple[str, list[dict], str]:
        return render_transcript([]), [], ""

    # -- viewer

    def document_html(self, source: str, start: Any = None, end: Any = None, scope: dict | None = None) -> str:
        """The viewer for a source (and span) named by a click or a URL; only indexed files open."""
        scope = scope or {}
        info = {s.source: s for s in self.bot.sources(**scope)}.get(source)
        if info is None:
            return render_viewer_message(f"“{source}” is not one of the indexed documents.")
        try:
            document = self.bot.document(info.source, **scope)
        except AssistantError as exc:
            return render_viewer_message(str(exc))
        text, blocks = document.text, display_blocks(document)
        lo, hi = _to_int(start), _to_int(end)
        if lo is None or hi is None or not 0 <= lo < hi <= len(text):
            return render_document(info.title, info.source, text, None, blocks=blocks,
                                   original=self.original_of(document, None), code=document.spans)
        page = document.page_at(lo)
        return render_document(info.title, info.source, text, (lo, hi), self.section_of(info.source, lo, scope), page,
                               blocks=blocks, page_image=self.page_image(document, lo, hi, scope),
                               original=self.original_of(document, page), code=document.spans)

    def original_of(self, document: Any, page: int | None) -> tuple[str, str] | None:
        """(link, label) to the original file of a PDF, Word or HTML document; plain text is its own original."""
        if document.format == "text":
            return None
        if document.format == "pdf":
            return original_link(document.source, page), f"Open the original PDF{f' at p. {page}' if page else ''}"
        return original_link(document.source), "Download the original file"

    def page_image(self, document: Any, start: int, end: int, scope: dict | None = None) -> Any:
        """The PDF page of a span with the span drawn on it; None for other formats or a changed file."""
        if document.format not in ("pdf", "image"):  # an image is a one-page scan, drawn the same way
            return None
        try:
            return self.sandbox.page_view(self.bot.original(document.source, **(scope or {})), start, end)
        except AssistantError as exc:
            log.info("no page image: %s", exc)
            return None

    def section_of(self, source: str, start: int, scope: dict | None = None) -> str:
        """Section path of a span, from the indexed passage that holds its start (its page is the document's)."""
        passage = self.bot.locate(source, start, **(scope or {}))
        return passage.section if passage else ""

    def open_link(self, evt: gr.EventData, request: gr.Request = None) -> tuple[str, Any]:
        """A click on a citation or a source: show it in the viewer's Document tab."""
        source = str(getattr(evt, "source", ""))
        viewer = self.document_html(source, getattr(evt, "start", None), getattr(evt, "end", None), self.scope(request))
        return viewer, gr.Tabs(selected="document")

    # -- adding and removing documents

    def add_documents(self, files: list[Any] | None, request: gr.Request = None) -> tuple[str, Any]:
        """Save uploaded files into the corpus (a signed-in user's: into their collection) and index them."""
        if self.reindexer is None:
            return render_upload_status(["Adding documents is turned off for this app."], False), gr.Timer(active=False)
        user = self.user(request)
        collection = home_collection(user)
        if collection is None:
            for item in files or []:
                discard_upload(Path(item if isinstance(item, str) else getattr(item, "name", "")))
            return render_upload_status(["You may not add documents."], False), gr.Timer(active=False)
        lines, saved = [], []
        for item in files or []:
            path = Path(item if isinstance(item, str) else getattr(item, "name", ""))
            try:
                reason = check_upload(path.name, path.stat().st_size)
                if reason is None:
                    folder = collection_folder(self.reindexer.corpus, collection)
                    saved.append(source_in(collection, save_upload(folder, path.name, path)))
            except (AssistantError, OSError) as exc:
                reason = str(exc)
            discard_upload(path)
            if reason:
                lines.append(f"Not added: {reason}")
        if saved:
            self.reindexer.request(f"added {', '.join(saved)}")
            lines.insert(0, self.reindexer.status.message)
        return render_upload_status(lines, bool(saved)), gr.Timer(active=bool(saved))

    def remove(self, source: str, request: gr.Request = None) -> tuple[str, Any]:
        """Take an indexed document out of the corpus (moved aside, not deleted) and re-index."""
        if self.reindexer is None:
            return render_upload_status(["Removing documents is turned off for this app."], False), gr.skip()
        user = self.user(request)
        indexed = {s.source for s in self.bot.sources(**view_of(user))}
        try:
            remove_source(self.reindexer.corpus, source, indexed if may_change(user, source) else set())
        except AssistantError as exc:
            return render_upload_status([str(exc)], False), gr.skip()
        self.reindexer.request(f"removed {source}")
        return render_upload_status([self.reindexer.status.message], True), gr.Timer(active=True)

    def sources_html(self, scope: dict | None = None) -> str:
        """The Sources view as it stands: indexed documents, then the files not read and why."""
        scope = scope or {}
        return render_sources(self.bot.sources(**scope), removable=self.reindexer is not None,
                              skipped=self.bot.skipped(**scope))

    def refresh(self, seen: Any, request: gr.Request = None) -> tuple[Any, Any, Any, Any, int]:
        """Every few seconds: a run the page did not start (a file changed in the corpus folder) shows its
        status while it runs, and the new Sources list once it ends; otherwise nothing is sent."""
        if self.reindexer is None:
            return gr.skip(), gr.skip(), gr.skip(), gr.skip(), 0
        status, runs = self.reindexer.status, self.reindexer.runs
        if status.running:
            return render_upload_status([status.message], True), gr.skip(), gr.skip(), gr.Timer(active=True), runs
        if runs == _to_int(seen):
            return gr.skip(), gr.skip(), gr.skip(), gr.skip(), runs
        scope = self.scope(request)
        return gr.skip(), self.sources_html(scope), render_header(self.bot.describe(**scope)), gr.skip(), runs

    def source_click(self, evt: gr.EventData, request: gr.Request = None) -> tuple[Any, Any, Any, Any]:
        """A click in the Sources view: open a document, or remove one."""
        removed = getattr(evt, "remove", None)
        if removed:
            return (gr.skip(), gr.skip(), *self.remove(str(removed), request))
        return (*self.open_link(evt, request), gr.skip(), gr.skip())

    def poll(self, request: gr.Request = None) -> tuple[str, str, str, Any]:
        """While indexing runs: its status; when it ends, the new sources list and header."""
        status = self.reindexer.status if self.reindexer else None
        if status is None:
            return gr.skip(), gr.skip(), gr.skip(), gr.Timer(active=False)
        lines = [status.message, *[f"Skipped {line}" for line in status.skipped]]
        if status.running:
            return render_upload_status(lines, True), gr.skip(), gr.skip(), gr.Timer(active=True)
        scope = self.scope(request)
        return (render_upload_status(lines, False), self.sources_html(scope),
                render_header(self.bot.describe(**scope)), gr.Timer(active=False))

    # -- page load

    def load(self, request: gr.Request) -> tuple[str, str, str, str, Any, str, Any]:
        """Fill the page from the current index; a ?source=&start=&end= URL opens that span.

        While the background indexer runs (files found unindexed at start, or an upload), the
        page shows its status and polls until it ends.
        """
        params = dict(request.query_params) if request is not None else {}
        source, scope = params.get("source"), self.scope(request)
        if source:
            viewer, tab = self.document_html(source, params.get("start"), params.get("end"), scope), "document"
        else:
            viewer, tab = VIEWER_START, "sources"
        return (
            render_header(self.bot.describe(**scope)),
            render_examples(self.bot.example_questions(4, **scope)),
            self.sources_html(scope),
            viewer,
            gr.Tabs(selected=tab),
            *self._status_on_load(),
        )

    def _status_on_load(self) -> tuple[str, Any]:
        status = self.reindexer.status if self.reindexer else None
        if status is None or not status.running:
            return gr.skip(), gr.skip()
        return render_upload_status([status.message], True), gr.Timer(active=True)

    # -- HTTP API

    def ask(self, question: str, history: list[str] | None = None, k: int = 5, request: gr.Request = None) -> dict:
        """Answer a question from the documents; returns the reply as JSON (see README)."""
        try:
            return reply_json(self.bot.ask(question, history=history or None, k=k, **self.scope(request)))
        except AssistantError as exc:
            # The caller's mistake, not the server's: one log line, no traceback on the console.
            # Anything else propagates, and Gradio prints its traceback and answers a generic error.
            log.info("refused question: %s", exc)
            raise gr.Error(str(exc), print_exception=False) from exc


# ---------------------------------------------------------------- app


def build_blocks(bot: Any, reindexer: Reindexer | None = None, auth: Any = None) -> gr.Blocks:
    """The page and the `ask` endpoint for an opened Assistant (tests pass their own).

    With a `reindexer` the Sources tab can add documents (uploaded into its corpus folder and
    indexed in the background) and remove them.
    """
    os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"  # read by Gradio at launch, not only here
    chat = WebChat(bot, reindexer=reindexer, auth=auth)
    private = {"api_visibility": "private", "concurrency_id": "assistant"}
    links = {"js_on_load": _static_js("links.js"), "apply_default_css": False}  # our CSS, not Gradio's prose
    with StrictBlocks(title="Document assistant", analytics_enabled=False) as app:
        turns = gr.State([])
        # With sign-in possible, the page's initial values name no document: load() fills them per user.
        public = auth is None
        header = gr.HTML(render_header(bot.describe()) if public else "", js_on_load=None, apply_default_css=False)
        gr.HTML(SIGN_OUT_FORM, elem_id="sign-out-box", apply_default_css=False, visible=bool(auth and auth.enabled()))
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
                        max_length=MAX_TYPED_CHARS,
                    )
                    ask_btn = gr.Button("Ask", variant="primary", scale=0, min_width=72, elem_id="ask")
                examples = gr.HTML(render_examples(bot.example_questions(4)) if public else "", elem_id="examples", **links)
            with gr.Column(scale=2, min_width=340, elem_id="viewer-col"):
                with gr.Tabs(selected="sources", elem_id="side-tabs") as tabs:
                    with gr.Tab("Document", id="document"):
                        viewer = gr.HTML(
                            VIEWER_START, elem_id="viewer", js_on_load=_static_js("viewer.js"), apply_default_css=False
                        )
                    with gr.Tab("Sources", id="sources"):
                        # No file_types: see upload.js (the picker still offers only the supported suffixes)
                        upload = gr.UploadButton(
                            "Add documents", file_count="multiple", type="filepath",
                            size="sm", elem_id="add-documents", visible=reindexer is not None)
                        upload_status = gr.HTML("", elem_id="upload-status", apply_default_css=False,
                                                js_on_load=_upload_js())
                        sources = gr.HTML(chat.sources_html() if public else "", elem_id="sources", **links)
                        poll = gr.Timer(1.0, active=False)
                        # Runs the page did not start (the corpus folder watched): the status and new Sources
                        watch = gr.Timer(WATCH_TICK_SECONDS, active=reindexer is not None)
                        seen_runs = gr.State(0)

        chat_out = [transcript, turns, question]
        # One event for Enter and the button, so a second submit waits for the pending answer.
        gr.on([question.submit, ask_btn.click], chat.respond, [question, turns], chat_out, show_progress="hidden", **private)
        examples.click(chat.respond_example, [turns], chat_out, show_progress="hidden", **private)
        clear_btn.click(chat.clear, None, chat_out, queue=False, api_visibility="private")
        transcript.click(chat.open_link, None, [viewer, tabs], show_progress="hidden", api_visibility="private")
        sources.click(chat.source_click, None, [viewer, tabs, upload_status, poll], show_progress="hidden",
                      api_visibility="private")
        app.load(chat.load, None, [header, examples, sources, viewer, tabs, upload_status, poll],
                 api_visibility="private")
        upload.upload(chat.add_documents, [upload], [upload_status, poll], api_visibility="private")
        poll.tick(chat.poll, None, [upload_status, sources, header, poll], show_progress="hidden",
                  api_visibility="private")
        watch.tick(chat.refresh, [seen_runs], [upload_status, sources, header, poll, seen_runs], show_progress="hidden",
                   api_visibility="private")
        gr.api(chat.ask, api_name="ask", concurrency_id="assistant")
    app.queue(max_size=QUEUE_MAX_SIZE, default_concurrency_limit=CONCURRENCY)
    return app

