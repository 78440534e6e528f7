"""The web chat: a Gradio page and an `ask` HTTP endpoint, both thin layers over `Assistant`."""

# No `from __future__ import annotations` here: Gradio reads the handlers' annotations at
# runtime (gr.Request, gr.EventData, and the typed `ask` endpoint) and cannot use strings.

import atexit
import contextlib
import inspect
import json
import logging
import os
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import gradio as gr
from starlette.middleware import Middleware

from assistant.api import MAX_QUESTION_CHARS, clean_question
from assistant.apps.web.display import display_blocks
from assistant.apps.web.files import original_link, original_route
from assistant.apps.web.limits import UPLOAD_LIMITS, RequestLimits, make_temp_folder, remove_temp_folder
from assistant.apps.web.origin import GuardCheck, allowed_hosts, install_outermost
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
from assistant.apps.web.uploads import (
    MAX_UPLOAD_BYTES,
    UPLOAD_ENV,
    Reindexer,
    check_upload,
    remove_partial_uploads,
    remove_source,
    save_upload,
    unindexed_files,
)
from assistant.config import CONCURRENCY, MAX_FILE_SIZE, MAX_TURNS, MAX_TYPED_CHARS, QUEUE_MAX_SIZE, env
from assistant.errors import AssistantError
from assistant.ingest.readers import SUFFIXES
from assistant.ingest.sandbox import Sandbox
from assistant.ingest.watch import WATCH_ENV, CorpusWatcher, describe, watch_setting

log = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).with_name("static")
UPLOAD_FILE_SIZE = f"{MAX_UPLOAD_BYTES // (1024 * 1024)}mb"  # with it, one document's limit
WATCH_TICK_SECONDS = 3.0  # how soon a page notices a run started by a change in the corpus folder
MONITORING_ENV = "ASSISTANT_MONITORING"  # "1" turns on Gradio's /monitoring dashboard (off by default)


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


def _discard_upload(path: Path) -> None:
    """Delete Gradio's temporary copy of an upload once it is saved (or refused): it counts against
    the app's upload space until then. Only files inside the app's own temporary folder are touched."""
    folder = os.environ.get("GRADIO_TEMP_DIR")
    if folder and Path(folder).resolve() in path.resolve().parents:
        with contextlib.suppress(OSError):
            path.unlink()


