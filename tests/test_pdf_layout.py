"""PDFs as printed: paragraphs, reading order, tables, titles, pages, rotations and messages (issue 20)."""

from __future__ import annotations

import statistics
from pathlib import Path

import pytest
from pdf_make import make_pdf

from assistant.ingest.pdfview import render_page, span_boxes
from assistant.ingest.reader import read_document
from assistant.ingest.readers.pdf import ENCRYPTED, extract
from assistant.ingest.readers.pdf_layout import Piece, make_line

REAL = Path(__file__).parent / "data" / "real" / "pdf"


@pytest.fixture(scope="module")
def federal_register():
    result = extract((REAL / "testPDF_bad_page_303226.pdf").read_bytes())
    assert not isinstance(result, str)
    return result


def test_three_column_prose_is_read_as_paragraphs_not_printed_lines(federal_register):
    # Sizes sit in the text matrix here (PDFium's font size is 1.0 for every character).
    text = federal_register.builder.text()
    blocks = [text[b.start:b.end] for b in federal_register.builder.blocks]
    opium = next(b for b in blocks if b.startswith("(c) Opium derivatives."))
    assert "within the specific chemical designation:" in opium and len(opium.split()) > 40
    long = [len(b.split()) for b in blocks if len(b.split()) > 12]
    assert len(long) > 60 and statistics.median(long) > 25


def test_sizes_come_from_the_glyphs_rendered(federal_register):
    text = federal_register.builder.text()
    headings = [text[b.start:b.end] for b in federal_register.builder.blocks if b.kind == "heading"]
    assert "PART 1308—SCHEDULES OF CONTROLLED SUBSTANCES" in headings
    assert federal_register.title == "PART 1308—SCHEDULES OF CONTROLLED SUBSTANCES"


def test_every_clean_character_maps_to_its_pdf_character(federal_register):
    import pypdfium2 as pdfium

    text = federal_register.builder.text()
    pdf = pdfium.PdfDocument((REAL / "testPDF_bad_page_303226.pdf").read_bytes())
    pages = {}
    mismatched = 0
    for offset, (page, index) in enumerate(federal_register.char_map):
        if page < 0 or not text[offset].isalnum():
            continue
        if page not in pages:
            textpage = pdf[page].get_textpage()
            pages[page] = textpage.get_text_range(0, textpage.count_chars())
        mismatched += pages[page][index] != text[offset]
    assert mismatched == 0


def test_a_table_row_keeps_every_cell_and_close_numbers_apart():
    raw = make_pdf([(72, 700, 10, "Territory"), (150, 700, 10, "A"), (200, 700, 10, "B"), (250, 700, 10, "C"),
                    (72, 680, 10, "Guam"), (150, 680, 10, "0"), (200, 680, 10, "100"), (250, 680, 10, "55"),
                    (300, 680, 10, "12"), (350, 680, 10, "3"), (357, 680, 10, "0")])
    text = extract(raw).builder.text()
    row = next(line for line in text.split("\n") if line.startswith("Guam"))
    cells = [cell for part in row.split(" | ") for cell in part.split()]
    assert cells == ["Guam", "0", "100", "55", "12", "3", "0"]


def test_title_is_the_largest_text_at_the_top_never_a_margin_stamp_or_date():
    raw = make_pdf([(20, 200, 20, "arXiv:2101.00001v1 [cs.CL] 1 Jan 2021"), (72, 740, 12, "3 March 2021"),
                    (72, 700, 18, "Reading Printed Pages"), (72, 660, 10, "Body text of the paper starts here."),
                    (72, 500, 14, "0.5"), (72, 480, 14, "Loss")], angle={0: 90})
    result = extract(raw)
    assert result.title == "Reading Printed Pages"
    assert not any(result.builder.text()[b.start:b.end] in ("0.5", "3 March 2021")
                   for b in result.builder.blocks if b.kind == "heading")
    assert "arXiv:2101.00001v1" in result.builder.text()  # kept as text, after the page's body


def test_a_template_metadata_title_is_not_used():
    from assistant.ingest.readers.pdf import _metadata_title

    printed = extract(make_pdf([(72, 700, 18, "Reading Printed Pages"),
                                (72, 660, 10, "Body text of a page, longer than its title.")]))
    assert printed.title == "Reading Printed Pages"
    assert _metadata_title("Paper Title (use style: paper title)", [[]]) == ""


