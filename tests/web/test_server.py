"""The running server's limits and console, over HTTP on 127.0.0.1 (the app runs in this process)."""

from __future__ import annotations

import httpx
import pytest

# Gradio's queue statistics use pandas options that pandas 3 deprecates; not ours to fix.
GRADIO_PANDAS_NOISE = "ignore:.*(no_silent_downcasting|copy keyword).*:DeprecationWarning"
pytestmark = [pytest.mark.slow, pytest.mark.filterwarnings(GRADIO_PANDAS_NOISE)]


def call_ask(server_url: str, question: str) -> str:
    """The event stream of one call to the `ask` endpoint, as a plain HTTP client sees it."""
    with httpx.Client(base_url=server_url + "gradio_api", timeout=60) as client:
        posted = client.post("/call/ask", json={"data": [question, [], 5]})
        posted.raise_for_status()
        return client.get(f"/call/ask/{posted.json()['event_id']}").text


def test_uploads_over_the_limit_are_refused(server_url, web_app):
    """The page takes no uploads, but Gradio's /upload route exists; it refuses anything over 1 MB."""
    too_big = b"x" * (1024 * 1024 + 1)
    with httpx.Client(base_url=server_url + "gradio_api", timeout=60) as client:
        response = client.post("/upload", files={"files": ("big.txt", too_big, "text/plain")})
    assert response.status_code == 413, response.text
    assert "maximum allowed size of 1048576 bytes" in response.text
    assert web_app.allowed_paths == []


def test_a_refused_question_prints_no_traceback(server_url, capfd, caplog):
    caplog.set_level("INFO", logger="assistant.apps.web.app")
    body = call_ask(server_url, "   ")
    assert "event: error" in body and '"error": "the question is empty"' in body
    out, err = capfd.readouterr()
    assert "Traceback" not in out + err + caplog.text
    refused = [r.getMessage() for r in caplog.records if r.name == "assistant.apps.web.app"]
    assert refused == ["refused question: the question is empty"]


def test_an_unexpected_error_still_prints_its_traceback(server_url, bot, monkeypatch, capfd):
    def broken(*args, **kwargs):
        raise RuntimeError("boom in the index")

    monkeypatch.setattr(bot, "ask", broken)  # the served WebChat holds this same object
    body = call_ask(server_url, "Who chairs the board?")
    assert "event: error" in body and "boom" not in body  # show_error=False: the caller learns nothing inside
    _, err = capfd.readouterr()
    assert "Traceback" in err and "RuntimeError: boom in the index" in err
