"""The web handlers (the page's events and the `ask` endpoint), called in-process on the real seed index."""

from __future__ import annotations

import logging
from types import SimpleNamespace

import gradio as gr
import pytest

from assistant.apps.web import app as web
from assistant.apps.web import render, serve
from assistant.apps.web.app import WebChat

SHARED_CARE = "Which company is building the shared care record in Cambridgeshire and Peterborough?"
FOLLOW_UP = "How long is their contract?"
OFF_TOPIC = "What is the boiling point of mercury on Mars?"
XSS = "<img src=x onerror=alert(1)>"


@pytest.fixture(scope="module")
def chat(bot) -> WebChat:
    return WebChat(bot)


def final(chat: WebChat, question: str, turns: list | None = None):
    """Run the streaming handler to its end; returns (transcript html, turns, textbox)."""
    steps = list(chat.respond(question, turns or []))
    return steps[-1]


def test_respond_shows_the_question_at_once_then_the_cited_answer(chat):
    steps = list(chat.respond(SHARED_CARE, []))
    assert len(steps) == 2
    pending_html, pending_turns, box = steps[0]
    assert "Searching the documents" in pending_html and box == "" and pending_turns == []
    html_, turns, box = steps[1]
    assert '<mark class="answer-mark">The Cambridgeshire and Peterborough Integrated Care System signed an eight-year' in html_
    assert "Orion Health" in html_
    assert "Healthcare in Cambridgeshire" in html_ and "strong match" in html_
    assert "[1]" in html_ and '<ol class="citations">' in html_
    assert turns == [{"question": SHARED_CARE, "html": turns[0]["html"], "ok": True}]


def test_follow_up_uses_earlier_questions(chat):
    _, turns, _ = final(chat, SHARED_CARE)
    html_, turns, _ = final(chat, FOLLOW_UP, turns)
    assert len(turns) == 2
    assert "eight-year contract" in turns[1]["html"]
    assert html_.count('class="msg user"') == 2


def test_off_topic_says_so_and_offers_weak_passages(chat):
    html_, turns, _ = final(chat, OFF_TOPIC)
    body = turns[0]["html"]
    assert "I couldn&#x27;t find this in the documents." in body
    assert "weak match" in body and "strong match" not in body
    assert "answer-mark" not in body


def test_user_errors_become_a_message_not_a_traceback(chat, caplog):
    caplog.set_level(logging.INFO, logger="assistant.apps.web.app")
    html_, turns, _ = final(chat, "???")
    assert '<p class="error">the question has no words in it</p>' in html_
    assert turns[0]["ok"] is False
    assert [(r.getMessage(), r.exc_info) for r in caplog.records] == [("refused question: the question has no words in it", None)]
    # A failed turn is not sent as history for the next question.
    _, turns, _ = final(chat, SHARED_CARE, turns)
    assert turns[1]["ok"] is True


def test_unexpected_errors_are_caught_and_logged(caplog):
    class Broken:
        def ask(self, *args, **kwargs):
            raise RuntimeError("boom")

    html_, turns, _ = final(WebChat(Broken()), "anything")
    assert "Something went wrong" in html_ and "boom" not in html_ and "Traceback" not in html_
    assert "boom" in caplog.text
    assert caplog.records[-1].exc_info is not None  # the server's log keeps the traceback


def test_blank_question_does_nothing(chat):
    assert list(chat.respond("   ", [])) == [(render.render_transcript([]), [], "")]


def test_question_and_document_text_are_escaped(chat):
    html_, turns, _ = final(chat, XSS)
    assert "<img" not in html_
    assert "&lt;img src=x onerror=alert(1)&gt;" in html_


def test_clear_resets_the_chat(chat):
    assert chat.clear() == (render.render_transcript([]), [], "")


def test_citation_opens_the_span_in_the_viewer_with_its_section(chat, bot):
    passage = next(p for p in bot.ask(SHARED_CARE).passages if p.section)
    evt = gr.EventData(None, {"source": passage.source, "start": str(passage.start), "end": str(passage.end)})
    viewer, tabs = chat.open_link(evt)
    assert f'<mark class="cited">{render.esc(passage.text)}</mark>' in viewer
    assert f'<span class="section">{render.esc(passage.section)}</span>' in viewer
    assert render.esc(passage.title) in viewer and "Link to this passage" in viewer
    assert tabs.selected == "document"