def test_ligatures_are_expanded_and_soft_hyphens_dropped_with_exact_indices():
    piece = Piece([(0, "\ufb01", 0, 0, 5, 10), (1, "nd", 5, 0, 10, 10), (2, "\xad", 10, 0, 11, 10), (3, "s", 11, 0, 15, 10)])
    line = make_line([piece], 0)
    assert line.text == "finds" and line.indices == [0, 0, 1, 1, 3]


def test_a_single_page_pdf_cites_page_one(tmp_path):
    path = tmp_path / "notice.pdf"
    path.write_bytes(make_pdf([(72, 700, 12, "The ferry leaves at noon.")]))
    document = read_document(path, "notice.pdf")
    assert document.page_at(0) == 1 and document.blocks[0].page == 1


def test_empty_and_encrypted_pdfs_say_so(tmp_path):
    assert extract(b"") == "empty file"
    assert extract((REAL / "testPassword4Spaces.pdf").read_bytes()) == ENCRYPTED == \
        "encrypted PDF: a password-free copy is needed"
    (tmp_path / "empty.pdf").write_bytes(b"")
    assert read_document(tmp_path / "empty.pdf", "empty.pdf").reason == "empty file"


@pytest.mark.parametrize("rotate", [0, 90, 180, 270])
def test_highlight_lands_on_the_ink_on_rotated_pages(rotate):
    from io import BytesIO

    from PIL import Image

    raw = make_pdf([(100, 600, 24, "Harbour")], rotate=rotate)
    result = extract(raw)
    start = result.builder.text().index("Harbour")
    (left, top, width, height), = span_boxes(raw, start, start + 7)[1]
    image = Image.open(BytesIO(render_page(raw, 1, 600))).convert("L")
    inked = image.point(lambda v: 255 if v < 128 else 0).getbbox()  # the word's ink, in pixels
    w, h = image.size
    ink = (inked[0] / w, inked[1] / h, inked[2] / w, inked[3] / h)
    assert abs(left - ink[0]) < 0.02 and abs(top - ink[1]) < 0.02
    assert abs(left + width - ink[2]) < 0.02 and abs(top + height - ink[3]) < 0.02


def test_real_rotated_page_highlight_is_on_its_words():
    from io import BytesIO

    from PIL import Image

    raw = (REAL / "testPDF_rotated.pdf").read_bytes()
    result = extract(raw)
    start = result.builder.text().index("Tika - Content Analysis Toolkit")
    (left, top, width, height), = span_boxes(raw, start, start + 31)[1]
    assert height > 10 * width  # /Rotate 90 turns its lines to run down the displayed page
    image = Image.open(BytesIO(render_page(raw, 1, 900))).convert("L")
    w, h = image.size
    crop = image.crop((int(left * w), int(top * h), int((left + width) * w), int((top + height) * h)))
    assert crop.getextrema()[0] < 100  # ink under the box


def test_the_real_pdfs_read_exactly_as_stored():
    # Clean text, blocks, title and char map of every committed real PDF, as sha256 digests: a change
    # meant only to be faster must not change a character. A change meant to read differently
    # rewrites them: python benchmarks/pdf_reading.py tests/data/real/pdf/*.pdf --digests ... --save
    import json
    import sys

    sys.path.insert(0, str(Path(__file__).parent.parent / "benchmarks"))
    from pdf_reading import digest

    stored = json.loads((REAL / "digests.json").read_text())
    assert {path.name: digest(path.read_bytes()) for path in sorted(REAL.glob("*.pdf"))} == stored


def _blocks(raw: bytes) -> list[tuple[str, str]]:
    result = extract(raw)
    text = result.builder.text()
    return [(b.kind, text[b.start:b.end]) for b in result.builder.blocks]


TERRITORIES = [(72, 700, 10, "Territory"), (200, 700, 10, "Area (km2)"), (300, 700, 10, "Population"),
               (72, 680, 10, "Guam"), (200, 680, 10, "544"), (300, 680, 10, "168,801"),
               (72, 660, 10, "Palau"), (200, 660, 10, "459"), (300, 660, 10, "18,024"),
               (72, 640, 10, "Aruba"), (300, 640, 10, "107,204")]