class WebChat:
    """The page's event handlers, bound to one Assistant; tests call these directly."""

    def __init__(self, bot: Any, k: int = 5, reindexer: Reindexer | None = None) -> None:
        self.bot = bot
        self.k = k
        self.reindexer = reindexer
        self.sandbox = Sandbox()  # PDF pages are rendered by a worker process, never by the web process

    # -- chat

    def answer_html(self, question: str, history: list[str]) -> tuple[str, bool]:
        """One reply as HTML, and whether it succeeded; errors become a message, never a traceback."""
        try:
            reply = self.bot.ask(question, history=history or None, k=self.k)
        except AssistantError as exc:
            log.info("refused question: %s", exc)
            return render_error(str(exc)), False
        except Exception:  # noqa: BLE001 - the page must stay usable whatever happens
            log.exception("answering %r failed", question)
            return render_error("Something went wrong while answering. Please try again."), False
        document = self.bot.document(reply.answer_source) if reply.answer_source else None
        return render_reply(reply.to_dict(), document), True

    def respond(self, question: str, turns: list[dict]) -> Iterator[tuple[str, list[dict], str]]:
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
        body, ok = self.answer_html(question, history)
        done = [*turns, {"question": shown, "html": body, "ok": ok}]
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
            document = self.bot.document(info.source)
        except AssistantError as exc:
            return render_viewer_message(str(exc))
        text, blocks = document.text, display_blocks(document)
        lo, hi = _to_int(start), _to_int(end)
        if lo is None or hi is None or not 0 <= lo < hi <= len(text):
            return render_document(info.title, info.source, text, None, blocks=blocks,
                                   original=self.original_of(document, None), code=document.spans)
        page = document.page_at(lo)
        return render_document(info.title, info.source, text, (lo, hi), self.section_of(info.source, lo), page,
                               blocks=blocks, page_image=self.page_image(document, lo, hi),
                               original=self.original_of(document, page), code=document.spans)

    def original_of(self, document: Any, page: int | None) -> tuple[str, str] | None:
        """(link, label) to the original file of a PDF, Word or HTML document; plain text is its own original."""
        if document.format == "text":
            return None
        if document.format == "pdf":
            return original_link(document.source, page), f"Open the original PDF{f' at p. {page}' if page else ''}"
        return original_link(document.source), "Download the original file"

    def page_image(self, document: Any, start: int, end: int) -> Any:
        """The PDF page of a span with the span drawn on it; None for other formats or a changed file."""
        if document.format not in ("pdf", "image"):  # an image is a one-page scan, drawn the same way
            return None
        try:
            return self.sandbox.page_view(self.bot.original(document.source), start, end)
        except AssistantError as exc:
            log.info("no page image: %s", exc)
            return None

    def section_of(self, source: str, start: int) -> str:
        """Section path of a span, from the indexed passage that holds its start (its page is the document's)."""
        passage = self.bot.locate(source, start)
        return passage.section if passage else ""

    def open_link(self, evt: gr.EventData) -> tuple[str, Any]:
        """A click on a citation or a source: show it in the viewer's Document tab."""
        source = str(getattr(evt, "source", ""))
        viewer = self.document_html(source, getattr(evt, "start", None), getattr(evt, "end", None))
        return viewer, gr.Tabs(selected="document")

    # -- adding and removing documents

    def add_documents(self, files: list[Any] | None) -> tuple[str, Any]:
        """Save uploaded files into the corpus and start indexing them; refused files say why."""
        if self.reindexer is None:
            return render_upload_status(["Adding documents is turned off for this app."], False), gr.Timer(active=False)
        lines, saved = [], []
        for item in files or []:
            path = Path(item if isinstance(item, str) else getattr(item, "name", ""))
            try:
                reason = check_upload(path.name, path.stat().st_size)
                if reason is None:
                    saved.append(save_upload(self.reindexer.corpus, path.name, path))
            except (AssistantError, OSError) as exc:
                reason = str(exc)
            _discard_upload(path)
            if reason:
                lines.append(f"Not added: {reason}")
        if saved:
            self.reindexer.request(f"added {', '.join(saved)}")
            lines.insert(0, self.reindexer.status.message)
        return render_upload_status(lines, bool(saved)), gr.Timer(active=bool(saved))

    def remove(self, source: str) -> tuple[str, Any]:
        """Take an indexed document out of the corpus (moved aside, not deleted) and re-index."""
        if self.reindexer is None:
            return render_upload_status(["Removing documents is turned off for this app."], False), gr.skip()
        try:
            remove_source(self.reindexer.corpus, source, {s.source for s in self.bot.sources()})
        except AssistantError as exc:
            return render_upload_status([str(exc)], False), gr.skip()
        self.reindexer.request(f"removed {source}")
        return render_upload_status([self.reindexer.status.message], True), gr.Timer(active=True)

    def sources_html(self) -> str:
        """The Sources view as it stands: indexed documents, then the files not read and why."""
        return render_sources(self.bot.sources(), removable=self.reindexer is not None, skipped=self.bot.skipped())

    def refresh(self, seen: Any) -> tuple[Any, Any, Any, Any, int]:
        """Every few seconds: a run the page did not start (a file changed in the corpus folder) shows its
        status while it runs, and the new Sources list once it ends; otherwise nothing is sent."""
        if self.reindexer is None:
            return gr.skip(), gr.skip(), gr.skip(), gr.skip(), 0
        status, runs = self.reindexer.status, self.reindexer.runs
        if status.running:
            return render_upload_status([status.message], True), gr.skip(), gr.skip(), gr.Timer(active=True), runs
        if runs == _to_int(seen):
            return gr.skip(), gr.skip(), gr.skip(), gr.skip(), runs
        return gr.skip(), self.sources_html(), render_header(self.bot.describe()), gr.skip(), runs

    def source_click(self, evt: gr.EventData) -> tuple[Any, Any, Any, Any]:
        """A click in the Sources view: open a document, or remove one."""
        removed = getattr(evt, "remove", None)
        if removed:
            return (gr.skip(), gr.skip(), *self.remove(str(removed)))
        return (*self.open_link(evt), gr.skip(), gr.skip())

    def poll(self) -> tuple[str, str, str, Any]:
        """While indexing runs: its status; when it ends, the new sources list and header."""
        status = self.reindexer.status if self.reindexer else None
        if status is None:
            return gr.skip(), gr.skip(), gr.skip(), gr.Timer(active=False)
        lines = [status.message, *[f"Skipped {line}" for line in status.skipped]]
        if status.running:
            return render_upload_status(lines, True), gr.skip(), gr.skip(), gr.Timer(active=True)
        return (render_upload_status(lines, False), self.sources_html(),
                render_header(self.bot.describe()), gr.Timer(active=False))

    # -- page load

    def load(self, request: gr.Request) -> tuple[str, str, str, str, Any, str, Any]:
        """Fill the page from the current index; a ?source=&start=&end= URL opens that span.

        While the background indexer runs (files found unindexed at start, or an upload), the
        page shows its status and polls until it ends.
        """
        params = dict(request.query_params) if request is not None else {}
        source = params.get("source")
        if source:
            viewer, tab = self.document_html(source, params.get("start"), params.get("end")), "document"
        else:
            viewer, tab = VIEWER_START, "sources"
        return (
            render_header(self.bot.describe()),
            render_examples(self.bot.example_questions(4)),
            self.sources_html(),
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

    def ask(self, question: str, history: list[str] | None = None, k: int = 5) -> dict:
        """Answer a question from the documents; returns the reply as JSON (see README)."""
        try:
            return self.bot.ask(question, history=history or None, k=k).to_dict()
        except AssistantError as exc:
            # The caller's mistake, not the server's: one log line, no traceback on the console.
            # Anything else propagates, and Gradio prints its traceback and answers a generic error.
            log.info("refused question: %s", exc)
            raise gr.Error(str(exc), print_exception=False) from exc


# ---------------------------------------------------------------- app


class _Blocks(gr.Blocks):
    """Gradio's Blocks, with a call that lacks values refused in one line (Gradio raises ValueError,
    prints a traceback and tells the client nothing: `{"error": null}`)."""

    def validate_inputs(self, block_fn, inputs):
        if len(inputs) < len(block_fn.inputs):
            try:
                names = " (" + ", ".join(list(inspect.signature(block_fn.fn).parameters)[: len(block_fn.inputs)]) + ")"
            except (TypeError, ValueError):
                names = ""
            raise gr.Error(f"{block_fn.name or 'this endpoint'} takes {len(block_fn.inputs)} values{names}; "
                           f"got {len(inputs)}", print_exception=False)
        return super().validate_inputs(block_fn, inputs)


def build_blocks(bot: Any, reindexer: Reindexer | None = None) -> gr.Blocks:
    """The page and the `ask` endpoint for an opened Assistant (tests pass their own).

    With a `reindexer` the Sources tab can add documents (uploaded into its corpus folder and
    indexed in the background) and remove them.
    """
    os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"  # read by Gradio at launch, not only here
    chat = WebChat(bot, reindexer=reindexer)
    private = {"api_visibility": "private", "concurrency_id": "assistant"}
    links = {"js_on_load": _static_js("links.js"), "apply_default_css": False}  # our CSS, not Gradio's prose
    with _Blocks(title="Document assistant", analytics_enabled=False) as app:
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
                        max_length=MAX_TYPED_CHARS,
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
                        # No file_types: see upload.js (the picker still offers only the supported suffixes)
                        upload = gr.UploadButton(
                            "Add documents", file_count="multiple", type="filepath",
                            size="sm", elem_id="add-documents", visible=reindexer is not None)
                        upload_status = gr.HTML("", elem_id="upload-status", apply_default_css=False,
                                                js_on_load=_upload_js())
                        sources = gr.HTML(chat.sources_html(), elem_id="sources", **links)
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


def build_app(index_dir: str | Path, uploads: bool = False) -> tuple[gr.Blocks, Any]:
    """Open the index (loading the model once) and build the page on it; `uploads` adds documents."""
    from assistant import Assistant

    bot = Assistant.open(index_dir)
    bot.verify_in_background()
    reindexer = Reindexer(bot.corpus_dir, bot.index_dir, bot.embedder) if uploads else None
    if reindexer is not None:
        catch_up(reindexer, {s.source for s in bot.sources()})
        start_watching(reindexer)
    return build_blocks(bot, reindexer), bot


def start_watching(reindexer: Reindexer) -> CorpusWatcher | None:
    """Keep the index in step with files changed in the corpus folder by other means than the page
    (a copy, an editor, a sync tool); off with ASSISTANT_WATCH=0. Runs go through the one Reindexer."""
    setting = watch_setting()
    if setting == "off" or not reindexer.corpus.is_dir():
        return None
    watcher = CorpusWatcher(reindexer.corpus, lambda sources: reindexer.request(describe(sources)),
                            ignore=reindexer.index_dir, polling=setting == "poll").start()
    atexit.register(watcher.stop)
    return watcher


def catch_up(reindexer: Reindexer, indexed: set[str]) -> None:
    """After a crash: half-written uploads are deleted, and files saved but never indexed are indexed now."""
    for name in remove_partial_uploads(reindexer.corpus):
        log.warning("removed a partial upload left by a stopped app: %s", name)
    waiting = unindexed_files(reindexer.corpus, indexed)
    if waiting:
        reindexer.request(f"{len(waiting)} file{'s' if len(waiting) != 1 else ''} in the corpus not indexed yet")


def uploads_allowed(server_name: str, refused: bool = False) -> bool:
    """Adding documents from the page: on by default only on this machine's loopback address.

    ASSISTANT_UPLOAD=0 (or --no-upload) turns it off; ASSISTANT_UPLOAD=1 turns it on for an
    app exposed beyond this machine (see SECURITY.md first).
    """
    setting = env(UPLOAD_ENV).strip()
    if refused or setting == "0":
        return False
    return setting == "1" or server_name in ("127.0.0.1", "localhost", "::1")


def launch_options(server_name: str | None = None, server_port: int | None = None,
                   uploads: bool = False, bot: Any = None) -> dict[str, Any]:
    """launch() arguments shared by main() and the tests (Gradio 6 takes css and theme here).

    Each call makes the temporary folder that server will own (Gradio's uploads go there, via
    GRADIO_TEMP_DIR, read when the server starts); it is removed when the server stops, and a
    folder left by a process that was killed is removed by the next start. With `bot`, the app
    also serves the originals of its indexed documents (web_files.py); with `uploads`, the upload
    route takes documents up to the "Add documents" limit.

    The app answers only to its own host names and origin (web_origin.py): the lifespan wraps the
    whole app in HostOriginGuard before the server accepts a connection, and GuardCheck refuses
    everything should that ever not have happened. A bad ASSISTANT_ALLOWED_HOSTS raises AssistantError.
    """
    server_name = server_name or env("GRADIO_SERVER_NAME")
    hosts = allowed_hosts(server_name)
    folder = make_temp_folder()
    os.environ["GRADIO_TEMP_DIR"] = str(folder)
    atexit.register(remove_temp_folder, folder)

    @contextlib.asynccontextmanager
    async def lifespan(app):
        install_outermost(app, hosts)
        try:
            yield
        finally:
            remove_temp_folder(folder)

    limits = Middleware(RequestLimits, upload_dir=folder, **(UPLOAD_LIMITS if uploads else {}))
    return {
        "app_kwargs": {"middleware": [Middleware(GuardCheck), limits], "lifespan": lifespan,
                       "routes": [original_route(bot)] if bot is not None else []},
        "enable_monitoring": env(MONITORING_ENV) == "1",
        "server_name": server_name,
        "server_port": server_port or int(env("GRADIO_SERVER_PORT")),
        "share": False,
        "show_error": False,
        "ssr_mode": False,
        "footer_links": ["api"],
        # allowed_paths stays unset: Gradio serves no files of ours
        "max_file_size": UPLOAD_FILE_SIZE if uploads else MAX_FILE_SIZE,
        "css_paths": [STATIC_DIR / "web.css"],
        # Gradio's subdued grey (zinc-400) is 1.9:1 on white; zinc-600 is 7.7:1. Dark mode keeps its own.
        "theme": gr.themes.Default(primary_hue="blue").set(body_text_color_subdued="*neutral_600"),
    }


def _interrupt(signum: int, frame: Any) -> None:
    signal.signal(signal.SIGTERM, signal.SIG_IGN)  # a second `kill` while closing must not cut the clean-up short
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> None:
    """Serve the page on 127.0.0.1:7860 unless GRADIO_SERVER_NAME / GRADIO_SERVER_PORT say otherwise."""
    import argparse

    parser = argparse.ArgumentParser(prog="app.py", description="Serve the document assistant's web chat.")
    parser.add_argument("--no-upload", action="store_true",
                        help=f"no 'Add documents' control (also: {UPLOAD_ENV}=0); it is on by default only on 127.0.0.1")
    parser.add_argument("--no-watch", action="store_true",
                        help=f"do not watch the corpus folder for changed files (also: {WATCH_ENV}=0)")
    args = parser.parse_args(argv)
    if args.no_watch:
        os.environ[WATCH_ENV] = "0"
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    index_dir = env("ASSISTANT_STORE") or env("ASSISTANT_INDEX")
    uploads = uploads_allowed(env("GRADIO_SERVER_NAME"), args.no_upload)
    try:
        allowed_hosts(env("GRADIO_SERVER_NAME"))  # a bad setting stops us before the model loads
        app, bot = build_app(index_dir, uploads=uploads)
    except AssistantError as exc:
        raise SystemExit(f"error: {exc}") from None
    # `kill` (SIGTERM) stops the app as Ctrl-C does, so its temporary folder is removed.
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        app.launch(**launch_options(uploads=uploads, bot=bot))
    except KeyboardInterrupt:  # Ctrl-C or `kill` during shutdown: Gradio has closed the server already
        pass


if __name__ == "__main__":
    main()
