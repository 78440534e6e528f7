"""Hostile input to the library and the CLI: linear text paths, per-file limits, hard links,
file names with control characters, and wrong types through the Python API."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import unicodedata

import pytest

from assistant import Assistant, AssistantError, api
from assistant.apps.cli import main as cli_main
from assistant.ingest.chunker import ChunkSettings, chunk_document
from assistant.ingest.indexer import build_index
from assistant.text import MAX_TOKEN_CHARS, terminal_safe, tokenize
from assistant.types import Document

# ---------------------------------------------------------------- every text path is linear

# Runs in a child process so that a quadratic path fails the test by its time limit instead of
# hanging the suite. Prints the best of two or three timings per size, in seconds, with the cyclic
# garbage collector off (its passes over millions of tokens add noise, not information).
_MEASURE = r"""
import gc, json, sys, time
gc.disable()
from assistant.ingest.chunker import chunk_document
from assistant.text import answer_units, normalize, sentence_spans, tokenize, word_count
from assistant.types import Document

UNITS = {"word": "a", "line": "The quick brown fox jumps over it. ", "nospace": "x.Y-z_/w::"}

def text_paths(text):
    tokenize(text); sentence_spans(text); answer_units(text, 0, len(text)); normalize(text); word_count(text)

def chunking(text):
    chunk_document(Document(source="big.txt", text=text, title="Big", sha256="0", encoding="utf-8"))

