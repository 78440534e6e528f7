"""Bad input: awkward corpus files, questions and index folders give one clear line, never a traceback."""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from helpers import ASSISTANT, CORPUS, all_chunks, error_line

from assistant import Assistant, AssistantError
from assistant.apps.cli import main as cli_main
from assistant.index.manifest import MANIFEST, read_manifest
from assistant.index.manifest import manifest_sha256 as _manifest_sha256
from assistant.ingest.chunker import ChunkSettings, chunk_document
from assistant.ingest.indexer import build_index
from assistant.ingest.reader import MAX_FILE_BYTES, read_document
from assistant.ingest.readers.pdf import DAMAGED

SHARED_CARE = "Which company is building the shared care record in Cambridgeshire and Peterborough?"
CHAIR = "Who is the independent chair of NHCP?"
SECRET = "XYZZY-OUTSIDE-SECRET"



def drop_root_file_access() -> list[str]:
    """A command prefix under which chmod 000 really denies access.

    Root reads anything through CAP_DAC_OVERRIDE / CAP_DAC_READ_SEARCH; setpriv removes
    those two capabilities from the child, so the kernel's own permission check applies.
    """
    if os.geteuid() != 0:
        return []
    if not shutil.which("setpriv"):
        pytest.skip("running as root without setpriv: cannot make a file unreadable honestly")
    return ["setpriv", "--bounding-set", "-dac_override,-dac_read_search"]


# ---------------------------------------------------------------- corpus files


def test_cli_skips_every_kind_of_unusable_file_with_its_reason(corpus_copy, seed_index_dir, tmp_path):
    index = tmp_path / "index"
    shutil.copytree(seed_index_dir, index)  # the seed files are unchanged, so nothing is embedded
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text(f"{SECRET} must never be indexed.\n")
    c = corpus_copy
    (c / "empty.txt").write_bytes(b"")
    (c / "blank.md").write_bytes(b"  \n\t\r\n")
    (c / "binary.txt").write_bytes(bytes(range(256)) * 40)
    with open(c / "huge.txt", "wb") as handle:  # sparse: the size is real, the disk use is not
        handle.truncate(MAX_FILE_BYTES + 2**20)
    os.mkfifo(c / "pipe.txt")  # reading a FIFO would block forever
    (c / "outside.txt").symlink_to(outside / "secret.txt")
    (c / "outside-dir").symlink_to(outside)
    (c / "dangling.txt").symlink_to(tmp_path / "nowhere.txt")
    (c / "unreadable.txt").write_text("private\n")
    (c / "unreadable.txt").chmod(0)
    (c / "locked").mkdir()
    (c / "locked" / "note.txt").write_text("locked away\n")
    (c / "locked").chmod(0)
    (c / "report.pdf").write_bytes(b"%PDF-1.4\n")
    (c / "sheet.xlsx").write_bytes(b"PK\x03\x04")
    (c / "folder.txt").mkdir()  # a directory named like a text file
    (c / "folder.txt" / "inner.bin").write_bytes(b"\x00\x01")
    with open(os.open(os.fsencode(c) + b"/caf\xe9.txt", os.O_CREAT | os.O_WRONLY, 0o644), "w") as handle:
        handle.write("a file whose name is Latin-1 bytes\n")
    try:
        run = subprocess.run([*drop_root_file_access(), str(ASSISTANT), "index", "--corpus", str(c), "--index", str(index)],
                             capture_output=True, text=True, timeout=90)
    finally:
        (c / "unreadable.txt").chmod(0o644)
        (c / "locked").chmod(0o755)
    assert run.returncode == 0, run.stderr
    assert "Traceback" not in run.stderr
    assert run.stdout.startswith("indexed 5 files")
    expected = {
        "empty.txt": "empty file",
        "blank.md": "empty file",
        "binary.txt": "binary file",
        "huge.txt": "too large (21.0 MiB; the limit is 20 MiB)",
        "pipe.txt": "not a regular file",
        "outside.txt": "symbolic link (not followed)",
        "outside-dir": "symbolic link (not followed)",
        "dangling.txt": "symbolic link (not followed)",
        "unreadable.txt": "unreadable (Permission denied)",
        "locked/": "unreadable folder (Permission denied)",
        "report.pdf": DAMAGED,
        "sheet.xlsx": "unreadable Excel file (not a valid zip container)",
        "folder.txt/inner.bin": "unsupported file type '.bin'",
        "caf\\xe9.txt": "file name is not valid UTF-8",
    }
    skipped = dict(line.removeprefix("skipped ").split(": ", 1) for line in run.stderr.splitlines())
    assert skipped == expected
    manifest = read_manifest(index)
    assert {s["source"]: s["reason"] for s in manifest["skipped"]} == expected
    bot = Assistant.open(index, warm=False)
    assert {s.source for s in bot.sources()} == {p.name for p in CORPUS.iterdir()}
    stored = b"".join(path.read_bytes() for path in index.glob("seg-*/*"))
    assert all(word.encode() not in stored for word in (SECRET, "locked away", "private"))


