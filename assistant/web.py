"""The web chat: a Gradio page and an `ask` HTTP endpoint, both thin layers over `Assistant`."""

# No `from __future__ import annotations` here: Gradio reads the handlers' annotations at
# runtime (gr.Request, gr.EventData, and the typed `ask` endpoint) and cannot use strings.

import atexit
import contextlib
import inspect
import logging
import os
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import gradio as gr
from starlette.middleware import Middleware

from assistant.assistant import MAX_QUESTION_CHARS, clean_question
from assistant.errors import AssistantError
from assistant.web_limits import RequestLimits, make_temp_folder, remove_temp_folder
from assistant.web_render import (
    VIEWER_START,
    render_document,
    render_error,
    render_examples,
    render_header,
    render_reply,
    render_sources,
    render_transcript,
    render_viewer_message,
)

log = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).with_name("static")
QUEUE_MAX_SIZE = 64  # beyond this Gradio answers "This application is currently busy. Please try again."
CONCURRENCY = 2  # one model call per core on a 2-core machine
MAX_FILE_SIZE = "1mb"  # the page takes no uploads; this bounds each file Gradio's /upload route accepts
MAX_TURNS = 30  # turns the page keeps in its transcript; older ones leave the page, not the index
MAX_TYPED_CHARS = 10 * MAX_QUESTION_CHARS  # the question box's own limit; the server cuts to MAX_QUESTION_CHARS
MONITORING_ENV = "ASSISTANT_MONITORING"  # "1" turns on Gradio's /monitoring dashboard (off by default)


def _static_js(name: str) -> str:
    """Client-side glue for gr.HTML's js_on_load, kept as plain .js files beside the CSS."""
    return (STATIC_DIR / name).read_text(encoding="utf-8")


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
            log.info("refused question: %s", exc)
            return render_error(str(exc)), False
        except Exception:  # noqa: BLE001 - the page must stay usable whatever happens
            log.exception("answering %r failed", question)
            return render_error("Something went wrong while answering. Please try again."), False
        return render_reply(reply.to_dict()), True

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


def build_blocks(bot: Any) -> gr.Blocks:
    """The page and the `ask` endpoint for an opened Assistant (tests pass their own)."""
    os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"  # read by Gradio at launch, not only here
    chat = WebChat(bot)
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
    """launch() arguments shared by main() and the tests (Gradio 6 takes css and theme here).

    Each call makes the temporary folder that server will own (Gradio's uploads go there, via
    GRADIO_TEMP_DIR, read when the server starts); it is removed when the server stops, and a
    folder left by a process that was killed is removed by the next start.
    """
    folder = make_temp_folder()
    os.environ["GRADIO_TEMP_DIR"] = str(folder)
    atexit.register(remove_temp_folder, folder)

    @contextlib.asynccontextmanager
    async def lifespan(_app):
        try:
            yield
        finally:
            remove_temp_folder(folder)

    return {
        "app_kwargs": {"middleware": [Middleware(RequestLimits, upload_dir=folder)], "lifespan": lifespan},
        "enable_monitoring": os.environ.get(MONITORING_ENV) == "1",
        "server_name": server_name or os.environ.get("GRADIO_SERVER_NAME") or "127.0.0.1",
        "server_port": server_port or int(os.environ.get("GRADIO_SERVER_PORT") or 7860),
        "share": False,
        "show_error": False,
        "ssr_mode": False,
        "footer_links": ["api"],
        "max_file_size": MAX_FILE_SIZE,  # allowed_paths stays unset: Gradio serves no files of ours
        "css_paths": [STATIC_DIR / "web.css"],
        # Gradio's subdued grey (zinc-400) is 1.9:1 on white; zinc-600 is 7.7:1. Dark mode keeps its own.
        "theme": gr.themes.Default(primary_hue="blue").set(body_text_color_subdued="*neutral_600"),
    }


def _interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def main() -> None:
    """Serve the page on 127.0.0.1:7860 unless GRADIO_SERVER_NAME / GRADIO_SERVER_PORT say otherwise."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    index_dir = os.environ.get("ASSISTANT_INDEX") or "index"
    try:
        app = build_app(index_dir)
    except AssistantError as exc:
        raise SystemExit(f"error: {exc}") from None
    # `kill` (SIGTERM) stops the app as Ctrl-C does, so its temporary folder is removed.
    signal.signal(signal.SIGTERM, _interrupt)
    app.launch(**launch_options())


if __name__ == "__main__":
    main()
