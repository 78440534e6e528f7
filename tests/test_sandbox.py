"""Hostile files cannot take the process down (issue 25): every file is parsed by a worker process
with a memory and a time limit, a file skipped for its bytes is not read again until it changes,
and the web app's process never parses a document itself."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from bombs import docx_bomb, pdf_bomb
from helpers import html_to_pdf, make_docx

from assistant import Assistant
from assistant.ingest import changes
from assistant.ingest.indexer import build_index
from assistant.ingest.reader import read_document
from assistant.ingest.sandbox import Sandbox

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus"
LAKESIDE = "How many partners does Lakeside Surgery have?"


@pytest.fixture(scope="module")
def bombs(tmp_path_factory) -> dict[str, Path]:
    """A 10 KB PDF that inflates to 4 GB, a DOCX whose document.xml inflates to 1 GB, and 200 KB of '<'."""
    folder = tmp_path_factory.mktemp("bombs")
    (folder / "inflates.pdf").write_bytes(pdf_bomb(4 << 30))
    (folder / "inflates.docx").write_bytes(docx_bomb(1 << 30))
    (folder / "tags.md").write_text("# Tags\n\n" + "<" * 200_000 + "\n", encoding="utf-8")
    return {p.name: p for p in folder.iterdir()}


def test_a_pdf_that_inflates_to_4_gb_costs_at_most_the_memory_limit(bombs, tmp_path):
    good = tmp_path / "note.txt"
    good.write_text("The ferry leaves at noon.\n")
    with Sandbox(memory_mb=512) as sandbox:
        started = time.perf_counter()
        skipped = sandbox.read(bombs["inflates.pdf"], "inflates.pdf")
        assert time.perf_counter() - started < 60
        assert "512 MB" in skipped.reason and "memory" in skipped.reason, skipped
        assert skipped.sha256  # judged on its bytes: remembered until they change
        document = sandbox.read(good, "note.txt")  # a fresh worker reads the next file
    assert document.text == "The ferry leaves at noon.\n"


def test_a_docx_whose_xml_inflates_to_1_gb_is_refused_before_parsing(bombs):
    started = time.perf_counter()
    skipped = read_document(bombs["inflates.docx"], "inflates.docx")
    assert time.perf_counter() - started < 5
    assert skipped.reason.startswith("expands past 512 MB (1.0 GB inflated"), skipped.reason


def test_a_file_that_reads_too_long_is_skipped_with_the_time_limit(tmp_path):
    slow = tmp_path / "links.md"
    slow.write_text("# Links\n\n" + "![" * 200_000, encoding="utf-8")  # markdown-it takes ~10 s on this
    with Sandbox(seconds=1) as sandbox:
        started = time.perf_counter()
        skipped = sandbox.read(slow, "links.md")
        assert time.perf_counter() - started < 10
    assert skipped.reason.startswith("took longer than 1 s to read"), skipped.reason


def test_the_limits_come_from_the_environment_and_are_checked(monkeypatch):
    monkeypatch.setenv("ASSISTANT_READ_MEMORY_MB", "2048")
    monkeypatch.setenv("ASSISTANT_READ_SECONDS", "30")
    sandbox = Sandbox()
    assert (sandbox.memory_mb, sandbox.seconds) == (2048, 30)
    monkeypatch.setenv("ASSISTANT_READ_SECONDS", "soon")
    from assistant.errors import AssistantError

    with pytest.raises(AssistantError, match="ASSISTANT_READ_SECONDS must be a number"):
        Sandbox()


@pytest.mark.slow
def test_seeds_with_three_bombs_index_as_the_seeds_do_and_bombs_are_not_read_again(
        bombs, tmp_path, embedder, seed_index_dir, monkeypatch):
    corpus, index = tmp_path / "corpus", tmp_path / "index"
    shutil.copytree(CORPUS, corpus)
    for path in bombs.values():
        shutil.copy(path, corpus / path.name)
    old = time.time() - 3600  # out of the racy window, so the run's stats are trusted at once
    for path in corpus.iterdir():
        os.utime(path, (old, old))
    shutil.copytree(seed_index_dir, index)  # the seed vectors are reused: this measures reading
    started = time.perf_counter()
    summary = build_index(corpus, index, embedder=embedder)
    assert time.perf_counter() - started < 60
    reasons = {s.source: s.reason for s in summary.skipped}
    assert "memory" in reasons["inflates.pdf"] and reasons["inflates.docx"].startswith("expands past")
    assert summary.documents == 5 and reasons["tags.md"].startswith("no words to index")  # read in linear time
    bot = Assistant.open(index, embedder=embedder)
    assert "62 partners" in bot.ask(LAKESIDE).answer

    read: list[str] = []
    real = Sandbox.read
    monkeypatch.setattr(Sandbox, "read", lambda self, path, *a: read.append(path.name) or real(self, path, *a))
    again = build_index(corpus, index, embedder=embedder)
    assert read == [] and {s.source: s.reason for s in again.skipped} == reasons  # remembered, not read
    os.utime(corpus / "inflates.pdf", (old + 60, old + 60))  # touched, same bytes: hashed, not parsed
    build_index(corpus, index, embedder=embedder)
    assert read == []
    (corpus / "inflates.pdf").write_bytes(b"%PDF-1.4 now something else")
    os.utime(corpus / "inflates.pdf", (old + 120, old + 120))
    third = build_index(corpus, index, embedder=embedder)
    assert read == ["inflates.pdf"] and "unreadable PDF" in {s.source: s.reason for s in third.skipped}["inflates.pdf"]


def test_a_file_written_just_before_indexing_is_hashed_once_then_trusted(tmp_path, embedder, monkeypatch):
    corpus, index = tmp_path / "corpus", tmp_path / "index"
    corpus.mkdir()
    (corpus / "fresh.txt").write_text("Fresh news\n\nThe Hollin ferry leaves at noon.\n")  # written now: racy
    build_index(corpus, index, embedder=embedder)
    hashed: list[str] = []
    real_hash = changes.file_sha256
    monkeypatch.setattr(changes, "file_sha256", lambda path, *a: hashed.append(path.name) or real_hash(path, *a))
    parsed: list[str] = []
    real_read = Sandbox.read
    monkeypatch.setattr(Sandbox, "read", lambda self, path, *a: parsed.append(path.name) or real_read(self, path, *a))
    monkeypatch.setattr(changes, "RACY_SECONDS", 0.0)  # as if the run came seconds later
    second = build_index(corpus, index, embedder=embedder)
    assert (hashed, parsed, second.reused, second.embedded) == (["fresh.txt"], [], 1, 0)
    third = build_index(corpus, index, embedder=embedder)
    assert (hashed, parsed, third.reused) == (["fresh.txt"], [], 1)  # trusted by size and time now


_WEB_PROCESS = r"""
import json, sys
from pathlib import Path
from assistant import Assistant
from assistant.apps.web.app import WebChat
from assistant.apps.web.serve import catch_up
from assistant.apps.web.uploads import Reindexer, save_upload