def test_table_rows_are_read_with_their_header_and_printed_numbers():
    result = extract(make_pdf(TERRITORIES))
    text = result.builder.text()
    rows = [text[b.start:b.end] for b in result.builder.blocks if b.kind == "table"]
    assert rows == ["Territory: Guam; Area (km2): 544; Population: 168,801",
                    "Territory: Palau; Area (km2): 459; Population: 18,024",
                    "Territory: Aruba; Population: 107,204"]  # an empty cell is left out, never shifted
    # Every character maps to the PDF character printed: names to the header's, values to the row's.
    printed = make_printed(result)
    assert all(printed[offset] == text[offset] for offset in printed)
    unprinted = {text[o] for b in result.builder.blocks for o in range(b.start, b.end) if result.char_map[o][0] < 0}
    assert unprinted == {":", ";", " "}


def make_printed(result) -> dict[int, str]:
    import pypdfium2 as pdfium

    page = pdfium.PdfDocument(make_pdf(TERRITORIES))[0].get_textpage()
    chars = page.get_text_range(0, page.count_chars())
    return {offset: chars[index] for offset, (p, index) in enumerate(result.char_map) if p >= 0}


@pytest.mark.parametrize("items", [
    # a header holding a number ("2019") is a row of data, not names
    [(72, 700, 10, "Territory"), (200, 700, 10, "2019"), (300, 700, 10, "2020"),
     (72, 680, 10, "Guam"), (200, 680, 10, "544"), (300, 680, 10, "548"),
     (72, 660, 10, "Palau"), (200, 660, 10, "459"), (300, 660, 10, "460")],
    # a cell under no header cell
    [(72, 700, 10, "Territory"), (200, 700, 10, "Area"), (400, 700, 10, "Population"),
     (72, 680, 10, "Guam"), (200, 680, 10, "544"), (300, 680, 10, "168,801"),
     (72, 660, 10, "Palau"), (200, 660, 10, "459"), (300, 660, 10, "18,024")],
    # the row under the header is its cells' second line (all lower case), as is a header cell ending in "the"
    [(72, 700, 10, "Farm work for"), (300, 700, 10, "Tax withheld"),
     (72, 680, 10, "the owner"), (300, 680, 10, "at source"),
     (72, 660, 10, "Service"), (300, 660, 10, "Exempt")],
    [(72, 700, 10, "Farm work for the"), (300, 700, 10, "Withheld"),
     (72, 680, 10, "Owner"), (300, 680, 10, "Yes"),
     (72, 660, 10, "Service"), (300, 660, 10, "Exempt")],
    # two boxes of running text side by side under their names (IRS Publication 15's back page)
    [(72, 700, 10, "Internet"), (300, 700, 10, "Mail"),
     (72, 680, 10, "You can visit the IRS website at"), (300, 680, 10, "Send your order for tax forms to"),
     (72, 660, 10, "at any hour of the day."), (300, 660, 10, "to the office in your state.")],
])
def test_table_rows_stay_apart_when_the_header_is_unsure(items):
    blocks = _blocks(make_pdf(items))
    rows = [text for kind, text in blocks if kind == "table"]
    assert len(rows) == 3 and all(" | " in row and ": " not in row for row in rows)


def test_prose_set_side_by_side_is_not_read_as_a_table(federal_register):
    # Lines of two text columns PDFium keeps in one row: no "name: value" made of prose.
    text = federal_register.builder.text()
    rows = [text[b.start:b.end] for b in federal_register.builder.blocks if b.kind == "table"]
    assert rows and not any("person who handles an exempt:" in row for row in rows)


def test_a_printed_hyphen_at_a_line_end_stays_unless_it_broke_a_word():
    raw = make_pdf([(72, 700, 10, "Robots made of Stress-"), (72, 688, 10, "Engineered metal move when a self-"),
                    (72, 676, 10, "driving cart is particu-"), (72, 664, 10, "larly near. A self driving cart.")])
    assert "Stress-Engineered metal" in extract(raw).builder.text()  # a capital after it: a compound
    assert "a self-driving cart is particularly near" in extract(raw).builder.text()  # both halves are words


