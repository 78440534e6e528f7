"""Hostile requests to the running app: body and upload limits, the app's own temp folder,
/monitoring, and wrong types through the HTTP API (one-line messages, no server traceback)."""

from __future__ import annotations

import os
from pathlib import Path

import httpx
import pytest

from assistant.apps.web import app as web
from assistant.apps.web import limits as web_limits
from assistant.apps.web import serve

GRADIO_PANDAS_NOISE = "ignore:.*(no_silent_downcasting|copy keyword).*:DeprecationWarning"
pytestmark = [pytest.mark.slow, pytest.mark.filterwarnings(GRADIO_PANDAS_NOISE)]

CHAIR = "Who is the independent chair of NHCP?"


@pytest.fixture(scope="module")
def client(server_url):
    from gradio_client import Client

    return Client(server_url, verbose=False)


class _Counting:
    """The session's Assistant, counting the questions that reach it."""

    def __init__(self, real) -> None:
        self.real, self.asked = real, 0

    def __getattr__(self, name):
        return getattr(self.real, name)

    def ask(self, *args, **kwargs):
        self.asked += 1
        return self.real.ask(*args, **kwargs)


@pytest.fixture
def own_server(bot, free_port):
    """A server of our own (its temp folder and upload totals are this test's alone)."""
    counting = _Counting(bot)
    app = web.build_blocks(counting)
    options = serve.launch_options(server_port=free_port)
    folder = Path(os.environ["GRADIO_TEMP_DIR"])
    app.launch(**options, prevent_thread_lock=True, quiet=True)
    try:
        yield f"http://127.0.0.1:{free_port}", folder, counting, app
    finally:
        app.close()


# ---------------------------------------------------------------- request bodies


def test_a_body_over_the_limit_is_refused_before_the_question_is_read(own_server):
    base, _, counting, _ = own_server
    huge = CHAIR + " " + "Кто " * 12_500_000  # 50 MB of Cyrillic
    with httpx.Client(base_url=base, timeout=60) as http:
        for route in ("/gradio_api/call/ask", "/gradio_api/queue/join", "/gradio_api/run/predict"):
            response = http.post(route, json={"data": [huge, [], 5], "fn_index": 0, "session_hash": "x"})
            assert response.status_code == 413, route
            assert "request body too large" in response.json()["error"] and "256 KiB" in response.json()["error"]

        def chunks():  # no Content-Length: counted as it arrives
            yield b'{"data": ["' + CHAIR.encode()
            for _ in range(100):
                yield b"x" * 10_000
            yield b'", [], 5]}'

        response = http.post("/gradio_api/call/ask", content=chunks(), headers={"content-type": "application/json"})
        assert response.status_code == 413 and "request body too large: over 256 KiB" in response.json()["error"]
    assert counting.asked == 0


def test_the_largest_accepted_request_is_answered(client):
    """A 2,000-character question and 20 earlier questions of 2,000 characters, all non-ASCII."""
    question = CHAIR + " " + "é" * (2000 - len(CHAIR) - 1)
    reply = client.predict(question=question, history=["ü" * 2000] * 20, api_name="/ask")
    assert reply["passages"] and reply["notice"] is None


# ---------------------------------------------------------------- wrong types through the HTTP API


@pytest.mark.parametrize("history, message", [
    (5, "history must be a list of earlier questions, not a number"),
    (True, "history must be a list of earlier questions, not true/false"),
    ("Who chairs the board?", "history must be a list of earlier questions, not text"),
])
def test_wrong_history_types_are_a_message_for_the_client(client, capfd, history, message):
    from gradio_client.exceptions import AppError

    with pytest.raises(AppError, match=message):
        client.predict(question=CHAIR, history=history, api_name="/ask")
    assert "Traceback" not in "".join(capfd.readouterr())


def test_missing_values_are_a_message_not_a_null_error(server_url, capfd):
    with httpx.Client(base_url=server_url + "gradio_api", timeout=60) as http:
        for data, got in (([CHAIR], 1), ([], 0), ([CHAIR, []], 2)):
            event = http.post("/call/ask", json={"data": data}).json()["event_id"]
            body = http.get(f"/call/ask/{event}").text
            assert f'"error": "ask takes 3 values (question, history, k); got {got}"' in body, body
            assert '"error": null' not in body
    assert "Traceback" not in "".join(capfd.readouterr())


