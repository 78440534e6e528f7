"""reStructuredText read as a person reads it: real .rst files the tests write, read by docutils.

A Sphinx-style page (directives and roles docutils does not know, a toctree, a comment holding a
decoy) must come out as clean text with its sections, lists, code and tables, the spans exact
against `read_source`, and a fact found only in it answered with the right section.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from assistant.ingest.chunker import chunk_document
from assistant.ingest.indexer import build_index
from assistant.ingest.reader import read_document
from assistant.ingest.readers import format_of
from assistant.ingest.readers.rst import extract
from assistant.types import Document

PAGE = """\
.. The harbour office keeps the marmalade ledger in this comment: never shown.

.. _handbook:

======================
Harbour Pilot Handbook
======================

.. toctree::
   :maxdepth: 2
   :caption: Contents

   quokkaphone
   tides

The handbook explains how pilots board ships entering ``Kestrel Sound``; see the
`tide tables <https://example.org/tides>`_, :ref:`the boarding rules <boarding>` and
:func:`~pilot.tools.board_ship`.

.. _boarding:

Boarding
========

Pilots board every ship from the orange launch *Osprey* at the **Fairway buoy**.

- The launch carries two crew.
- Pilots wear lifejackets at all times.

.. note:: The pilot ladder must be rigged one metre above the water.

Night boarding
--------------

At night pilots board at the Gannet Rock buoy, two miles south of the Fairway buoy,
because the launch cannot pass the sandbar in the dark.

.. code-block:: python
   :caption: board.py
   :linenos:

   def board(ship):
       return ship.ladder

.. versionadded:: 2.1
   The night boarding procedure.

Fees
====

+------------+------------+
| Vessel     | Fee        |
+============+============+
| Tanker     | 940 euros  |
+------------+------------+
| Yacht      | 60 euros   |
+------------+------------+

=====  =====
Size   Tugs
=====  =====
Small  one
Large  three
=====  =====
"""

MALFORMED = """\
Title
==

Some ``unclosed literal and `unknown target`_ and *open emphasis and |undefined|.

+-----+----+
| bad | table
+---+--+

.. include:: /etc/passwd

.. raw:: html

   <script>var decoy = "raw html decoy";</script>

    Unexpected indentation.
  and a dedent

- item
 - bad nesting
