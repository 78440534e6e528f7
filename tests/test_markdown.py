"""Markdown read as structure: clean text a person reads, sections, lists, tables and code."""

from __future__ import annotations

import re

import pytest
from helpers import MARKDOWN_PAGE as PAGE

from assistant import Assistant
from assistant.apps.web.display import display_blocks
from assistant.apps.web.render import render_blocks, render_reply
from assistant.ingest.chunker import chunk_document
from assistant.ingest.indexer import build_index
from assistant.ingest.reader import read_document

MARKUP = re.compile(r"```|`|\*\*|\]\(|\]\[|<!--|-->|\{\{|^#|^\||\|-{3}|^>|^\[reg\]", re.MULTILINE)


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    folder = tmp_path_factory.mktemp("md") / "corpus"
    folder.mkdir()
    (folder / "harbour.md").write_text(PAGE)
    return folder


def test_markdown_reads_as_clean_text_with_blocks(page):
    doc = read_document(page / "harbour.md", "harbour.md")
    assert doc.format == "markdown" and doc.title == "Harbour Tools Guide"
    assert not MARKUP.search(doc.text), MARKUP.search(doc.text)
    assert "moonbeam" not in doc.text and "weight: 3" not in doc.text  # comment and front matter
    assert "Harbour runs on every dock listed in the registry." in doc.text
    kinds = {doc.text[b.start:b.end]: b.kind for b in doc.blocks}
    assert kinds["harbour-cli install --tide-mode=spring"] == "code"
    assert kinds["Berth: Quayside North; Length: 310 metres; Crane: Gantry 7"] == "table"
    assert kinds["1. Book the berth with harbour book."] == "list"
    assert kinds["The pilot boards at the outer buoy."] == "list"
    assert kinds["Warning: never install during a storm surge."] == "quote"
    assert kinds["Installing"] == "heading"
    assert [doc.text[s.start:s.end] for s in doc.spans] == ["harbour book"]
    assert doc.in_code(*_find(doc.text, "harbour book")) and not doc.in_code(*_find(doc.text, "Wait for"))


def test_the_viewer_shows_markdown_as_headings_lists_tables_and_code(page):
    doc = read_document(page / "harbour.md", "harbour.md")
    span = _find(doc.text, "310 metres")
    html = render_blocks(doc.text, display_blocks(doc), span, doc.spans)
    assert '<pre class="doc-code"><code>harbour-cli install --tide-mode=spring</code></pre>' in html
    assert '<h4 class="doc-heading">Berths</h4>' in html and "<li>1. Book the berth" in html
    assert '<mark class="cited">310 metres</mark>' in html
    assert "<li>1. Book the berth with <code>harbour book</code>.</li>" in html  # inline code as code
    cited = render_blocks(doc.text, display_blocks(doc), _find(doc.text, "Book the berth with harbour"), doc.spans)
    assert ('<mark class="cited">Book the berth with </mark><mark class="cited"><code>harbour</code></mark>'
            in cited)  # a cited span that ends inside inline code is still marked exactly
    assert not re.search(r"```|\*\*|\]\(|&lt;!--|\{\{", html)


def test_markdown_chunks_cite_exact_spans_under_their_sections(page):
    doc = read_document(page / "harbour.md", "harbour.md")
    chunks = chunk_document(doc)
    assert all(doc.text[c.start:c.end] == c.text for c in chunks)
    by_text = {c.section: c for c in chunks}
    assert "harbour-cli install" in by_text["Installing"].text
    assert "Quayside North" in by_text["Berths"].text
    # The code block and the sentence introducing it are one answer unit.
    units = [doc.text[s:e] for c in chunks for s, e in c.sentences]
    assert "To install the harbour client, run:\n\nharbour-cli install --tide-mode=spring" in units


def _find(text: str, words: str) -> tuple[int, int]:
    start = text.index(words)
    return start, start + len(words)


def test_markdown_facts_are_found_and_shown_clean(page, tmp_path, embedder):
    build_index(page, tmp_path / "index", embedder=embedder)
    bot = Assistant.open(tmp_path / "index", embedder=embedder)
    text = bot.read_source("harbour.md")
    reply = bot.ask("How long is the Quayside North berth?")
    top = reply.passages[:3]
    assert any("310 metres" in p.text and p.section == "Berths" for p in top)
    reply = bot.ask("What command installs the harbour client?")
    assert reply.answer_source == "harbour.md" and "harbour-cli install --tide-mode=spring" in reply.answer
    for p in reply.passages:
        assert p.text == text[p.start:p.end] and not MARKUP.search(p.text)
    assert not MARKUP.search(reply.answer)
    # In the page, the command is shown as a code block with its line, after its lead-in.
    html = render_reply(reply.to_dict(), bot.document(reply.answer_source))
    assert '<pre class="answer-code"><code>harbour-cli install --tide-mode=spring</code></pre>' in html
    assert '<div class="answer">' in html
    inline = bot.ask("How do I book a berth?")
    assert "<code>harbour book</code>" in render_reply(inline.to_dict(), bot.document(inline.answer_source))


DUMP_PAGE = """# Harbour Archive

## Exporting

The harbour archive includes a `dump` command that exports a berth register to local JSON files.

Export a local register:

```
harbour-archive dump --register ./berths.db --out ./export
```

The exported files can be loaded again with the `load` command.
"""


def test_code_lines_weigh_more_than_sentences_naming_code_for_a_command_question(tmp_path):
    """A command question's type bonus: a code-block unit in full, a sentence with inline code half,
    prose nothing (answer.code_weight), read from the Markdown reader's blocks and spans."""
    from assistant.retrieve.answer import _code_weight

    (tmp_path / "archive.md").write_text(DUMP_PAGE)
    doc = read_document(tmp_path / "archive.md", "archive.md")
    units = {doc.text[s:e]: (s, e) for c in chunk_document(doc) for s, e in c.sentences}
    code = units["Export a local register:\n\nharbour-archive dump --register ./berths.db --out ./export"]
    naming = next(span for unit, span in units.items() if unit.startswith("The harbour archive includes a dump"))
    assert _code_weight(doc, doc.text, *code) == 1.0
    assert _code_weight(doc, doc.text, *naming) == 0.5
    prose = next(span for unit, span in units.items() if unit.startswith("The exported files"))
    assert _code_weight(doc, doc.text, prose[0], prose[0] + len("The exported files")) == 0.0
    # A plain-text document has no blocks: the fences and backticks still in its text say it.
    from assistant.types import Document

    raw = "Run the `dump` command.\n\n```\nharbour-archive dump\n```\n"
    plain = Document("notes.txt", raw, "Notes", "0" * 64, "utf-8")
    assert _code_weight(plain, raw, raw.index("harbour-archive"), raw.index("harbour-archive") + 10) == 1.0
    assert _code_weight(plain, raw, 0, raw.index(".") + 1) == 0.5
