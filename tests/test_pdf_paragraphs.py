"""Paragraphs as a reader sees them: over page ends, column ends, double spacing and footnote marks (issue 20)."""

from __future__ import annotations

from pdf_make import make_pdf

from assistant.ingest.chunker import chunk_document
from assistant.ingest.readers.pdf import extract
from assistant.ingest.readers.pdf_layout import Piece, make_line
from assistant.types import Document

FULL = ["alpha beta gamma delta epsilon zeta eta theta", "beta gamma delta epsilon zeta eta theta alpha",
        "gamma delta epsilon zeta eta theta alpha beta"]  # the same words: lines of one width


def _document(result) -> Document:
    builder = result.builder
    return Document("a.pdf", builder.text(), "", "", "utf-8", "pdf", tuple(builder.blocks), tuple(builder.pages))


def test_a_paragraph_over_a_page_end_is_one_paragraph_on_two_pages():
    first = [(72, 700 - 12 * n, 10, f"{line} sentence starts here and {line} runs on to the") for n, line in enumerate(FULL)]
    footnote = [(72, 90, 7, "1 A footnote set small at the foot of the page, after the paragraph.")]
    rest = [(72, 700, 10, "committee of the whole, which met every week."), (72, 650, 10, "A new paragraph starts here.")]
    stamp = [(20, 300, 10, "arXiv:2101.00001v1 [cs.CL] 1 Jan 2021")]  # a margin stamp in the body size
    result = extract(make_pdf(first + footnote + stamp, angle={len(first) + 1: 90}, more=[rest]))
    text, blocks = result.builder.text(), result.builder.blocks
    part = next(i for i, b in enumerate(blocks) if text[b.start:b.end].startswith("committee"))
    before, after = blocks[part - 1], blocks[part]
    assert after.continues and after.page == 2 and before.page == 1 and text[before.start:before.end].endswith("to the")
    assert text[blocks[0].start:blocks[0].end].startswith("1 A footnote")  # moved before the part it interrupted
    assert text[blocks[1].start:blocks[1].end].startswith("arXiv")
    assert not any(b.continues for n, b in enumerate(blocks) if n != part)
    document = _document(result)
    assert document.page_at(after.start) == 2 and document.page_at(before.end - 1) == 1
    chunk = next(c for c in chunk_document(document) if c.start <= before.start and after.end <= c.end)
    crossing = [(s, e) for s, e in chunk.sentences if s < before.end and after.start < e]
    assert len(crossing) == 1 and text[crossing[0][1] - 1] == "."  # the sentence over the page end is one unit
    assert Document.from_row(document.to_row()).blocks == document.blocks
    assert [len(row) for row in document.stored_blocks()] == [6 if b.continues else 5 for b in blocks]


def test_a_page_ending_a_sentence_is_not_joined():
    first = [(72, 700 - 12 * n, 10, line) for n, line in enumerate(FULL)] + [(72, 664, 10, "and so it ends.")]
    result = extract(make_pdf(first, more=[[(72, 700, 10, "Another paragraph starts the next page.")]]))
    assert not any(b.continues for b in result.builder.blocks)


def test_a_sentence_over_a_column_end_stays_one_paragraph_even_before_a_capital():
    left = [(72, 700 - 12 * n, 10, f"{line} in") for n, line in enumerate(FULL)]
    right = [(330, 700, 10, "Thailand and Malaysia took part, eta theta."), (330, 688, 10, "Then the text ends here.")]
    result = extract(make_pdf(left + right))
    text = result.builder.text()
    assert [text[b.start:b.end][-40:] for b in result.builder.blocks if b.kind == "paragraph"] == \
        ["Thailand and Malaysia took part, eta theta. Then the text ends here."[-40:]]


def test_double_spaced_lines_among_single_spaced_ones_run_on_mid_sentence():
    quote = [(100, 700 - 11 * n, 10, f"{line} quoted.") for n, line in enumerate(FULL * 2)]
    speech = [(72, 600, 10, "This evolution in the network meant that sharp discontinuities in the"),
              (72, 580, 10, "financial system were an accident waiting to happen.")]
    text = extract(make_pdf(quote + speech)).builder.text()
    assert "discontinuities in the financial system were" in text


def test_a_footnote_mark_does_not_cut_its_line_into_cells():
    def piece(chars: str, left: float, size: float, bottom: float = 0) -> Piece:
        made = Piece([(i, ch, left + 6 * i, bottom, left + 6 * (i + 1), bottom + size) for i, ch in enumerate(chars)])
        made.size = size
        return made

    base = piece("stability.", 0, 12)
    mark = piece("3", base.right, 7, bottom=5)
    words = piece(" In words", mark.right + 0.55 * 12 - 6, 12)  # a word space after the mark (PDFium's space first)
    line = make_line([base, mark, words], 0)
    assert line.cells == 1 and "|" not in line.text


def test_a_short_italic_line_standing_alone_above_a_paragraph_is_a_subsection_head():
    items = [(72, 700 - 12 * n, 10, f"{line} and so on.") for n, line in enumerate(FULL)]
    items += [(72, 650, 10, "Measuring the flow"), (72, 638, 10, f"The flow {FULL[0]} runs"), (72, 626, 10, f"{FULL[1]} on.")]
    items += [(72, 600, 10, "Italic words in a running line,"), (72, 588, 10, f"then {FULL[2]} regular.")]
    result = extract(make_pdf(items, fonts={3: "Helvetica-Oblique", 6: "Helvetica-Oblique"}))
    text = result.builder.text()
    blocks = [(b.kind, text[b.start:b.end][:20]) for b in result.builder.blocks]
    assert ("heading", "Measuring the flow") in blocks and ("paragraph", "The flow alpha beta ") in blocks
    assert ("paragraph", "Italic words in a ru") in blocks  # italic going on in regular type is no head


def test_columns_whose_paragraph_gaps_line_up_are_read_column_by_column():
    items = []
    for x, name in ((72, "left"), (330, "right")):
        for top, part in ((700, "first"), (650, "second")):
            items += [(x, top - 12 * n, 10, f"{name} {part} {line[:30]}") for n, line in enumerate(FULL)]
    text = extract(make_pdf(items)).builder.text()
    order = [text.index(f"{name} {part}") for name in ("left", "right") for part in ("first", "second")]
    assert order == sorted(order)  # the left column to its end before the right one
