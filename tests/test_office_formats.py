"""Office, spreadsheet, e-mail, e-book and other formats, read from real files made by others
(tests/data/real/SOURCES.md): clean text, blocks, pages and titles; refusals with a reason."""

from __future__ import annotations

import io
import time
import zipfile
from pathlib import Path

import pytest

from assistant.reader import read_document
from assistant.readers import FORMATS, SUFFIXES, format_of
from assistant.readers.archive import RATIO_FLOOR
from assistant.readers.grid import MAX_CELLS, display
from assistant.types import Document, Skipped

REAL = Path(__file__).resolve().parent / "data" / "real"


def read(name: str, folder: Path = REAL) -> Document | Skipped:
    return read_document(folder / name, name)


def blocks(doc: Document, kind: str | None = None) -> list[str]:
    return [doc.text[b.start:b.end] for b in doc.blocks if kind is None or b.kind == kind]


def copy_as(tmp_path: Path, name: str, raw: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(raw)
    return path


def test_one_table_says_every_format_and_its_suffixes():
    assert {".pptx", ".xlsx", ".xls", ".csv", ".tsv"} <= SUFFIXES
    assert format_of(".PPTX") == "pptx" and format_of(".Xls") == "xls" and format_of(".exe") is None
    suffixes = [s for f in FORMATS for s in f.suffixes]
    assert len(suffixes) == len(set(suffixes)), "a suffix belongs to one format"
    assert all(s == s.lower() and s.startswith(".") for s in suffixes)


# ---------------------------------------------------------------- PowerPoint


def test_pptx_one_page_per_slide_titles_as_headings():
    doc = read("testPPT.pptx")
    assert isinstance(doc, Document) and doc.format == "pptx"
    assert doc.title == "Attachment Test"
    assert len(doc.pages) == 2  # three slides: pages 2 and 3 start somewhere
    assert blocks(doc, "heading")[0] == "Attachment Test"
    fact = doc.text.index("developed by Rajiv Kumar Nistala")
    assert doc.page_at(fact) == 2
    assert doc.page_at(doc.text.index("Black Panther")) == 3
    assert "Black Panther" in blocks(doc, "list")
    assert all(b.page == doc.page_at(b.start) for b in doc.blocks)


def test_pptx_tables_as_rows_and_text_boxes_in_reading_order():
    doc = read("testPPT_various.pptx")
    assert isinstance(doc, Document)
    rows = blocks(doc, "table")
    assert "Row 1 Col 1: Row 2 Col 1; Row 1 Col 2: Row 2 Col 2; Row 1 Col 3: Row 2 Col 3" in rows
    text = doc.text
    assert text.index("Here is a list:") < text.index("Bullet 1") < text.index("Here is a numbered list:")
    assert "ゾルゲと尾崎、淡々と最期" in text and "𐌲𐌿𐍄𐌹𐍃𐌺" in text  # Japanese, and Gothic outside the BMP
    assert doc.title != "Slide 1"  # a placeholder title is not a title


def test_pptx_speaker_notes_are_read(tmp_path):
    from pptx import Presentation

    deck = Presentation()
    slide = deck.slides.add_slide(deck.slide_layouts[1])
    slide.shapes.title.text = "Quarterly harbour report"
    slide.placeholders[1].text = "Moorings were full all summer."
    slide.notes_slide.notes_text_frame.text = "Mention that the crane was repaired in June."
    buffer = io.BytesIO()
    deck.save(buffer)
    doc = read("notes.pptx", tmp_path) if copy_as(tmp_path, "notes.pptx", buffer.getvalue()) else None
    assert isinstance(doc, Document)
    assert "Speaker notes: Mention that the crane was repaired in June." in blocks(doc)


# ---------------------------------------------------------------- spreadsheets


@pytest.mark.parametrize("name", ["testEXCEL.xlsx", "testEXCEL.xls"])
def test_spreadsheet_sheets_are_sections_and_rows_read_under_the_header_found(name):
    doc = read(name)
    assert isinstance(doc, Document) and doc.format == name.rsplit(".", 1)[1]
    assert blocks(doc, "heading")[:3] == ["Feuil1", "Feuil2", "Feuil3"] or blocks(doc, "heading")[0] == "Feuil1"
    assert "Sample Excel Worksheet - Numbers and their Squares" in blocks(doc, "paragraph")  # above the header
    rows = blocks(doc, "table")
    assert rows[0] == "Number: 1; Square: 1" and "Number: 12; Square: 144" in rows


def test_xlsx_title_from_its_properties():
    assert read("testEXCEL.xlsx").title == "Simple Excel document"


def test_spreadsheet_values_as_displayed():
    doc = read("testEXCEL_dateFormats.xlsx")
    assert "2018-09-20" in doc.text and "1996-08-10" in doc.text and "00:00" not in doc.text
    assert display(0.025, "0%") == "3%" and display(0.025, "0.00%") == "2.50%"
    assert display(1599.99, "#,##0.00") == "1,599.99"
    assert display(-1599.99, '"$"#,##0.00_);[Red]\\("$"#,##0.00\\)') == "-$1,599.99"
    assert display(3.0) == "3" and display(True) == "TRUE"


def test_csv_dialect_sniffed_and_rows_read():
    doc = read("testCSV.csv")
    assert isinstance(doc, Document) and doc.format == "csv"
    assert "Number: 15; Square: 225" in blocks(doc, "table")


def test_tsv_and_semicolon_csv(tmp_path):
    (tmp_path / "stock.tsv").write_text("Item\tShelf\tCount\nRope, 20 m\tB4\t12\nFender\tC1\t30\n", encoding="utf-8")
    (tmp_path / "fees.csv").write_text("Berth;Fee per night\nA1;£18,50\nB2;£21,00\n", encoding="utf-8")
    assert blocks(read("stock.tsv", tmp_path), "table") == ["Item: Rope, 20 m; Shelf: B4; Count: 12",
                                                            "Item: Fender; Shelf: C1; Count: 30"]
    assert blocks(read("fees.csv", tmp_path), "table") == ["Berth: A1; Fee per night: £18,50",
                                                           "Berth: B2; Fee per night: £21,00"]


def test_a_sheet_past_the_cell_limit_is_cut_and_says_so(tmp_path):
    rows = MAX_CELLS // 2 + 10
    (tmp_path / "big.csv").write_text("Code,Name\n" + "".join(f"{i},item {i}\n" for i in range(rows)), encoding="utf-8")
    started = time.perf_counter()
    doc = read("big.csv", tmp_path)
    assert time.perf_counter() - started < 20
    assert isinstance(doc, Document)
    assert doc.text.rstrip().endswith(f"the limit is {MAX_CELLS:,} cells per file.]")
    assert f"Code: {rows - 1};" not in doc.text and "Code: 1000; Name: item 1000" in doc.text


# ---------------------------------------------------------------- refusals


def _bomb(real: str, member: str) -> bytes:
    """A real Office file with one more member that inflates far past its compressed size."""
    out = io.BytesIO()
    with zipfile.ZipFile(REAL / real) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            target.writestr(item, source.read(item))
        target.writestr(member, b"\0" * (RATIO_FLOOR + 1024 * 1024))
    return out.getvalue()


@pytest.mark.parametrize("real, member", [("testPPT.pptx", "ppt/slides/slide9.xml"),
                                          ("testEXCEL.xlsx", "xl/worksheets/sheet9.xml")])
def test_a_zip_bomb_is_refused_before_parsing(tmp_path, real, member):
    copy_as(tmp_path, real, _bomb(real, member))
    skipped = read(real, tmp_path)
    assert isinstance(skipped, Skipped) and "zip bomb" in skipped.reason and member in skipped.reason


@pytest.mark.parametrize("name", ["testEXCEL_protected_passtika.xlsx"])
def test_encrypted_files_are_skipped_as_encrypted(name):
    skipped = read(name)
    assert isinstance(skipped, Skipped) and skipped.reason.startswith("encrypted ")


@pytest.mark.parametrize("suffix", [".pptx", ".xlsx", ".xls", ".csv"])
def test_empty_and_garbage_files_say_why(tmp_path, suffix):
    copy_as(tmp_path, "empty" + suffix, b"")
    assert read("empty" + suffix, tmp_path) == Skipped("empty" + suffix, "empty file")
    copy_as(tmp_path, "junk" + suffix, b"PK\x03\x04 not really a zip \x00\x01" * 20)
    junk = read("junk" + suffix, tmp_path)
    assert isinstance(junk, Skipped) and junk.reason
