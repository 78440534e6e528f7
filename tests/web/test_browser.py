"""The page in real headless Chromium against the real app on 127.0.0.1."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest

# Gradio's queue statistics use pandas options that pandas 3 deprecates; not ours to fix.
GRADIO_PANDAS_NOISE = "ignore:.*(no_silent_downcasting|copy keyword).*:DeprecationWarning"
pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.filterwarnings(GRADIO_PANDAS_NOISE)]

SHARED_CARE = "Which company is building the shared care record in Cambridgeshire and Peterborough?"
FOLLOW_UP = "How long is their contract?"
OFF_TOPIC = "What is the boiling point of mercury on Mars?"
XSS = "<img src=x onerror=alert(1)>"
REPLIES = "#transcript .msg.bot:not(:has(.pending))"


def open_app(page, url: str, query: str = "") -> None:
    page.goto(url + query)
    page.wait_for_selector("textarea")


def ask(page, question: str) -> None:
    """Type a question, press Enter, and wait for its reply to replace the working indicator."""
    before = page.locator(REPLIES).count()
    page.fill("textarea", question)
    page.keyboard.press("Enter")
    page.wait_for_function("([sel, n]) => document.querySelectorAll(sel).length > n", arg=[REPLIES, before])


def last_reply(page):
    return page.locator(REPLIES).last


def viewer_mark_is_in_view(page) -> bool:
    """The cited span is inside the viewer's visible scroll area (it was scrolled to)."""
    return page.evaluate(
        """() => { const box = document.querySelector('#viewer .doc-text');
                   const m = document.querySelector('#viewer mark.cited');
                   if (!box || !m) return false;
                   const b = box.getBoundingClientRect(), r = m.getBoundingClientRect();
                   return r.top < b.bottom && r.bottom > b.top; }"""
    )


def test_question_gets_a_cited_answer(desktop, server_url, artifacts):
    open_app(desktop, server_url)
    assert "5 documents" in desktop.locator(".app-head .corpus").inner_text()
    desktop.wait_for_timeout(300)  # let the load event's fade finish before the screenshot
    desktop.screenshot(path=str(artifacts / "desktop-start.png"))
    ask(desktop, SHARED_CARE)
    reply = last_reply(desktop)
    assert "Orion Health" in reply.locator("p.answer mark.answer-mark").inner_text()
    assert "Healthcare in Cambridgeshire" in reply.locator(".citation").first.inner_text()
    assert reply.locator(".badge.strong").count() >= 1
    assert reply.locator(".snippet mark.answer-mark").count() == 1
    desktop.screenshot(path=str(artifacts / "desktop-answer.png"))


def test_citation_click_highlights_the_span_in_the_viewer(desktop, server_url, bot, artifacts):
    open_app(desktop, server_url)
    ask(desktop, SHARED_CARE)
    link = last_reply(desktop).locator(".citation a.cite").first
    href = link.get_attribute("href")
    link.click()
    mark = desktop.locator("#viewer mark.cited")
    mark.wait_for()
    passage = bot.ask(SHARED_CARE).passages[0]
    assert href == "?" + urlencode({"source": passage.source, "start": passage.start, "end": passage.end})
    assert mark.evaluate("m => m.textContent") == bot.read_source(passage.source)[passage.start : passage.end]
    assert desktop.locator("#viewer .place .section").inner_text() == passage.section
    desktop.wait_for_function("() => location.search.includes('start=')")
    assert desktop.url.endswith(href)  # the address bar now holds the shareable link
    desktop.wait_for_timeout(150)
    assert viewer_mark_is_in_view(desktop)
    desktop.screenshot(path=str(artifacts / "desktop-citation.png"))


def test_citation_link_opens_the_page_at_that_span(desktop, server_url, bot):
    passage = bot.ask(FOLLOW_UP, history=[SHARED_CARE]).passages[-1]
    query = "?" + urlencode({"source": passage.source, "start": passage.start, "end": passage.end})
    open_app(desktop, server_url, query)
    mark = desktop.locator("#viewer mark.cited")
    mark.wait_for()
    assert mark.evaluate("m => m.textContent") == passage.text
    assert passage.title in desktop.locator("#viewer h2").inner_text()
    desktop.wait_for_timeout(150)
    assert viewer_mark_is_in_view(desktop)