def test_legacy_encodings_are_decoded_and_answered(tmp_path, embedder):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    texts = {
        "latin1.txt": ("= Café notes =\n\nThe café in Wisbech serves crème brûlée for £4 every Friday.\n", "cp1252"),
        "utf16.txt": ("= Zürich memo =\n\nThe Zürich office of the trust opened in 2019 with twelve staff.\n", "utf-16"),
        "utf8bom.md": ("\ufeff# Ångström report\n\nThe Ångström laboratory measured forty-two water samples.\n", "utf-8"),
    }
    for name, (text, codec) in texts.items():
        (corpus / name).write_bytes(text.encode(codec))
    summary = build_index(corpus, tmp_path / "index", embedder=embedder)
    assert (summary.documents, summary.skipped) == (3, [])
    bot = Assistant.open(tmp_path / "index", embedder=embedder)
    encodings = {s.source: bot.document(s.source).encoding for s in bot.sources()}
    assert encodings == {"latin1.txt": "cp1252", "utf16.txt": "utf-16", "utf8bom.md": "utf-8-sig"}
    assert bot.read_source("latin1.txt") == texts["latin1.txt"][0]
    assert bot.read_source("utf16.txt") == texts["utf16.txt"][0]
    assert [s.title for s in bot.sources()] == ["Café notes", "Zürich memo", "Ångström report"]
    reply = bot.ask("What does the café in Wisbech serve?")
    assert reply.confident and reply.answer_source == "latin1.txt" and "crème brûlée" in reply.answer
    assert bot.ask("When did the Zürich office open?").passages[0].source == "utf16.txt"


def test_a_single_line_of_200000_words_is_read_and_chunked_without_loss(tmp_path):
    words = [f"w{i % 9973}" for i in range(200_000)]
    path = tmp_path / "one-line.txt"
    path.write_text(" ".join(words))
    started = time.perf_counter()
    doc = read_document(path, "one-line.txt")
    chunks = chunk_document(doc, ChunkSettings())
    assert time.perf_counter() - started < 30
    settings = ChunkSettings()
    assert len(chunks) >= 200_000 // settings.max_words
    assert all(c.text == doc.text[c.start:c.end] and len(c.text.split()) <= settings.max_words for c in chunks)
    # every word is inside some chunk: spans run from start to end with only spaces between them
    assert chunks[0].start == 0 and chunks[-1].end == len(doc.text)
    assert all(b.start <= a.end or not doc.text[a.end:b.start].strip() for a, b in zip(chunks, chunks[1:]))


def test_files_that_vanish_change_or_turn_into_links_during_indexing(tmp_path, embedder, monkeypatch):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for name in "abcd":
        (corpus / f"{name}.txt").write_text(f"Note {name}: the {name}-clinic opens at nine on weekdays.\n")
    (tmp_path / "secret.txt").write_text(f"{SECRET}\n")
    changed = "Note c: the c-clinic moved and now opens at ten on Saturdays.\n"
    from assistant.ingest.sandbox import Sandbox

    real_read = Sandbox.read

    def read_while_the_corpus_changes(self, path: Path, source: str, *options):
        if source == "a.txt":  # the folder was listed already; now the files move under us
            (corpus / "b.txt").unlink()
            (corpus / "c.txt").write_text(changed)
            (corpus / "d.txt").unlink()
            (corpus / "d.txt").symlink_to(tmp_path / "secret.txt")
        return real_read(self, path, source, *options)

    monkeypatch.setattr(Sandbox, "read", read_while_the_corpus_changes)
    summary = build_index(corpus, tmp_path / "index", embedder=embedder)
    assert {(s.source, s.reason) for s in summary.skipped} == {
        ("b.txt", "vanished while indexing"), ("d.txt", "symbolic link (not followed)")}
    bot = Assistant.open(tmp_path / "index", embedder=embedder)
    assert {s.source: s.sha256 for s in bot.sources()} == {
        "a.txt": hashlib.sha256((corpus / "a.txt").read_bytes()).hexdigest(),
        "c.txt": hashlib.sha256(changed.encode()).hexdigest()}
    assert bot.read_source("c.txt") == changed
    assert SECRET not in "".join(c.text for _, c in all_chunks(bot.store))
    monkeypatch.undo()
    again = build_index(corpus, tmp_path / "index", embedder=embedder)
    assert (again.embedded, again.reused) == (0, 2)  # what was indexed matches the files as they are now