index, corpus, pdf, docx = map(Path, sys.argv[1:5])
bot = Assistant.open(index)
chat = WebChat(bot, reindexer=Reindexer(corpus, index, bot.embedder))
for path in (pdf, docx):
    save_upload(corpus, path.name, path)
catch_up(chat.reindexer, {s.source for s in bot.sources()})  # as at start: files saved, not indexed
assert chat.reindexer.wait(300), "indexing did not finish"
reply = bot.ask("When does the Wisbech clinic open on Saturdays?")
viewer = chat.document_html(reply.passages[0].source, reply.passages[0].start, reply.passages[0].end)
parsers = sorted(m for m in ("pypdfium2", "docx", "trafilatura", "docutils", "lxml") if m in sys.modules)
print(json.dumps({"status": chat.reindexer.status.message, "source": reply.passages[0].source,
                  "page_image": "pdf-view" in viewer, "parsers": parsers}))
"""


@pytest.mark.slow
def test_the_web_process_never_parses_an_uploaded_file(tmp_path, seed_index_dir):
    corpus, index = tmp_path / "corpus", tmp_path / "index"
    shutil.copytree(CORPUS, corpus)
    shutil.copytree(seed_index_dir, index)
    pdf = html_to_pdf("<h1>Wisbech clinic</h1><p>The Wisbech clinic opens at nine on Saturdays and at eight "
                      "on weekdays.</p>", tmp_path / "clinic.pdf")
    docx = make_docx(tmp_path / "library.docx")
    done = subprocess.run([sys.executable, "-c", _WEB_PROCESS, str(index), str(corpus), str(pdf), str(docx)],
                          capture_output=True, text=True, timeout=600, cwd=ROOT,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["status"].startswith("Index updated: 7 documents"), result
    assert result["source"] == "clinic.pdf" and result["page_image"], result
    assert result["parsers"] == [], result  # the worker parsed and rendered; this process imported no parser


@pytest.mark.slow
def test_hostile_uploads_leave_the_app_answering_other_users_within_a_second(bombs, tmp_path, seed_index_dir, embedder):
    from assistant.apps.web.app import WebChat
    from assistant.apps.web.uploads import Reindexer

    corpus, index = tmp_path / "corpus", tmp_path / "index"
    shutil.copytree(CORPUS, corpus)
    shutil.copytree(seed_index_dir, index)
    bot = Assistant.open(index, embedder=embedder)
    chat = WebChat(bot, reindexer=Reindexer(corpus, index, embedder))
    chat.add_documents([str(path) for path in bombs.values()])
    latencies = []
    while chat.reindexer.status.running:
        started = time.perf_counter()
        assert "62 partners" in bot.ask(LAKESIDE).answer
        latencies.append(time.perf_counter() - started)
        time.sleep(0.05)
    assert chat.reindexer.wait(60) and latencies, chat.reindexer.status
    assert "Index updated" in chat.reindexer.status.message, chat.reindexer.status.message
    assert max(latencies) < 1.0, sorted(latencies)[-5:]
    skipped = " ".join(chat.reindexer.status.skipped)
    assert "inflates.pdf: " in skipped and "inflates.docx: expands past" in skipped