def test_real_compound_names_keep_their_hyphen_over_a_line_break(federal_register):
    text = federal_register.builder.text()
    assert "N,N-Diethyltryptamine" in text and "tiletamine-zolazepam" in text
    assert "N,NDiethyltryptamine" not in text and "FED-ERAL" not in text


def test_numbered_section_heads_in_small_capitals_are_headings():
    body = "The robots move on a grid of electrodes under one common voltage signal for all of them."
    raw = make_pdf([(72, 700, 10, body), (72, 688, 10, body),
                    (72, 660, 8, "III. GCSR: A STRATEGY FOR MULTI-ROBOT CONTROL"), (72, 650, 8, "AND ASSEMBLY"),
                    (72, 630, 10, body), (72, 618, 10, body),
                    (72, 590, 8, "2. Results were good"), (72, 570, 10, body)])
    blocks = _blocks(raw)
    assert ("heading", "III. GCSR: A STRATEGY FOR MULTI-ROBOT CONTROL AND ASSEMBLY") in blocks
    assert not any(kind == "heading" and text.startswith("2.") for kind, text in blocks)  # not in capitals


def test_cells_set_close_with_a_space_are_cut_at_the_whitespace_columns_of_their_rows():
    # Chromium / Google Docs tables: cells 2 em apart with a space PDFium keeps, one piece per row until
    # the strips that no row inks cut them; the first column, left of every header cell, names the row.
    rows = [("", "Guam", "Palau", "Aruba"), ("Area", "544", "459", "180"), ("Capital", "Hagatna", "Ngerulmud", "Oranjestad")]
    widths = [60, 70, 80, 0]
    items = []
    for r, cells in enumerate(rows):
        text = ""
        for cell, width in zip(cells, widths):
            text += cell.ljust(1) + " " * max(1, round((width - len(cell) * 5.6) / 2.8))
        items.append((72, 700 - 20 * r, 10, text.rstrip()))
    blocks = [text for kind, text in _blocks(make_pdf(items)) if kind == "table"]
    assert blocks == ["Area — Guam: 544; Palau: 459; Aruba: 180",
                      "Capital — Guam: Hagatna; Palau: Ngerulmud; Aruba: Oranjestad"]


def test_a_real_table_is_read_row_by_row_with_every_cell():
    # Tika's testPDFVarious.pdf (a Word export): cells 10 em apart used to be read as columns of text.
    result = extract((REAL / "testPDFVarious.pdf").read_bytes())
    text = result.builder.text()
    tables = [text[b.start:b.end] for b in result.builder.blocks if b.kind == "table"]
    assert "Row 1 Col 1 | Row 1 Col 2 | Row 1 Col 3" in tables and "Row 2 Col 1 | Row 2 Col 2 | Row 2 Col 3" in tables
    assert "Row 1 column 1 | Row 1 column 2" in tables


def test_double_spaced_lines_make_one_paragraph_and_a_title_over_lines_is_one_title():
    title = [(72, 740, 20, "Reading Printed Pages of Real"), (72, 716, 20, "Documents Nobody Here Wrote")]
    first = ["The first paragraph is set with double spacing", "so every line sits in a band of its own",
             "and still reads as one paragraph."]
    second = ["A second paragraph starts after a wider gap", "and runs on over two lines."]
    lines = [(72, 660 - 20 * n, 10, text) for n, text in enumerate(first)]
    lines += [(72, 560 - 20 * n, 10, text) for n, text in enumerate(second)]
    result = extract(make_pdf(title + lines))
    blocks = _blocks(make_pdf(title + lines))
    assert result.title == "Reading Printed Pages of Real Documents Nobody Here Wrote"
    assert [kind for kind, _ in blocks] == ["heading", "paragraph", "paragraph"]
    assert blocks[1][1] == " ".join(first)