def test_link_to_a_file_outside_the_index_opens_nothing(desktop, server_url):
    open_app(desktop, server_url, "?" + urlencode({"source": "../pyproject.toml", "start": 0, "end": 10}))
    desktop.locator("#viewer .viewer-note", has_text="not one of the indexed documents").wait_for()
    assert desktop.locator("#viewer mark").count() == 0


def test_follow_up_question_uses_the_conversation(desktop, server_url):
    open_app(desktop, server_url)
    ask(desktop, SHARED_CARE)
    ask(desktop, FOLLOW_UP)
    assert "eight-year contract" in last_reply(desktop).locator("p.answer").inner_text()
    # The newest question is scrolled to the top of the chat, so its answer is on screen.
    top_gap = desktop.evaluate(
        """() => { const box = document.querySelector('#transcript > .html-container');
                   const q = [...box.querySelectorAll('.msg.user')].pop();
                   return q.getBoundingClientRect().top - box.getBoundingClientRect().top; }"""
    )
    assert 0 <= top_gap < 40


def test_off_topic_question_says_it_is_not_in_the_documents(desktop, server_url, artifacts):
    open_app(desktop, server_url)
    ask(desktop, OFF_TOPIC)
    reply = last_reply(desktop)
    assert reply.locator("p.not-found").inner_text() == "I couldn't find this in the documents."
    assert reply.locator(".badge.weak").count() >= 1 and reply.locator(".badge.strong").count() == 0
    desktop.screenshot(path=str(artifacts / "desktop-off-topic.png"))


def test_typed_html_shows_as_text(desktop, server_url):
    open_app(desktop, server_url)
    ask(desktop, XSS)
    assert desktop.locator("#transcript .msg.user").last.inner_text() == XSS
    template = "care ${alert(2)} `{{value}}` </div><script>alert(3)</script>"  # Gradio templates are JS + Handlebars
    ask(desktop, template)
    assert desktop.locator("#transcript .msg.user").last.inner_text() == template
    assert desktop.locator("#transcript img").count() == 0
    desktop.wait_for_timeout(300)
    assert desktop.watch.dialogs == []


def test_examples_sources_and_clear(desktop, server_url, bot):
    open_app(desktop, server_url)
    examples = desktop.locator("#examples button.example")
    assert examples.count() == 4
    examples.first.click()
    desktop.wait_for_selector(REPLIES)
    assert desktop.locator("#transcript .msg.user").first.inner_text() == bot.example_questions(4)[0]
    desktop.get_by_role("tab", name="Sources").click()
    rows = desktop.locator("#sources a.open-source")
    assert rows.count() == len(bot.sources())
    source = bot.sources()[1]
    rows.nth(1).click()
    desktop.locator("#viewer h2", has_text=source.title).wait_for()
    assert desktop.locator("#viewer mark").count() == 0
    desktop.click("#clear")
    desktop.locator("#transcript .chat.empty").wait_for()
    ask(desktop, SHARED_CARE)  # still works after clearing, with no stale history
    assert desktop.locator("#transcript .msg.user").count() == 1


def test_page_requests_nothing_outside_localhost(desktop, server_url):
    open_app(desktop, server_url)
    ask(desktop, SHARED_CARE)
    last_reply(desktop).locator("a.cite").first.click()
    desktop.locator("#viewer mark.cited").wait_for()
    assert desktop.watch.requests, "no requests were recorded"
    assert desktop.watch.outside_hosts() == []


def test_phone_width_is_readable(phone, server_url, artifacts):
    open_app(phone, server_url)
    phone.wait_for_timeout(300)
    phone.screenshot(path=str(artifacts / "phone-start.png"), full_page=True)
    ask(phone, SHARED_CARE)
    phone.screenshot(path=str(artifacts / "phone-answer.png"))
    last_reply(phone).locator(".citation a.cite").first.click()
    phone.locator("#viewer mark.cited").wait_for()
    phone.wait_for_timeout(150)
    assert viewer_mark_is_in_view(phone)
    assert phone.evaluate("() => document.documentElement.scrollWidth") <= 390
    phone.screenshot(path=str(artifacts / "phone-citation.png"))
    phone.screenshot(path=str(artifacts / "phone-full.png"), full_page=True)
