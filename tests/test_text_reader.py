"""The plain-text reader: blocks over the file as written, the one source of sections for the
citations (the chunker) and of headings for the viewer. No model: these run in well under a second."""

from __future__ import annotations

from dataclasses import replace

from assistant.apps.web.display import display_blocks
from assistant.ingest.chunker import chunk_document
from assistant.ingest.reader import read_document
from assistant.ingest.readers import format_of
from assistant.ingest.readers.text import SOFT
from assistant.types import INLINE_CODE

CLAUSE = ("Either party may end this agreement by giving the other party thirty days of written notice, "
          "after which every licence granted under it ends.")
UNDERLINED = ("Hire terms\n==========\n\nIntro text about the hire of boats on the lake.\n\n"
              f"Setup\n-----\n\n8. Termination\n\n{CLAUSE}\n")


def _read(tmp_path, name: str, text: str):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    doc = read_document(path, name)
    assert doc.format == "text", doc
    return doc


def _shown(doc) -> list[tuple[str, str]]:
    return [(b.kind, doc.text[b.start : b.end]) for b in display_blocks(doc)]


def test_underlined_heading_is_the_same_section_in_a_citation_and_in_the_viewer(tmp_path):
    doc = _read(tmp_path, "hire.txt", UNDERLINED)
    chunk = next(c for c in chunk_document(doc) if "thirty days" in c.text)
    assert chunk.section == "Setup > 8. Termination"
    shown = _shown(doc)
    headings = [text for kind, text in shown if kind == "heading"]
    assert headings[-2:] == chunk.section.split(" > ")  # the viewer's last two headings name the chunk's section
    assert not any("---" in text for kind, text in shown)  # the underline is markup, not text
    # The cited span is shown inside one as-written block, under those headings.
    holder = [b for b in display_blocks(doc) if b.kind == "text" and b.start <= chunk.start and chunk.end <= b.end]
    assert len(holder) == 1
    # An index written before plain text had a reader stored no blocks: the viewer finds the same ones.
    assert _shown(replace(doc, blocks=())) == shown


def test_text_reader_blocks(tmp_path):
    text = ("---\ntitle: Boat hire\n---\n"
            "# Boat hire\n\n"
            "Boats are hired by the hour from the jetty.\n\n"
            "== Prices ==\n\n"
            "- Rowing boat: 8 pounds\n"
            "- Canoe: 10 pounds\n\n"
            "Booking\n~~~~~~~\n\n"
            "Book with the `hire --boat` command:\n\n"
            "```\nhire --boat canoe\n```\n\n"
            "12\n\n"
            "3. Safety Rules. Every person on the water must wear the buoyancy aid handed out at the jetty.\n")
    doc = _read(tmp_path, "boats.txt", text)
    assert doc.title == "Boat hire" and format_of(".txt") == "text"
    blocks = [(b.kind, doc.text[b.start : b.end], b.level) for b in doc.blocks]
    assert blocks == [
        ("heading", "Boat hire", 1),
        ("paragraph", "Boats are hired by the hour from the jetty.", 0),
        ("heading", "Prices", 2),
        ("list", "- Rowing boat: 8 pounds", 0),
        ("list", "- Canoe: 10 pounds", 0),
        ("heading", "Booking", 3),  # an RST underline other than = and -: levels from 3 in order of use
        ("paragraph", "Book with the `hire --boat` command:", 0),
        ("code", "```\nhire --boat canoe\n```", 0),
        ("heading", "3. Safety Rules", SOFT),  # a clause title running in with its text
        ("list", text[text.index("3. Safety"):].rstrip("\n"), 0),  # numbered: a list item
    ]  # front matter and the lone page number "12" are in no block
    assert [doc.text[s.start : s.end] for s in doc.spans if s.kind == INLINE_CODE] == ["`hire --boat`"]
    sections = {c.section for c in chunk_document(doc)}
    assert "Prices > Booking > 3. Safety Rules" in sections and "Boat hire" not in sections  # the title is no section
    shown = _shown(doc)
    assert ("heading", "3. Safety Rules") not in shown  # shown inside its paragraph, as written
    assert [text for kind, text in shown if kind == "heading"] == ["Boat hire", "Prices", "Booking"]
