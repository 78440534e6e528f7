"""Chunking by structure, and the exact-offset invariant over every file."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.chunker import ChunkSettings, chunk_document
from assistant.reader import read_document
from assistant.text import answer_units, sentence_spans, word_count
from assistant.types import Document

CORPUS = Path(__file__).resolve().parent.parent / "corpus"


def _doc(text: str, source: str = "doc.md", title: str = "Doc") -> Document:
    return Document(source=source, text=text, title=title, sha256="0", encoding="utf-8")


@pytest.mark.parametrize("path", sorted(CORPUS.iterdir()), ids=lambda p: p.name)
def test_every_chunk_is_an_exact_span_of_its_file(path: Path):
    doc = read_document(path, path.name)
    chunks = chunk_document(doc)
    assert chunks
    raw = path.read_text(encoding="utf-8")
    for chunk in chunks:
        assert raw[chunk.start : chunk.end] == chunk.text
        assert doc.text[chunk.start : chunk.end] == chunk.text
        assert chunk.line == raw.count("\n", 0, chunk.start) + 1
        assert word_count(chunk.text) <= ChunkSettings().max_words * 1.25


def test_index_chunks_keep_the_invariant(bot):
    data = bot.data
    assert len(data.chunks) > 50
    for chunk in data.chunks:
        assert bot.read_source(chunk.source)[chunk.start : chunk.end] == chunk.text
        assert (CORPUS / chunk.source).read_text(encoding="utf-8")[chunk.start : chunk.end] == chunk.text


def test_wiki_headings_become_sections():
    doc = read_document(CORPUS / "healthcare-in-cambridgeshire.txt", "healthcare-in-cambridgeshire.txt")
    assert doc.title == "Healthcare in Cambridgeshire"
    sections = {c.section for c in chunk_document(doc)}
    assert "History > UnitingCare Partnership" in sections
    assert "Services > Community services" in sections
    hospices = [c for c in chunk_document(doc) if "Arthur Rank Hospice" in c.text][0]
    assert "There are three hospices" in hospices.text and "Milton Children's Hospice" in hospices.text


def test_markdown_headings_lists_and_crlf():
    text = ("# Guide\r\n\r\nIntro paragraph about the guide.\r\n\r\n## Install\r\n\r\nRun the installer. "
            "Then restart.\r\n\r\n- first item\r\n- second item\r\n\r\n## Usage\r\n### Advanced\r\n\r\nUse flags.\r\n")
    chunks = chunk_document(_doc(text, title="Guide"))
    assert [c.section for c in chunks] == ["", "Install", "Usage > Advanced"]
    for chunk in chunks:
        assert text[chunk.start : chunk.end] == chunk.text
        assert not chunk.text.endswith("\r")
    assert "- second item" in chunks[1].text


def test_hard_wrapped_lines_are_joined_for_embedding():
    text = "Title line\n\nThe partnership was formed\nin 2018 to work together.\n"
    chunk = chunk_document(_doc(text, source="a.txt", title="A"))[-1]
    assert "formed in 2018" in chunk.search_text
    assert "\n" in chunk.text  # the citation text stays as in the file


def test_long_paragraphs_split_on_sentence_boundaries():
    sentences = [f"Sentence number {i} talks about topic {i} in some detail here." for i in range(60)]
    text = " ".join(sentences)
    chunks = chunk_document(_doc(text), ChunkSettings(max_words=60))
    assert len(chunks) > 5
    for chunk in chunks:
        assert chunk.text.endswith(".") and chunk.text.startswith("Sentence")
        assert word_count(chunk.text) <= 75


def test_a_line_of_200000_words_is_windowed():
    text = " ".join(["word"] * 200_000)
    chunks = chunk_document(_doc(text), ChunkSettings(max_words=120))
    assert max(word_count(c.text) for c in chunks) <= 120
    assert sum(word_count(c.text) for c in chunks) == 200_000


def test_sentence_spans_respect_abbreviations_and_offsets():
    text = "Dr. Smith met Mr. Jones at St. Mary's. They agreed on £5.5m! Was it enough? Yes."
    spans = sentence_spans(text)
    assert [text[s:e] for s, e in spans] == [
        "Dr. Smith met Mr. Jones at St. Mary's.", "They agreed on £5.5m!", "Was it enough?", "Yes."]


def test_answer_units_break_at_bullets():
    text = "There are three:\n- Alpha hospice, run by A\n- Beta hospice, run by B"
    units = [text[s:e] for s, e in answer_units(text, 0, len(text))]
    assert units == ["There are three:", "- Alpha hospice, run by A", "- Beta hospice, run by B"]


def test_code_fences_keep_comment_lines_out_of_headings():
    text = ("# Tool\n\n## Install\n\nRun this script:\n\n```sh\n# not a heading\npip install tool\n\n"
            "tool --init\n```\n\n## Use\n\nCall it.\n")
    chunks = chunk_document(_doc(text, title="Tool"))
    install = [c for c in chunks if c.section == "Install"]
    assert install and "# not a heading" in install[0].text and "tool --init" in install[0].text
    assert {c.section for c in chunks} == {"Install", "Use"}
    for chunk in chunks:
        assert text[chunk.start : chunk.end] == chunk.text