# ---------------------------------------------------------------- questions


@pytest.mark.parametrize("question,message", [
    ("", "the question is empty"),
    ("   \n\t  \r\n", "the question is empty"),
    ("\x00\x07\x1b\x7f", "the question is empty"),
    ("?!?! ... ;-)", "the question has no words in it"),
    ("\u200b\u200b 🙂", "the question has no words in it"),
    (None, "the question must be text"),
])
def test_unusable_questions_are_refused_with_a_reason(bot, question, message):
    with pytest.raises(AssistantError, match=message):
        bot.ask(question)


def test_a_100000_character_question_is_truncated_with_a_notice_and_answered(bot):
    question = " ".join([SHARED_CARE] * 1200)
    assert len(question) > 100_000
    reply = bot.ask(question)
    assert reply.notice == "question truncated to 2000 characters"
    assert len(reply.question) <= 2000 and reply.question.startswith(SHARED_CARE)
    assert reply.passages and reply.passages[0].source == "healthcare-in-cambridgeshire.txt"


def test_control_characters_and_lone_surrogates_are_removed_not_fatal(bot):
    clean = bot.ask(CHAIR).to_dict()
    messy = bot.ask("\x1b[31mWho is\x00 the independent\ud800 chair\x07 of NHCP?\x1b[0m").to_dict()
    assert "\x1b" not in messy["question"] and "\x00" not in messy["question"] and "\ud800" not in messy["question"]
    assert messy["answer"] == clean["answer"] and messy["confident"]
    json.dumps(messy, ensure_ascii=False).encode("utf-8")  # the JSON contract stays encodable


@pytest.mark.parametrize("question", [
    "Какая компания создаёт общую медицинскую карту?",
    "哪家公司正在建设共享护理记录？",
    "ما هي الشركة التي تبني سجل الرعاية المشترك؟",
    "Welche Firma baut die gemeinsame Patientenakte in Cambridgeshire?",
])
def test_questions_in_other_scripts_get_a_reply(bot, question):
    reply = bot.ask(question)
    assert reply.question == question and len(reply.passages) == 5
    assert reply.answer  # either an answer or the plain "couldn't find this" message
    json.dumps(reply.to_dict(), ensure_ascii=False).encode("utf-8")


def test_cli_question_errors_are_one_line_and_long_questions_a_note(seed_index_dir, capsys):
    for question, message in (("", "question is empty"), ("?!", "no words"), ("\x1b\x07", "question is empty")):
        assert cli_main(["ask", question, "--index", str(seed_index_dir)]) == 1
        line = error_line(capsys.readouterr().err)
        assert line.startswith("assistant: error: the question") and message in line
    assert cli_main(["ask", CHAIR + " really" * 20_000, "--index", str(seed_index_dir)]) == 0
    out = capsys.readouterr()
    assert out.out.startswith("note: question truncated to 2000 characters\nAnswer: ") and out.err == ""


def test_cli_stdin_reports_bad_lines_and_answers_the_rest(seed_index_dir, capsys, monkeypatch):
    lines = [CHAIR, "?!", '{"question": 5}', '{"question": "unclosed', "", SHARED_CARE]
    monkeypatch.setattr(sys, "stdin", io.StringIO("\n".join(lines) + "\n"))
    assert cli_main(["ask", "--json", "--index", str(seed_index_dir)]) == 1
    out = capsys.readouterr()
    assert [json.loads(line)["question"] for line in out.out.splitlines()] == [CHAIR, SHARED_CARE]
    errors = out.err.splitlines()
    assert errors[:2] == [
        "assistant: error: line 2: the question has no words in it",
        'assistant: error: line 3: a JSON line needs a "question" string',
    ]
    assert len(errors) == 3 and errors[2].startswith("assistant: error: line 4: not valid JSON (")


# ---------------------------------------------------------------- index folders and flags


def tamper(index: Path, change) -> None:
    """Edit the manifest as another program (or another version) would, checksum included."""
    manifest = json.loads((index / MANIFEST).read_text())
    change(manifest)
    manifest["manifest_sha256"] = _manifest_sha256(manifest)
    (index / MANIFEST).write_text(json.dumps(manifest))