# ---------------------------------------------------------------- uploads


def test_uploads_are_capped_per_request_and_replies_name_no_server_path(own_server):
    base, folder, _, _ = own_server
    with httpx.Client(base_url=base + "/gradio_api", timeout=60) as http:
        ok = http.post("/upload", files=[("files", (f"f{i}.txt", b"note %d" % i, "text/plain")) for i in range(3)])
        assert ok.status_code == 200
        assert all(not p.startswith("/") and str(folder) not in p for p in ok.json()), ok.json()
        assert all((folder / p).is_file() for p in ok.json())
        many = http.post("/upload", files=[("files", (f"f{i}.txt", b"x", "text/plain"))
                                           for i in range(web_limits.MAX_UPLOAD_FILES + 1)])
        assert many.status_code == 413 and "too many files in one upload" in many.json()["error"]
        big = http.post("/upload", files=[("files", (f"b{i}.txt", b"x" * 1_000_000, "text/plain")) for i in range(11)])
        assert big.status_code == 413 and "10 MiB" in big.json()["error"]


def test_uploads_are_capped_in_total(own_server, monkeypatch):
    base, _, _, _ = own_server
    monkeypatch.setattr(web_limits, "MAX_UPLOAD_TOTAL_BYTES", 2_500_000)
    with httpx.Client(base_url=base + "/gradio_api", timeout=60) as http:
        statuses = [http.post("/upload", files=[("files", (f"f{i}.txt", os.urandom(900_000), "text/plain"))]).status_code
                    for i in range(4)]
        full = http.post("/upload", files=[("files", ("last.txt", b"x" * 900_000, "text/plain"))])
    assert statuses[:2] == [200, 200] and 507 in statuses
    assert full.status_code == 507 and "upload space full" in full.json()["error"]


def test_the_temp_folder_is_the_apps_own_and_removed_at_stop(bot, free_port):
    app = web.build_blocks(bot)
    app.launch(**serve.launch_options(server_port=free_port), prevent_thread_lock=True, quiet=True)
    folder = Path(os.environ["GRADIO_TEMP_DIR"])
    assert folder.parent.name == f"assistant-web-{os.getuid()}" and folder.name.startswith(f"{os.getpid()}-")
    assert (folder.parent.stat().st_mode & 0o777) == 0o700
    with httpx.Client(base_url=f"http://127.0.0.1:{free_port}/gradio_api", timeout=60) as http:
        assert http.post("/upload", files=[("files", ("a.txt", b"hello", "text/plain"))]).status_code == 200
    assert any(folder.rglob("a.txt"))
    app.close()
    assert not folder.exists()


def test_a_folder_left_by_a_killed_app_is_removed_at_the_next_start():
    stale = web_limits._base() / "999999999-leftover"
    (stale / "abc").mkdir(parents=True)
    (stale / "abc" / "upload.bin").write_bytes(b"x")
    fresh = web_limits.make_temp_folder()
    try:
        assert not stale.exists() and fresh.is_dir()
    finally:
        web_limits.remove_temp_folder(fresh)


# ---------------------------------------------------------------- monitoring


def test_monitoring_is_off_and_prints_no_key(server_url, capfd):
    with httpx.Client(base_url=server_url, timeout=30) as http:
        for route in ("monitoring", "monitoring/summary", "monitoring/anything"):
            assert http.get(route).status_code in (403, 404), route
    out, err = capfd.readouterr()
    assert "Monitoring URL" not in out + err
    assert serve.launch_options()["enable_monitoring"] is False


# ---------------------------------------------------------------- the page's own handlers


def test_the_page_keeps_questions_cut_and_turns_bounded(bot):
    chat = web.WebChat(bot)
    turns: list = []
    for _ in range(3):
        *_, (html, turns, _box) = list(chat.respond(CHAIR + " " + "x" * 2_000_000, turns))
    assert all(len(t["question"]) <= 2000 for t in turns)
    assert len(html) < 200_000 and "question truncated to 2000 characters" in html
    turns = [{"question": f"q{i}", "html": "<p>a</p>", "ok": True} for i in range(100)]
    *_, (html, turns, _box) = list(chat.respond(CHAIR, turns))
    assert len(turns) == web.MAX_TURNS and turns[-1]["question"] == CHAIR
