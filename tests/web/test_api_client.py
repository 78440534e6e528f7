"""The `ask` HTTP endpoint through gradio_client, as a user of the API would call it."""

from __future__ import annotations

import threading
import time

import pytest

# Gradio's queue statistics use pandas options that pandas 3 deprecates; not ours to fix.
GRADIO_PANDAS_NOISE = "ignore:.*(no_silent_downcasting|copy keyword).*:DeprecationWarning"
pytestmark = [pytest.mark.slow, pytest.mark.filterwarnings(GRADIO_PANDAS_NOISE)]

SHARED_CARE = "Which company is building the shared care record in Cambridgeshire and Peterborough?"
CONTRACT_KEYS = {"question", "answer", "confident", "answer_source", "answer_start", "answer_end", "notice", "passages",
                 "answer_page"}
PASSAGE_KEYS = {"rank", "text", "source", "title", "section", "start", "end", "score", "page", "line", "strength",
                "chunk_id"}


@pytest.fixture(scope="module")
def client(server_url):
    from gradio_client import Client

    return Client(server_url, verbose=False)


def test_ask_returns_the_reply_json(client, bot):
    result = client.predict(question=SHARED_CARE, api_name="/ask")
    assert set(result) == CONTRACT_KEYS
    assert result == bot.ask(SHARED_CARE).to_dict()
    assert result["confident"] is True and "Orion Health" in result["answer"]
    passage = result["passages"][0]
    assert set(passage) == PASSAGE_KEYS
    assert bot.read_source(passage["source"])[passage["start"] : passage["end"]] == passage["text"]


def test_ask_takes_history_and_k(client):
    result = client.predict(question="How long is their contract?", history=[SHARED_CARE], api_name="/ask")
    assert "eight-year contract" in result["answer"]
    result = client.predict(question=SHARED_CARE, k=2, api_name="/ask")
    assert [p["rank"] for p in result["passages"]] == [1, 2]


def test_ask_user_error_is_a_clear_message(client):
    from gradio_client.exceptions import AppError

    with pytest.raises(AppError, match="k must be a whole number from 1 to 50"):
        client.predict(question=SHARED_CARE, k=0, api_name="/ask")
    with pytest.raises(AppError, match="the question is empty"):
        client.predict(question="   ", api_name="/ask")


def test_only_ask_is_public(client):
    assert list(client.view_api(print_info=False, return_format="dict")["named_endpoints"]) == ["/ask"]


class _BlockedBot:
    """A stand-in Assistant whose answers wait until released, to fill the queue on purpose."""

    def __init__(self, real) -> None:
        self.real, self.started, self.release = real, threading.Event(), threading.Event()

    def __getattr__(self, name):
        return getattr(self.real, name)

    def ask(self, question, history=None, k=5):
        self.started.set()
        self.release.wait(timeout=30)
        return self.real.ask(question, history=history, k=k)


def test_overload_is_told_to_try_again(bot, monkeypatch, free_port):
    """A full queue answers at once with "try again" instead of making callers wait without bound."""
    from gradio_client import Client
    from gradio_client.utils import QueueError

    from assistant.apps.web import app as web
    from assistant.apps.web import serve

    monkeypatch.setattr(web, "QUEUE_MAX_SIZE", 1)
    monkeypatch.setattr(web, "CONCURRENCY", 1)
    blocked = _BlockedBot(bot)
    app = web.build_blocks(blocked)
    app.launch(**serve.launch_options(server_port=free_port), prevent_thread_lock=True, quiet=True)
    try:
        client = Client(f"http://127.0.0.1:{free_port}/", verbose=False)
        running = client.submit(question=SHARED_CARE, api_name="/ask")
        assert blocked.started.wait(timeout=20)
        waiting = client.submit(question=SHARED_CARE, api_name="/ask")
        time.sleep(1.0)  # let the second call reach the queue
        with pytest.raises(QueueError, match="try again"):
            client.predict(question=SHARED_CARE, api_name="/ask")
        blocked.release.set()
        assert running.result(timeout=30)["confident"] and waiting.result(timeout=30)["confident"]
    finally:
        blocked.release.set()
        app.close()