@pytest.mark.parametrize("case,message", [
    ("missing", "no index at"),
    ("empty", "manifest.json missing"),
    ("a file", "no index at"),
    ("format 2", "has format version 2, this assistant reads version 3"),
    ("other model", "was built with model intfloat/e5-small-v2"),
    ("older manifest", "has no checksum (written by an older assistant)"),
    ("segment outside", "does not describe a complete index"),
    ("a file left out", "does not describe a complete index"),
])
def test_unusable_index_folders_are_refused_with_how_to_rebuild(case, message, seed_index_dir, tmp_path, capsys):
    index = tmp_path / "index"
    if case == "empty":
        index.mkdir()
    elif case == "a file":
        index.write_text("not a folder")
    elif case != "missing":
        shutil.copytree(seed_index_dir, index)
        if case == "format 2":
            tamper(index, lambda m: m.update(format_version=2))
        elif case == "other model":
            tamper(index, lambda m: m["model"].update(name="intfloat/e5-small-v2"))
        elif case == "older manifest":
            tamper(index, lambda m: None)
            manifest = json.loads((index / MANIFEST).read_text())
            del manifest["manifest_sha256"]
            (index / MANIFEST).write_text(json.dumps(manifest))
        elif case == "segment outside":
            tamper(index, lambda m: m["segments"][0].update(name="../" + m["segments"][0]["name"]))
        else:
            tamper(index, lambda m: m["files"].pop(m["segments"][0]["name"] + "/table.sqlite"))
    assert cli_main(["ask", CHAIR, "--index", str(index)]) == 1
    line = error_line(capsys.readouterr().err)
    assert message in line and f"rebuild it with: assistant index --corpus CORPUS --index {index}" in line


@pytest.mark.parametrize("make", ["empty folder", "only unusable files"])
def test_a_corpus_with_nothing_to_index_leaves_the_old_index_alone(make, seed_index_dir, tmp_path, capsys):
    index = tmp_path / "index"
    shutil.copytree(seed_index_dir, index)
    before = (index / MANIFEST).read_bytes()
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    if make == "only unusable files":
        (corpus / "empty.txt").write_text("")
        (corpus / "data.bin").write_bytes(b"\x00" * 10)
    assert cli_main(["index", "--corpus", str(corpus), "--index", str(index)]) == 1
    line = error_line(capsys.readouterr().err)
    reasons = ("the folder has no files" if make == "empty folder"
               else "2 files skipped: data.bin: unsupported file type '.bin'; empty.txt: empty file")
    assert line == f"assistant: error: no readable documents in {corpus} ({reasons}); the index was not changed"
    assert (index / MANIFEST).read_bytes() == before


@pytest.mark.parametrize("argv,message", [
    ([], "the following arguments are required: command"),
    (["frobnicate"], "invalid choice: 'frobnicate'"),
    (["ask", "q", "--k", "0"], "argument --k: must be from 1 to 50"),
    (["ask", "q", "--k", "many"], "argument --k: not a whole number: 'many'"),
    (["ask", "q", "--index"], "argument --index: expected one argument"),
    (["index", "--corpus"], "argument --corpus: expected one argument"),
    (["sources", "--bogus"], "unrecognized arguments: --bogus"),
])
def test_wrong_flags_are_usage_errors(argv, message, capsys):
    with pytest.raises(SystemExit) as exc:
        cli_main(argv)
    assert exc.value.code == 2
    line = error_line(capsys.readouterr().err)
    assert line.startswith("assistant") and message in line


def test_out_of_range_chunk_size_is_a_usage_error(tmp_path, capsys):
    with pytest.raises(SystemExit) as exc:
        cli_main(["index", "--corpus", str(tmp_path), "--index", str(tmp_path / "i"), "--max-words", "5"])
    assert exc.value.code == 2
    assert error_line(capsys.readouterr().err).endswith("argument --max-words: must be from 20 to 400")
    assert not (tmp_path / "i").exists()


def test_an_index_from_an_older_tokenizer_is_refused_and_rebuilt(seed_index_dir, tmp_path, embedder, capsys):
    """Questions and index must be tokenized alike: an index from another tokenizer says to re-index,
    and re-indexing rebuilds its keyword postings while keeping every vector."""
    index = tmp_path / "index"
    shutil.copytree(seed_index_dir, index)
    tamper(index, lambda m: m["keyword"].update(tokenizer="snowball-english-stopwords-v1"))
    assert cli_main(["ask", CHAIR, "--index", str(index)]) == 1
    line = error_line(capsys.readouterr().err)
    assert "keyword tokenizer snowball-english-stopwords-v1" in line and "rebuild it with" in line
    summary = build_index(CORPUS, index, embedder=embedder)
    assert summary.embedded == 0 and summary.vectors_reused == summary.chunks
    bot = Assistant.open(index, embedder=embedder)
    assert "62 partners" in bot.ask("How many partners does Lakeside Surgery have?").passages[0].text