def test_viewer_only_opens_indexed_files(chat, bot, monkeypatch):
    calls = []
    monkeypatch.setattr(bot, "read_source", lambda source: calls.append(source) or "")
    for source in ("../../../etc/passwd", "/etc/passwd", "corpus/../pyproject.toml", ""):
        viewer = chat.document_html(source, 0, 10)
        assert "is not one of the indexed documents" in viewer and "<mark" not in viewer
    assert calls == []


@pytest.mark.parametrize("start,end", [("x", "5"), ("10", "5"), ("-1", "5"), ("0", "99999999"), (None, None)])
def test_a_bad_span_opens_the_whole_document_unmarked(chat, bot, start, end):
    source = bot.sources()[0]
    viewer = chat.document_html(source.source, start, end)
    assert "<mark" not in viewer and render.esc(source.title) in viewer


def test_load_opens_the_span_named_in_the_url(chat, bot):
    passage = bot.ask(SHARED_CARE).passages[0]
    request = SimpleNamespace(query_params={"source": passage.source, "start": str(passage.start), "end": str(passage.end)})
    header, examples, sources, viewer, tabs, *_ = chat.load(request)
    assert "5 documents" in header
    assert examples.count('class="example"') == 4
    assert sources.count('class="open-source"') == len(bot.sources())
    assert f'<mark class="cited">{render.esc(passage.text)}</mark>' in viewer
    assert tabs.selected == "document"


def test_load_without_a_url_shows_the_sources(chat):
    _, _, _, viewer, tabs, *_ = chat.load(SimpleNamespace(query_params={}))
    assert viewer == render.VIEWER_START and tabs.selected == "sources"


def test_example_click_asks_the_question(chat):
    steps = list(chat.respond_example([], gr.EventData(None, {"question": SHARED_CARE})))
    assert "Orion Health" in steps[-1][0]


def test_ask_endpoint_returns_the_contract(chat, bot):
    result = chat.ask(SHARED_CARE)
    assert result == bot.ask(SHARED_CARE).to_dict()
    assert chat.ask(FOLLOW_UP, [SHARED_CARE], 2)["passages"][0]["rank"] == 1
    with pytest.raises(gr.Error, match="k must be a whole number"):
        chat.ask(SHARED_CARE, None, 0)


def test_refused_api_question_logs_one_line_and_no_traceback(chat, caplog, capsys):
    caplog.set_level(logging.INFO, logger="assistant.apps.web.app")
    with pytest.raises(gr.Error, match="the question is empty") as raised:
        chat.ask("   ")
    assert raised.value.print_exception is False  # Gradio's queue would print the traceback otherwise
    assert [(r.getMessage(), r.exc_info) for r in caplog.records] == [("refused question: the question is empty", None)]
    assert "Traceback" not in caplog.text + capsys.readouterr().err


def test_launch_options_are_local_and_private(monkeypatch):
    monkeypatch.delenv("GRADIO_SERVER_NAME", raising=False)
    monkeypatch.delenv("GRADIO_SERVER_PORT", raising=False)
    options = serve.launch_options()
    assert (options["server_name"], options["server_port"], options["share"]) == ("127.0.0.1", 7860, False)
    monkeypatch.setenv("GRADIO_SERVER_NAME", "0.0.0.0")
    monkeypatch.setenv("GRADIO_SERVER_PORT", "9000")
    assert (serve.launch_options()["server_name"], serve.launch_options()["server_port"]) == ("0.0.0.0", 9000)
    assert all(path.exists() for path in options["css_paths"])
    assert options["max_file_size"] == serve.MAX_FILE_SIZE and "allowed_paths" not in options


def test_app_has_a_bounded_queue_one_api_and_no_analytics(web_app):
    assert web_app._queue.max_size == web.QUEUE_MAX_SIZE
    assert web_app._queue.default_concurrency_limit == web.CONCURRENCY
    assert web_app.analytics_enabled is False
    public = [d.api_name for d in web_app.fns.values() if d.api_visibility == "public"]
    assert public == ["ask"]
