"""Chunking by structure, and the exact-offset invariant over every file."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import CORPUS, all_chunks

from assistant.ingest.chunker import ChunkSettings, chunk_document
from assistant.ingest.reader import read_document
from assistant.text import answer_units, sentence_spans, word_count
from assistant.types import Document


def _doc(text: str, source: str = "doc.md", title: str = "Doc") -> Document:
    return Document(source=source, text=text, title=title, sha256="0", encoding="utf-8")


def assert_exact_spans(text: str, chunks) -> None:
    """The citation invariant: every chunk is exactly the slice of the file it claims to be."""
    for chunk in chunks:
        assert text[chunk.start : chunk.end] == chunk.text


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
    chunks = [c for _, c in all_chunks(bot.store)]
    assert len(chunks) > 50
    for chunk in chunks:
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
    assert_exact_spans(text, chunks)
    assert not any(chunk.text.endswith("\r") for chunk in chunks)
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
    assert_exact_spans(text, chunks)


def test_underlined_headings_and_drawn_lines():
    from assistant.ingest.reader import find_title

    text = ("User Guide\n==========\n\nThis guide explains the tool for new users.\n\n"
            "Installing\n----------\n\nRun the installer and restart the machine when asked.\n\n"
            "-----\n\nKeep the receipt for your records.\n")
    assert find_title(text, "guide.txt") == "User Guide"
    chunks = chunk_document(_doc(text, source="guide.txt", title="User Guide"))
    assert [c.section for c in chunks] == ["", "Installing"]
    assert "=====" not in chunks[0].search_text and "User Guide" not in chunks[0].text
    assert "receipt" in chunks[1].text and "-----\n" not in chunks[1].search_text
    assert_exact_spans(text, chunks)


def test_numbered_headings_become_sections_but_numbered_lists_do_not():
    text = ("Terms\n\n  1. Definitions.\n\n  A user is anyone who runs the program on any machine.\n\n"
            "  2. Installing the Program.\n\n  To install it, follow these steps, in this order:\n\n"
            "  1. Download the archive\n  2. Unpack the archive\n\n  Then run it and read the output carefully.\n")
    chunks = chunk_document(_doc(text, source="terms.txt", title="Terms"), ChunkSettings(min_words=1))
    sections = [c.section for c in chunks]
    assert "1. Definitions" in sections and "2. Installing the Program" in sections
    assert not any("Unpack" in s or "Download" in s for s in sections)
    assert any("Download the archive" in c.text for c in chunks)


def test_a_list_continued_in_the_next_chunk_is_searchable_by_its_lead_in():
    """The sentence introducing a list reaches the chunk holding the rest of the list (search text only)."""
    intro = " ".join(["Our county partnership has spent two years listening to residents and staff."] * 8)
    items = "\n".join(f"- Item {n}: better care at home for people who need support" for n in range(1, 9))
    text = f"# Plan\n\n{intro} Our eight aims are set out below.\n\n{items}\n"
    chunks = chunk_document(_doc(text, title="Plan"))
    assert len(chunks) >= 2
    later = [c for c in chunks if "Item 8" in c.text][0]
    assert "set out below" not in later.text
    assert "Our eight aims are set out below" in later.search_text
    assert text[later.start : later.end] == later.text
    plain = chunk_document(_doc(text, title="Plan"), ChunkSettings(lead_in=False))
    assert "set out below" not in [c for c in plain if "Item 8" in c.text][0].search_text


def test_licence_texts_get_their_numbered_sections():
    """Plain-text legal documents: numbered clauses and underlined headings become citable sections."""
    licenses = CORPUS.parent / "eval" / "licenses"
    gpl = read_document(licenses / "gpl-3.0.txt", "gpl-3.0.txt")
    termination = [c for c in chunk_document(gpl) if "reinstated permanently" in c.text]
    assert termination and all(c.section == "8. Termination" for c in termination)
    apache = read_document(licenses / "apache-2.0.txt", "apache-2.0.txt")
    redistribution = [c for c in chunk_document(apache) if "reproduce and distribute copies" in c.text]
    assert redistribution and redistribution[0].section == "4. Redistribution"  # a title run in with its text
    mpl = read_document(licenses / "mpl-2.0.txt", "mpl-2.0.txt")
    assert mpl.title == "Mozilla Public License Version 2.0"
    sections = {c.section for c in chunk_document(mpl)}
    assert "3. Responsibilities > 3.2. Distribution of Executable Form" in sections


def test_restructuredtext_headings():
    from assistant.ingest.reader import find_title

    text = ("=========\nDeploying\n=========\n\nThis page explains how the service is deployed.\n\n"
            "Preparing\n---------\n\nCheck the configuration file before you start.\n\n"
            "Options\n~~~~~~~\n\nUse the dry-run flag first.\n\n"
            "Rollback\n--------\n\nRun the previous release again, then check the logs for errors.\n"
            "Then wait\n^^^\n")
    assert find_title(text, "deploy.rst") == "Deploying"
    chunks = chunk_document(_doc(text, source="deploy.rst", title="Deploying"), ChunkSettings(min_words=1))
    assert [c.section for c in chunks] == ["", "Preparing", "Preparing > Options", "Rollback"]
    assert "Then wait" in chunks[-1].text  # an underline shorter than its line is no heading
    assert_exact_spans(text, chunks)


def test_markup_that_is_not_content_stays_in_the_citation_but_not_in_the_search_text():
    text = ("# API\n\n## `open(path)`\n\n<!-- YAML\nadded: v0.1.0\nchanges:\n  - version: v2.0.0\n-->\n\n"
            "* `path` {string}\n* Returns: {string}\n\nThe `open()` method opens the file at `path`, see [docs][].\n\n"
            "## `close(fd)`\n\n* `path` {string}\n* Returns: {string}\n\nThe `close()` method closes it.\n\n"
            "## `read(fd)`\n\n* `path` {string}\n* Returns: {string}\n\nThe `read()` method reads it.\n\n"
            "[docs]: https://example.org/docs\n")
    chunks = chunk_document(_doc(text, source="api.md", title="API"), ChunkSettings(min_words=1))
    opening = next(c for c in chunks if c.section == "`open(path)`")
    assert "<!-- YAML" in opening.text and "added: v0.1.0" in opening.text  # exact span kept
    assert "added" not in opening.search_text and "version" not in opening.search_text
    assert "* `path` {string}" in opening.search_text  # repeated list items are content, not page furniture
    spans = [text[s:e] for s, e in opening.sentences]
    assert not any("added:" in s or "-->" in s for s in spans)
    assert any("opens the file" in s for s in spans)
    assert all("example.org" not in c.search_text for c in chunks)
    assert_exact_spans(text, chunks)


def test_random_markup_never_breaks_the_span_invariant():
    """Headings, underlines, rules, lists, fences, comments and front matter in any order and any mix."""
    import random

    pieces = ["# Title", "## Part two", "Plain words in a sentence. Another one here.", "=====", "-----", "~~~~",
              "^^^^^^", "```", "~~~", "<!-- a comment", "-->", "<!-- whole -->", "[ref]: https://example.org",
              "* a bullet", "1. First step", "  2. Second step.", "Short Heading", "Section 3 Scope",
              "==Wiki==", "---", "title: front matter", "", "", "\t", "word " * 150, "\f", "A line:\r"]
    rng = random.Random(20261123)
    for _ in range(300):
        text = "\n".join(rng.choice(pieces) for _ in range(rng.randint(1, 40)))
        doc = _doc(text, source=rng.choice(["a.md", "a.txt", "a.rst"]), title="Title")
        chunks = chunk_document(doc, ChunkSettings(min_words=rng.choice([1, 25])))
        assert_exact_spans(text, chunks)
        for chunk in chunks:
            assert all(chunk.start <= s < e <= chunk.end for s, e in chunk.sentences)
            assert "\n" not in chunk.search_text


def test_front_matter_is_metadata_not_content():
    from assistant.ingest.reader import find_title

    text = ("---\ntitle: \"Release notes\"\nauthor: someone\n---\n\n"
            "Version 2 adds offline search.\n\nUpgrade\n-------\n\nRun the installer again.\n")
    assert find_title(text, "notes.md") == "Release notes"
    chunks = chunk_document(_doc(text, source="notes.md", title="Release notes"), ChunkSettings(min_words=1))
    assert [c.section for c in chunks] == ["", "Upgrade"]
    assert all("author" not in c.text and "title:" not in c.search_text for c in chunks)
    assert_exact_spans(text, chunks)
    assert find_title("---\nno closing line\n\n# Heading\n", "x.md") == "X"  # not front matter: no closing ---


def test_plain_text_titles():
    from assistant.ingest.reader import find_title

    assert find_title("                    GNU GENERAL PUBLIC LICENSE\n  Version 3\n\nText.", "gpl.txt") == \
        "GNU GENERAL PUBLIC LICENSE"
    assert find_title("\n                 Apache License\n           Version 2.0\n", "a.txt") == "Apache License"
    assert find_title("The council met on Monday and agreed the plan.\n", "minutes_2024.txt") == "Minutes 2024"


def test_the_file_name_is_searchable_when_the_title_does_not_say_it():
    text = "                 GNU GENERAL PUBLIC LICENSE\n\nYou may convey verbatim copies of the Program.\n"
    chunk = chunk_document(_doc(text, source="licences/gpl-3.0.txt", title="GNU GENERAL PUBLIC LICENSE"))[0]
    assert "gpl 3.0" in chunk.search_text and "licences" not in chunk.search_text
    named = chunk_document(_doc("# Path\n\nThe path module.\n", source="path.md", title="Path"))[0]
    assert named.search_text.startswith("Path. The path module")  # not repeated when the title says it


def test_a_clause_title_run_in_with_its_text_is_a_section_but_a_short_step_is_not():
    text = ("Agreement\n\n1. Definitions. In this agreement a user is anyone who runs the program on a machine.\n\n"
            "2. Grant of Licence. The owner grants every user the right to copy the program for any purpose.\n\n"
            "3. Open the box. Then plug it in.\n")
    chunks = chunk_document(_doc(text, source="agreement.txt", title="Agreement"), ChunkSettings(min_words=1))
    assert [c.section for c in chunks] == ["1. Definitions", "2. Grant of Licence"]
    assert "Open the box" in chunks[-1].text
    assert_exact_spans(text, chunks)