"""

# Markup a person should never read: literals, link syntax, roles, directives and comments, table borders.
MARKUP = re.compile(r"``|`_|`__|:[\w:.-]+:`|(?m:^\s*\.\. )|\+-{3,}|\+={3,}|={3,} +={3,}|<https?:|\|\w+\|")


@pytest.fixture(scope="module")
def rst_corpus(tmp_path_factory) -> Path:
    corpus = tmp_path_factory.mktemp("rst") / "corpus"
    corpus.mkdir()
    (corpus / "pilots.rst").write_text(PAGE, encoding="utf-8")
    (corpus / "broken.rst").write_text(MALFORMED, encoding="utf-8")
    (corpus / "binary.rest").write_bytes(bytes(range(256)) * 8)
    (corpus / "notes.txt").write_text("Village notes\n\nThe ferry to Hollin Island leaves at noon on Sundays.\n")
    return corpus


@pytest.fixture(scope="module")
def page(rst_corpus) -> Document:
    document = read_document(rst_corpus / "pilots.rst", "pilots.rst")
    assert isinstance(document, Document), document
    return document


@pytest.fixture(scope="module")
def rst_bot(rst_corpus, tmp_path_factory, embedder):
    from assistant import Assistant

    index = tmp_path_factory.mktemp("rst-index") / "index"
    summary = build_index(rst_corpus, index, embedder=embedder)  # a malformed file never stops the run
    reasons = {s.source: s.reason for s in summary.skipped}
    assert reasons.get("binary.rest") == "binary file"
    assert "pilots.rst" not in reasons and "notes.txt" not in reasons
    assert summary.documents == 3 - ("broken.rst" in reasons)
    return Assistant.open(index, embedder=embedder)


def test_rst_files_go_to_the_rst_reader():
    assert format_of(".rst") == format_of(".REST") == "rst"
    assert format_of(".txt") == "text" and format_of(".md") == "markdown"


def test_sections_are_headings_and_the_lone_top_section_is_the_title(page):
    assert page.format == "rst" and page.title == "Harbour Pilot Handbook"
    headings = [(b.level, page.text[b.start : b.end]) for b in page.blocks if b.kind == "heading"]
    assert headings == [(1, "Harbour Pilot Handbook"), (2, "Boarding"), (3, "Night boarding"), (2, "Fees")]
    sections = {c.section for c in chunk_document(page)}
    assert {"Boarding", "Boarding > Night boarding", "Fees"} <= sections


def test_no_markup_comment_or_navigation_is_read(page):
    chunks = chunk_document(page)
    for text in [page.text, *(c.text for c in chunks)]:
        assert not MARKUP.search(text), MARKUP.search(text)
    for hidden in ("marmalade", "quokkaphone", "maxdepth", "Contents", "handbook:", "linenos", "board.py"):
        assert hidden not in page.text, hidden
    for chunk in chunks:
        assert page.text[chunk.start : chunk.end] == chunk.text


def test_inline_markup_becomes_its_words(page):
    assert ("The handbook explains how pilots board ships entering Kestrel Sound; see the tide tables, "
            "the boarding rules and board_ship.") in page.text
    assert "Pilots board every ship from the orange launch Osprey at the Fairway buoy." in page.text
    assert "example.org" not in page.text


def test_inline_literals_and_code_roles_are_remembered_as_code(page):
    code = {page.text[s.start : s.end] for s in page.spans}
    assert {"Kestrel Sound", "board_ship"} <= code
    assert "the boarding rules" not in code and "tide tables" not in code
    start = page.text.index("Kestrel Sound")
    assert page.in_code(start, start + 7) and not page.in_code_block(start, start + 7)


def test_blocks_lists_code_tables_and_admonitions(page):
    blocks = [(b.kind, page.text[b.start : b.end]) for b in page.blocks]
    assert ("list", "The launch carries two crew.") in blocks
    assert ("paragraph", "Note: The pilot ladder must be rigged one metre above the water.") in blocks
    assert ("code", "def board(ship):\n    return ship.ladder") in blocks  # its lines and indentation kept
    assert ("paragraph", "Added in version 2.1: The night boarding procedure.") in blocks
    assert ("table", "Vessel: Tanker; Fee: 940 euros") in blocks  # grid table
    assert ("table", "Size: Large; Tugs: three") in blocks  # simple table
    for block in page.blocks:
        piece = page.text[block.start : block.end]
        assert piece and piece == piece.strip()


@pytest.mark.parametrize("text", [
    MALFORMED,
    "\n".join("  " * i + "- deep" for i in range(400)),  # deeper than docutils can recurse
    "Long line " + "x" * 20_000,  # past docutils' line length guard
    ".. only a comment\n",
    ".. unknown-directive:: with\n   :bad option: value\n   :: weird\n\n   Body text kept.\n",
    "Text with :unknown:role:`x` and `a <`_ and :ref:`<>`.\n",
    "",
])
def test_malformed_rst_is_read_or_refused_with_a_reason(text, capsys):
    result = extract(text)
    if isinstance(result, str):
        assert result and "\n" not in result
    else:
        builder, _ = result
        assert builder.blocks
        assert "raw html decoy" not in builder.text() and "root:" not in builder.text()
    captured = capsys.readouterr()
    assert captured.out == captured.err == ""  # docutils prints nothing


def test_a_table_docutils_cannot_parse_keeps_its_words():
    builder, _ = extract(MALFORMED)
    rows = [builder.text()[b.start : b.end] for b in builder.blocks if b.kind == "table"]
    assert rows == ["bad | table"]
    assert "Some unclosed literal and unknown target and open emphasis and undefined." in builder.text()


def test_docutils_own_registries_are_untouched(page):
    """Reading leniently must not change docutils for anyone else in the process."""
    import io

    from docutils.core import publish_doctree
    from docutils.parsers.rst import directives, roles

    assert "toctree" not in directives._directives and "ref" not in roles._roles
    tree = publish_doctree(".. toctree::\n\n   intro\n",
                           settings_overrides={"report_level": 5, "warning_stream": io.StringIO()})
    assert "Unknown directive type" in tree.astext()


def test_a_fact_only_in_the_rst_file_is_found_with_its_section(rst_bot):
    reply = rst_bot.ask("Where do pilots board ships at night?", k=3)
    hit = next((p for p in reply.passages if "Gannet Rock buoy" in p.text), None)
    assert hit is not None and hit.source == "pilots.rst", [(p.source, p.text[:80]) for p in reply.passages]
    assert hit.section == "Boarding > Night boarding" and hit.title == "Harbour Pilot Handbook"
    assert rst_bot.read_source(hit.source)[hit.start : hit.end] == hit.text
    for passage in reply.passages:
        assert not MARKUP.search(passage.text), passage.text
    assert "marmalade" not in rst_bot.read_source("pilots.rst")


def test_malformed_file_indexed_without_its_markup_or_skipped(rst_bot):
    sources = {s.source for s in rst_bot.sources()}
    if "broken.rst" in sources:
        text = rst_bot.read_source("broken.rst")
        assert "unclosed literal" in text and "``" not in text and "raw html decoy" not in text
    assert "binary.rest" not in sources


def test_viewer_shows_the_rst_page_without_markup(rst_bot):
    import html as html_lib

    from assistant.apps.web.app import WebChat

    viewer = WebChat(rst_bot).document_html("pilots.rst")
    assert '<pre class="doc-code"><code>def board(ship):\n    return ship.ladder</code></pre>' in viewer
    assert '<div class="doc-table">' in viewer and "<li>The launch carries two crew.</li>" in viewer
    assert re.search(r'<h\d class="doc-heading">Night boarding</h\d>', viewer)
    visible = html_lib.unescape(re.sub(r"<[^>]+>", " ", viewer))
    assert not MARKUP.search(visible), MARKUP.search(visible)
    assert "marmalade" not in visible and "quokkaphone" not in visible