def test_bold_running_text_and_bold_openings_are_not_headings():
    abstract = ["Abstract— We present a way to read printed pages", "as a person reads them, with paragraphs whole,",
                "tables row by row and titles that are titles."]
    items = [(72, 700 - 12 * n, 10, text) for n, text in enumerate(abstract)]
    items += [(72, 640, 10, "Method. "), (112, 640, 10, "The reader measures glyph boxes and gaps.")]
    items += [(72, 600, 10, "Results")]
    fonts = {0: "Helvetica-Bold", 1: "Helvetica-Bold", 2: "Helvetica-Bold", 3: "Helvetica-Bold", 5: "Helvetica-Bold"}
    headings = [text for kind, text in _blocks(make_pdf(items, fonts=fonts)) if kind == "heading"]
    assert headings == ["Results"]


def test_running_headers_with_the_page_number_are_furniture():
    from assistant.ingest.readers.pdf import layout
    from assistant.ingest.readers.pdf_layout import Line

    def line(page: int, top: float, text: str) -> Line:
        return Line(page=page, text=text, indices=list(range(len(text))), size=10, bold=False,
                    top=top, bottom=top - 10, left=72, right=400, column_right=400)

    topics = ["ferries", "trains", "buses", "bicycles", "trams", "boats"]
    body = ["About {} and how they run.", "Timetables for {} change.", "Fares of {} rise.", "See {} below."]
    pages = [[line(p, 760, f"{p + 3} Journal of Printed Pages" if p % 2 else f"Chapter {p} | Page {p + 3} of 9"),
              *(line(p, 600 - 40 * n, text.format(topics[p])) for n, text in enumerate(body))] for p in range(6)]
    text = layout(pages).builder.text()
    assert "Journal" not in text and "Chapter" not in text and "About boats" in text and "See boats" in text


def test_a_damaged_pdf_says_so_in_one_line():
    # py-pdf's unreadablemetadata.pdf (CC-BY-SA, not committed) has a trailer whose /Pages object is
    # missing; a file cut short the same way stands in for it here.
    from assistant.ingest.readers.pdf import DAMAGED

    raw = make_pdf([(72, 700, 12, "A page that will lose its page tree.")])
    assert extract(b"%PDF-1.4\n" + b"\x00" * 64) == DAMAGED
    assert extract(raw.replace(b"/Pages 2 0 R", b"/Pages 8 0 R")) == DAMAGED  # PDFium's "Success" said nothing


def test_a_bold_run_in_head_over_a_line_break_stays_in_its_paragraph():
    lines = ["Federal tax deposits must be made by electronic", "funds transfer. You must use electronic funds",
             "transfer to make all federal tax deposits now."]
    raw = make_pdf([(72, 700 - 12 * n, 10, text) for n, text in enumerate(lines)] + [(72, 640, 10, "Deposits")],
                   fonts={0: "Helvetica-Bold", 3: "Helvetica-Bold"})
    assert _blocks(raw) == [("paragraph", " ".join(lines)), ("heading", "Deposits")]


def test_a_mark_in_the_margin_does_not_cut_its_paragraph():
    # IRS publications set "TIP" / "CAUTION" icons beside a paragraph; the text runs on beside them.
    lines = ["You are permitted to establish a system for elec-", "tronic tip reporting by employees. See the",
             "Regulations section on this for details."]
    items = [(100, 700 - 12 * n, 10, text) for n, text in enumerate(lines)] + [(40, 688, 14, "TIP")]
    blocks = _blocks(make_pdf(items))
    assert blocks[0] == ("paragraph", "You are permitted to establish a system for electronic tip reporting by employees. "
                                      "See the Regulations section on this for details.")
    assert ("paragraph", "TIP") in blocks  # kept, after the page's body


def test_a_sentence_over_a_page_end_of_a_real_file_is_one_paragraph_on_both_pages(federal_register):
    text, blocks = federal_register.builder.text(), federal_register.builder.blocks
    n = next(i for i, b in enumerate(blocks) if text[b.start:b.end].startswith("and medical evaluation of the Secretary"))
    assert blocks[n].continues and blocks[n].page == 19 and blocks[n - 1].page == 18
    assert text[blocks[n - 1].start:blocks[n - 1].end].endswith("relating to the scientific")


def test_bold_section_heads_ending_in_a_full_stop_are_headings(federal_register):
    text = federal_register.builder.text()
    headings = {text[b.start:b.end] for b in federal_register.builder.blocks if b.kind == "heading"}
    assert {"§ 1308.02 Definitions.", "§ 1308.45 Final order."} <= headings