kind, what, base = sys.argv[1], sys.argv[2], int(sys.argv[3])
work = text_paths if what == "text" else chunking
times = {}
for factor in (1, 2, 4, 8):
    n = base * factor
    if kind == "lines":  # one paragraph of distinct short lines, no blank line
        text = "".join(f"entry {i} of the register\n" for i in range(n // 20))[:n]
    else:
        text = (UNITS[kind] * (n // len(UNITS[kind]) + 1))[:n]
    best = float("inf")
    for _ in range(3 if factor == 1 else 2):
        started = time.perf_counter()
        work(text)
        best = min(best, time.perf_counter() - started)
    times[factor] = best
print(json.dumps(times))
"""


@pytest.mark.slow
@pytest.mark.parametrize("what, kind, base", [
    *[("text", kind, 256 * 1024) for kind in ("word", "line", "nospace")],
    *[("chunks", kind, 64 * 1024) for kind in ("word", "line", "nospace")],
    ("chunks", "lines", 512 * 1024),
])
def test_text_work_grows_linearly_with_the_input(what, kind, base):
    """1, 2, 4 and 8 times the input (256 KB-2 MB for the text primitives, 64-512 KB for chunking,
    512 KB-4 MB for a paragraph of many lines; sizes where each quadratic path this replaced took
    seconds to minutes): 8 times the text may take at most
    24 times as long. Linear measures 8-13 times on the shared 2-core machine (allocation makes
    large inputs a little slower per byte); quadratic would be 64 times."""
    try:
        done = subprocess.run([sys.executable, "-c", _MEASURE, kind, what, str(base)], capture_output=True,
                              text=True, timeout=240, check=True)
    except subprocess.TimeoutExpired:
        pytest.fail(f"{what} on {kind} input did not finish in 240 s: not linear")
    times = {int(k): v for k, v in json.loads(done.stdout).items()}
    assert times[8] / max(times[1], 1e-3) < 24, times


# Each reader on the input that was (or could be) super-linear for it: a long line of tag or
# shortcode openers with no closer (Markdown's tag and shortcode strippers scanned to the end of
# the line from each one), link openers, table bars, paragraphs, and runs of the characters the
# Org, CSV, RTF and e-mail readers' patterns look for. Same bound as above.
_MEASURE_READER = r"""
import gc, json, sys, time
gc.disable()
from assistant.ingest.readers import DECODED, extract_structured

kind, head, unit, base = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
times = {}
for factor in (1, 2, 4, 8):
    text = head + unit * (base * factor // len(unit))
    best = float("inf")
    for _ in range(2):
        started = time.perf_counter()
        extract_structured(kind, text if kind in DECODED else text.encode())
        best = min(best, time.perf_counter() - started)
    times[factor] = best
print(json.dumps(times))
"""


@pytest.mark.slow
@pytest.mark.parametrize("kind, head, unit, base", [
    ("markdown", "<div ", "<", 25_000), ("markdown", "# Title\n\n", "{{<", 25_000), ("markdown", "", "[", 4_000),
    ("rst", "", "|", 50_000), ("html", "", "<p>a", 2_000),
    ("org", "", "=~*/_+[[a]" * 3 + "\n* h :t:" + "- [ ] x\n  | a | b |\n#+BEGIN_SRC\n", 64 * 1024),
    ("csv", "", '"a,"b;c\t"' * 3 + "\n", 64 * 1024),
    ("rtf", "{\\rtf1 ", "{\\b\\'e9 x{\\*\\x y} \\par ", 64 * 1024),
    ("eml", "Subject: s\nFrom: a@b\n\n", "> > From x\n\n", 64 * 1024),
    ("mbox", "From a@b x\n", "From a@b x\nSubject: s\n\n>From y\n", 64 * 1024),
    ("text", "Title\n=====\n", "x `y` `\n```\nz\n~~~\n---\n", 32 * 1024),  # inline code, fences, underlines
])
def test_every_reader_grows_linearly_on_hostile_input(kind, head, unit, base):
    try:
        done = subprocess.run([sys.executable, "-c", _MEASURE_READER, kind, head, unit, str(base)], capture_output=True,
                              text=True, timeout=240, check=True)
    except subprocess.TimeoutExpired:
        pytest.fail(f"the {kind} reader on {unit!r} did not finish in 240 s: not linear")
    times = {int(k): v for k, v in json.loads(done.stdout).items()}
    assert times[8] / max(times[1], 1e-3) < 24, times


def test_giant_words_are_left_out_of_keyword_search_and_split_into_bounded_passages():
    word = "z" * 5000
    assert tokenize(f"alpha {word} beta") == ["alpha", "beta"]
    assert tokenize("x" * MAX_TOKEN_CHARS) == ["x" * MAX_TOKEN_CHARS]
    text = word * 20 + "\n"
    doc = Document(source="blob.txt", text=text, title="Blob", sha256="0", encoding="utf-8")
    chunks = chunk_document(doc)
    assert len(chunks) > 1 and all(c.end - c.start <= 120 * 40 for c in chunks)
    assert all(text[c.start : c.end] == c.text for c in chunks)


def test_line_and_page_numbers_are_right_without_counting_from_the_start():
    text = "".join(f"Line {i} has a sentence in it.\n" + ("\f" if i % 50 == 49 else "") for i in range(400))
    doc = Document(source="p.txt", text=text, title="P", sha256="0", encoding="utf-8")
    for chunk in chunk_document(doc, ChunkSettings(max_words=30, min_words=5)):
        assert chunk.line == text.count("\n", 0, chunk.start) + 1
        assert chunk.page == text.count("\f", 0, chunk.start) + 1


# ---------------------------------------------------------------- what one file may add


def test_a_file_over_the_chunk_limit_is_cut_with_a_reason_heard_before_embedding(tmp_path, embedder):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "long.txt").write_text("\n\n".join(f"Paragraph {i} tells of item {i} in some detail." for i in range(40)))
    (corpus / "short.txt").write_text("A short note about the garden shed.\n")
    heard = []

    class Watching:
        def encode(self, texts, progress=False):
            heard.append("embedding")
            return embedder.encode(texts, progress=progress)

    summary = build_index(corpus, tmp_path / "index", ChunkSettings(max_words=20, min_words=1, max_chunks=3),
                          embedder=Watching(), notify=lambda note: heard.append(note))
    assert [n.source for n in summary.cut] == ["long.txt"]
    assert "cut to its first 3 passages of" in summary.cut[0].reason and "limit per file" in summary.cut[0].reason
    assert heard[0] == summary.cut[0] and heard[-1] == "embedding"  # said before the slow step
    bot = Assistant.open(tmp_path / "index", embedder=embedder)
    assert {s.source: s.chunks for s in bot.sources()} == {"long.txt": 3, "short.txt": 1}
    assert "1 cut" in summary.line()
    # the other bound: texts to embed (each passage and its sentences)
    summary = build_index(corpus, tmp_path / "index2", ChunkSettings(max_words=20, min_words=1, max_texts=9),
                          embedder=embedder)
    kept = Assistant.open(tmp_path / "index2", embedder=embedder)
    counts = {s.source: s.chunks for s in kept.sources()}
    assert [n.source for n in summary.cut] == ["long.txt"] and 1 <= counts["long.txt"] <= 4
    assert sum(1 + len(c.sentences) for _, c in kept.store.chunks_of("long.txt")) <= 9


def test_index_prints_a_reason_line_while_a_large_file_is_chunked(tmp_path, embedder, monkeypatch, capsys):
    from assistant.ingest import chunker

    monkeypatch.setattr(chunker, "LARGE_FILE_CHARS", 100)
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "big.txt").write_text("The shed is painted green every spring by the volunteers. " * 5)
    assert cli_main(["index", "--corpus", str(corpus), "--index", str(tmp_path / "index"), "--quiet"]) == 0
    err = capsys.readouterr().err
    assert "big.txt: large file (290 characters), chunking" in err


# ---------------------------------------------------------------- hard links


def test_hard_links_are_skipped_unless_allowed(tmp_path, embedder):
    outside = tmp_path / "outside-secret.txt"
    outside.write_text("The vault code is 4417 and the spare key hangs by the boiler.\n")
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "notes.txt").write_text("Notes on the garden: the roses need pruning in March.\n")
    os.link(outside, corpus / "linked.txt")
    summary = build_index(corpus, tmp_path / "index", embedder=embedder)
    reasons = {s.source: s.reason for s in summary.skipped}
    assert reasons["linked.txt"].startswith("hard link (the file has 2 names")
    bot = Assistant.open(tmp_path / "index", embedder=embedder)
    assert [s.source for s in bot.sources()] == ["notes.txt"]
    with pytest.raises(AssistantError):
        bot.read_source("linked.txt")
    summary = build_index(corpus, tmp_path / "index", embedder=embedder, allow_hard_links=True)
    assert summary.skipped == [] and summary.documents == 2


def test_the_cli_takes_allow_hard_links(tmp_path, embedder, capsys):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (tmp_path / "a.txt").write_text("The boiler was serviced in October by the gas engineer.\n")
    os.link(tmp_path / "a.txt", corpus / "a.txt")
    (corpus / "b.txt").write_text("The roof was mended after the storm in November.\n")
    assert cli_main(["index", "--corpus", str(corpus), "--index", str(tmp_path / "i1"), "--quiet"]) == 0
    assert "skipped a.txt: hard link" in capsys.readouterr().err
    assert cli_main(["index", "--corpus", str(corpus), "--index", str(tmp_path / "i2"), "--quiet",
                     "--allow-hard-links"]) == 0
    assert "hard link" not in capsys.readouterr().err


# ---------------------------------------------------------------- names shown to people


def test_control_characters_in_file_names_are_escaped_one_line_per_entry(tmp_path, embedder, capsys):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    evil = "red\x1b[31malert\nfake entry\t9 chunks.txt"
    (corpus / evil).write_text("The red alert drill happens every Tuesday at noon in the main hall.\n")
    (corpus / "plain.txt").write_text("The plain file says the library opens at nine.\n")
    build_index(corpus, tmp_path / "index", embedder=embedder)
    assert cli_main(["sources", "--index", str(tmp_path / "index")]) == 0
    out = capsys.readouterr().out
    assert "\x1b" not in out and out.count("\n") == 2, out
    assert "red\\x1b[31malert\\nfake entry\\t9 chunks.txt\t1 chunks\t" in out
    assert cli_main(["ask", "When is the red alert drill?", "--index", str(tmp_path / "index"), "--k", "2"]) == 0
    out = capsys.readouterr().out
    assert "\x1b" not in out and "red\\x1b[31malert\\nfake entry\\t9 chunks.txt:1" in out
    assert all(line.count("(") <= 2 for line in out.splitlines() if line.startswith("["))


def test_the_page_escapes_control_characters_in_names():
    from types import SimpleNamespace

    from assistant.apps.web.render import render_document, render_sources

    name = "a\x1b[2Jb\u202ec.txt"
    html = render_sources([SimpleNamespace(source=name, title="T\x07itle", chunks=1)])
    assert "\x1b" not in html and "a\\x1b[2Jb\\u202ec.txt" in html and "T\\x07itle" in html
    assert "\x1b" not in render_document("T\x1b", name, "text", None)
    assert terminal_safe("plain é 日本") == "plain é 日本"


# ---------------------------------------------------------------- the Python API's input types


@pytest.mark.parametrize("history, message", [
    (5, "history must be a list of earlier questions, not a number"),
    (True, "history must be a list of earlier questions, not true/false"),
    ("Who chairs the board?", "history must be a list of earlier questions, not text"),
    ({"q": 1}, "history must be a list of earlier questions, not an object"),
])
def test_wrong_history_types_are_one_line_errors(bot, history, message):
    with pytest.raises(AssistantError, match=message):
        bot.ask("Who is the independent chair of NHCP?", history=history)


@pytest.mark.parametrize("k", ["5", 5.0, True, None, [5]])
def test_wrong_k_types_are_one_line_errors(bot, k):
    with pytest.raises(AssistantError, match="k must be a whole number from 1 to 50"):
        bot.ask("Who is the independent chair of NHCP?", k=k)


@pytest.mark.parametrize("question", [None, 5, ["a question"], b"bytes"])
def test_wrong_question_types_are_one_line_errors(bot, question):
    with pytest.raises(AssistantError, match="the question must be text"):
        bot.ask(question)


def test_a_huge_question_is_cut_before_it_is_normalised(bot, monkeypatch):
    looked_at = []
    real = unicodedata.category
    monkeypatch.setattr(api.unicodedata, "category", lambda ch: looked_at.append(ch) or real(ch))
    reply = bot.ask("Who is the independent chair of NHCP? " + "Кто " * 2_000_000,
                    history=["earlier question"] * 10_000)
    assert reply.notice == "question truncated to 2000 characters" and len(reply.question) <= 2000
    # the question's first MAX_QUESTION_READ characters and the last MAX_HISTORY earlier questions
    assert len(looked_at) <= api.MAX_QUESTION_READ + api.MAX_HISTORY * len("earlier question")
