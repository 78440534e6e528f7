"""The HTML rendering of replies, snippets, the viewer and the sources, without Gradio."""

from __future__ import annotations

from types import SimpleNamespace

from assistant.apps.web import render

SHARED_CARE = "Which company is building the shared care record in Cambridgeshire and Peterborough?"
XSS = "<img src=x onerror=alert(1)>"


def test_answer_sentence_is_marked_inside_its_passage_snippet(bot):
    reply = bot.ask(SHARED_CARE).to_dict()
    html_ = render.render_reply(reply)
    holder = next(p for p in reply["passages"] if render.answer_focus(reply, p))
    snippet = html_.split(render.esc(render.span_link(holder["source"], holder["start"], holder["end"])), 1)[1]
    snippet = snippet.split("</blockquote>", 1)[0]
    assert '<mark class="answer-mark">' in snippet
    assert "<strong>shared</strong> <strong>care</strong> <strong>record</strong>" in snippet


def test_notice_is_shown(bot):
    reply = bot.ask("care " * 1200).to_dict()
    assert "question truncated to 2000 characters" in render.render_reply(reply)


def test_document_and_user_text_are_escaped_everywhere():
    reply = {
        "question": XSS,
        "answer": XSS,
        "confident": True,
        "answer_source": "a.txt",
        "answer_start": 0,
        "answer_end": len(XSS),
        "notice": XSS,
        "passages": [
            {
                "rank": 1,
                "text": XSS + " more text",
                "source": 'a".txt',
                "title": XSS,
                "section": XSS,
                "start": 0,
                "end": len(XSS) + 10,
                "score": 0.9,
                "page": None,
                "line": 1,
                "strength": "strong",
            }
        ],
    }
    rendered = render.render_reply(reply)
    assert "<img" not in rendered and 'a".txt' not in rendered
    assert "<img" not in render.render_document(XSS, XSS, XSS + "\nbody", (0, 5), XSS)
    assert "<img" not in render.render_examples([XSS])
    sources = [SimpleNamespace(source=XSS, title=XSS, chunks=1, chars=10)]
    assert "<img" not in render.render_sources(sources)
    assert "<img" not in render.render_header(XSS)
    assert "<img" not in render.render_transcript([{"question": XSS}])
    assert "<img" not in render.render_error(XSS) + render.render_viewer_message(XSS)


def test_snippet_is_short_and_keeps_the_answer():
    text = "word " * 200 + "The answer sentence is here. " + "tail " * 200
    focus = (text.index("The answer"), text.index("here.") + 5)
    html_ = render.render_snippet(text, focus, ["answer"])
    assert html_.startswith("… ") and html_.endswith(" …")
    assert '<mark class="answer-mark">The <strong>answer</strong> sentence is here.</mark>' in html_
    assert len(html_) < render.SNIPPET_CHARS + 120


def test_span_link_is_a_relative_query():
    assert render.span_link("dir/a b.txt", 3, 9) == "?source=dir%2Fa+b.txt&start=3&end=9"
    assert render.span_link("a.txt") == "?source=a.txt"


def test_the_header_and_suggestions_show_control_and_bidi_characters_as_escapes():
    """A file named with U+202E (right-to-left override) reversed the header; names are escaped as the CLI shows them."""
    title = "Report\u202ecod.exe\x1b[31m"
    header = render.render_header(f"1 documents, 3 passages: {title}")
    suggestions = render.render_examples([f"What does {title} say about costs?"])
    for html_ in (header, suggestions):
        assert "\u202e" not in html_ and "\x1b" not in html_
        assert "Report\\u202ecod.exe\\x1b[31m" in html_


def test_files_not_read_are_listed_with_their_reasons_escaped():
    skipped = [SimpleNamespace(source=XSS + ".pdf", reason="unreadable PDF"), SimpleNamespace(source="a\x1b.txt", reason=XSS)]
    html_ = render.render_sources([], skipped=skipped)
    assert "<img" not in html_ and "2 files not read" in html_
    assert "a\\x1b.txt" in html_ and "\x1b" not in html_
    assert "unreadable PDF" in html_
    assert "not read" not in render.render_sources([])
