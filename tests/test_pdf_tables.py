"""PDF tables cell by cell: ruling lines, merged cells, headers over two lines, text boxes, titles (issue 20)."""

from __future__ import annotations

from pathlib import Path

import pytest
from pdf_make import make_pdf

from assistant.ingest.readers.pdf import extract

REAL = Path(__file__).parent / "data" / "real" / "pdf"


@pytest.fixture(scope="module")
def irs():
    """IRS Publication 15 (2013), pages 31 and 46: a header over two lines; a ruled wage table."""
    return extract((REAL / "testPDF_childAttachments-p31-p46.pdf").read_bytes(), ocr=False)


def _blocks(raw, kind: str | None = None) -> list[str]:
    result = extract(raw, ocr=False) if isinstance(raw, bytes) else raw
    text = result.builder.text()
    return [text[b.start:b.end] for b in result.builder.blocks if kind in (None, b.kind)]


# A ruled table (rules 1 pt thick, as Word and Google Docs draw them): "30" and "5", "7" and "8.5"
# stand closer than the whitespace cut's 1.2 em, and "Europe" is one cell merged over two columns.
RULED = [(165, 700, 10, "Alpha"), (255, 700, 10, "Beta"), (345, 700, 10, "Gamma"),
         (76, 680, 10, "Region"), (165, 680, 10, "Asia"), (320, 680, 10, "Europe"),
         (76, 660, 10, "Count"), (236, 660, 10, "12"), (326, 660, 10, "30"), (343, 660, 10, "5"),
         (76, 640, 10, "Mass"), (240, 640, 10, "7"), (253, 640, 10, "8.5"), (345, 640, 10, "9")]
RULES = ([(x, 635, 1, 80) for x in (72, 160, 250, 430)] + [(340, 635, 1, 40), (340, 695, 1, 20)]
         + [(72, y, 358, 1) for y in (635, 655, 675, 695, 715)])


def test_a_ruled_table_is_cut_at_its_rules_and_a_merged_cell_is_named_by_no_column():
    assert _blocks(make_pdf(RULED, rects=RULES), "table") == [
        "Alpha | Beta | Gamma",
        "Region | Asia | Europe",  # "Europe" spans Beta and Gamma: its cells stay apart, named by no column
        "Count — Alpha: 12; Beta: 30; Gamma: 5",
        "Mass — Alpha: 7; Beta: 8.5; Gamma: 9"]
    without = " ".join(_blocks(make_pdf(RULED), "table"))
    assert "Beta: 30; Gamma: 5" not in without  # whitespace alone reads "30 5": the rules decide


def test_the_viewer_shows_a_row_whose_cells_have_no_header_cell_by_cell():
    from assistant.apps.web.render import render_blocks

    result = extract(make_pdf(RULED, rects=RULES), ocr=False)
    text = result.builder.text()
    html = render_blocks(text, result.builder.blocks, (text.index("Europe"), text.index("Europe") + 6))
    assert ('<div class="doc-row"><span class="doc-cell">Region</span><span class="doc-cell">Asia</span>'
            '<span class="doc-cell"><mark class="cited">Europe</mark></span></div>') in html
    assert '<div class="doc-row">Count — Alpha: 12; Beta: 30; Gamma: 5</div>' in html


def test_text_boxes_side_by_side_are_no_table():
    # Tika's testPDFTwoTextBoxes: two framed boxes of two lines each, read box by box.
    assert _blocks((REAL / "testPDFTwoTextBoxes.pdf").read_bytes()) == [
        "Left column line 1 Left column line 2", "Right column line 1 Right column line 2"]
    # Word's "Here is a list:" beside a text box: two paragraphs, not a two-cell row.
    blocks = _blocks((REAL / "testPDFVarious.pdf").read_bytes())
    assert "Here is a list:" in blocks and "Here is a text box" in blocks
    assert not any("Here is a list: |" in block for block in blocks)
    # its "Gothic text" comes out of PDFium as halves of characters: replaced, never text that cannot be encoded
    assert not any("\ud800" <= ch <= "\udfff" for block in blocks for ch in block)


def test_a_header_over_two_lines_names_each_cell_with_both_lines_and_ruled_numbers_stay_apart(irs):
    # The wage table's columns of numbers stand under rules ("55 60 2 0 0" was one cell).
    rows = _blocks(irs, "table")
    assert ("Calendar Year: 2012–Social Security; Wage Base Limit (each employee): $110,100; "
            "Taxable Wages and Tips: 10.4%") in rows
    assert "55 | 60 | 2 | 0 | 0 | 0 | 0 | 0 | 0 | 0 | 0 | 0 | 0" in rows
    assert "120 | 125 | 8 | 1 | 0 | 0 | 0 | 0 | 0 | 0 | 0 | 0 | 0" in rows


def test_a_contents_heading_or_a_numbered_section_is_no_title():
    contents = [(72, 720, 20, "Contents"), (72, 690, 10, "1 Foo"), (400, 690, 10, "2"), (72, 675, 10, "2 Bar"),
                (400, 675, 10, "3"), (72, 660, 10, "3 Baz"), (400, 660, 10, "5"), (72, 645, 10, "4 Qux"),
                (400, 645, 10, "8")]
    assert extract(make_pdf(contents)).title == ""
    chapter = [(72, 720, 20, "1 Your Chapter"), (72, 690, 10, "Lorem ipsum dolor sit amet, consetetur sadipscing.")]
    assert extract(make_pdf(chapter)).title == ""
    report = [(72, 720, 20, "Annual Report"), (72, 690, 10, "Lorem ipsum dolor sit amet, consetetur sadipscing.")]
    assert extract(make_pdf(report)).title == "Annual Report"


def test_every_block_of_a_real_pdf_has_its_page(irs):
    # (benchmarks: every passage of 62 real PDFs indexed has its page; here the small committed ones)
    for name, result in [("irs", irs)] + [(name, extract((REAL / name).read_bytes(), ocr=False)) for name in
                                          ("testPDFTwoTextBoxes.pdf", "testPDFVarious.pdf", "testPDF_rotated.pdf")]:
        assert result.builder.blocks and all(block.page >= 1 for block in result.builder.blocks), name
    assert {block.page for block in irs.builder.blocks} == {1, 2}
