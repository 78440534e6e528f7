"""Office, spreadsheet, e-mail, e-book and other formats, read from real files made by others
(tests/data/real/SOURCES.md): clean text, blocks, pages and titles; refusals with a reason."""

from __future__ import annotations

import io
import time
import zipfile
from pathlib import Path

import pytest

from assistant.ingest.reader import read_document
from assistant.ingest.readers import FORMATS, SUFFIXES, format_of
from assistant.ingest.readers.archive import RATIO_FLOOR
from assistant.ingest.readers.grid import MAX_CELLS, display
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
    assert {".pptx", ".xlsx", ".xls", ".csv", ".tsv", ".eml", ".mbox", ".msg", ".epub", ".odt", ".ods", ".odp",
            ".rtf", ".org", ".doc", ".ppt"} <= SUFFIXES
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


@pytest.mark.parametrize("suffix", [".pptx", ".xlsx", ".xls", ".csv", ".odt", ".epub", ".eml", ".rtf", ".doc", ".org"])
def test_empty_and_garbage_files_say_why(tmp_path, suffix):
    copy_as(tmp_path, "empty" + suffix, b"")
    assert read("empty" + suffix, tmp_path) == Skipped("empty" + suffix, "empty file")
    copy_as(tmp_path, "junk" + suffix, b"PK\x03\x04 not really a zip \x00\x01" * 20)
    junk = read("junk" + suffix, tmp_path)
    assert isinstance(junk, Skipped) and junk.reason


@pytest.mark.parametrize("name", ["testEXCEL_protected_passtika.xlsx", "testODTEncrypted.odt"])
def test_encrypted_office_and_odf_files_are_skipped_as_encrypted(name):
    skipped = read(name)
    assert isinstance(skipped, Skipped) and skipped.reason.startswith("encrypted ")


# ---------------------------------------------------------------- e-mail


def test_eml_subject_is_the_title_headers_are_findable_and_attachments_named():
    doc = read("testRFC822_multipart_attachments.eml")
    assert isinstance(doc, Document) and doc.format == "eml"
    assert doc.title == "EML 1"
    assert "From: Bugs Bunny <Bugs.Bunny@acme.com>\nTo: Bugs Bunny <Bugs.Bunny@acme.com>" in blocks(doc, "paragraph")
    assert "This is test email for EML1" in blocks(doc, "paragraph")  # the plain body, not the HTML one
    assert "This is the html body" not in doc.text
    assert "Attachments: Test TxtA.txt, Test TxtB.txt" in blocks(doc)
    assert "VGhpcyBpcyBUZXN0" not in doc.text  # no base64


def test_eml_date_header_and_html_only_body(tmp_path):
    assert "Date: Wed, 21 Nov 2012 21:11:32 +0100" in read("testThunderbirdEml.eml").text
    (tmp_path / "notice.eml").write_bytes(
        b"From: Harbour Office <office@harbour.example>\r\nTo: members@harbour.example\r\nSubject: Crane repairs\r\n"
        b"Date: Mon, 2 Jun 2025 09:00:00 +0000\r\nContent-Type: text/html; charset=iso-8859-1\r\n\r\n"
        b"<html><head><style>p{color:red}</style></head><body><h2>Repairs</h2>"
        b"<p>The crane is out of use until the 14th; caf\xe9 open as usual.</p><script>var x=1</script></body></html>")
    doc = read("notice.eml", tmp_path)
    assert doc.title == "Crane repairs"
    assert "The crane is out of use until the 14th; café open as usual." in blocks(doc, "paragraph")
    assert "Repairs" in blocks(doc, "heading") and "color:red" not in doc.text and "var x" not in doc.text


def test_mbox_each_message_a_section(tmp_path):
    doc = read("single_mail.mbox")
    assert isinstance(doc, Document) and doc.format == "mbox" and "imagem da parti" in doc.text
    (tmp_path / "two.mbox").write_bytes(
        b"From a@example Mon Jun  2 09:00:00 2025\nSubject: First\nFrom: a@example\n\nThe gate code is 4417.\n"
        b">From the office: nothing.\n\n"
        b"From b@example Tue Jun  3 09:00:00 2025\nSubject: Second\nFrom: b@example\n\nThe bins go out on Tuesday.\n")
    two = read("two.mbox", tmp_path)
    assert blocks(two, "heading") == ["First", "Second"]
    assert "From the office: nothing." in two.text and "The bins go out on Tuesday." in two.text


def test_an_outlook_message_reads_as_the_same_e_mail_would(tmp_path):
    document = read("testMSG.msg")
    assert document.title == "MIME registry use cases" and document.format == "msg"
    assert "From: Jukka Zitting <jukka.zitting@gmail.com>\nTo: tika-dev@lucene.apache.org\nDate: Thu, 29 Jan 2009" \
        in document.text
    assert "making the type detection code more modular and extensible" in " ".join(document.text.split())
    garbage = copy_as(tmp_path, "notes.msg", b"not an OLE2 file at all")
    assert read(garbage.name, garbage.parent).reason.startswith("unreadable Outlook message")


# ---------------------------------------------------------------- e-books and OpenDocument


def test_epub_chapters_in_spine_order_with_their_headings():
    doc = read("testEPUB.epub")
    assert isinstance(doc, Document) and doc.format == "epub"
    assert doc.title == "An ePub for Tika"
    text = doc.text
    assert text.index("This is the text for chapter One") < text.index("This is the text for chapter Two")
    assert {"Chapter 1", "Chapter 2", "Subchapter 2.1"} <= set(blocks(doc, "heading"))
    assert blocks(doc, "list") == ["First item", "Second item"]
    assert "nothing to see here" not in text and "nor here" not in text  # style and script


def test_opendocument_text_spreadsheet_and_presentation():
    odt = read("LibreOfficeWriter_odt_1.3.odt")
    assert isinstance(odt, Document) and odt.format == "odf" and "This is an example document" in blocks(odt)
    ods = read("LibreOfficeCalc_ods_1.3.ods")
    assert blocks(ods, "heading")[0] == "Sheet1" and ods.title == "LibreOfficeCalc ods 1.3"
    assert "This: 0; is: 1; an: 2; example: 3; spreadsheet: 4" in blocks(ods, "table")
    odp = read("LibreOfficeImpress_odp_1.3.odp")
    assert blocks(odp, "heading")[0] == "This is" and odp.page_at(odp.text.index("An example Impress file")) == 1
    assert len(odp.pages) == 1  # two slides


def test_opendocument_repeated_cells_stay_bounded(tmp_path):
    """A row "repeated" a million times with text in it is formatting gone wrong, not a million rows."""
    content = ('<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
               'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
               'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"><office:body><office:spreadsheet>'
               '<table:table table:name="Rota"><table:table-row><table:table-cell><text:p>Day</text:p></table:table-cell>'
               '<table:table-cell><text:p>Warden</text:p></table:table-cell></table:table-row>'
               '<table:table-row table:number-rows-repeated="1000000"><table:table-cell table:number-columns-repeated="16384">'
               '<text:p>Sunday</text:p></table:table-cell></table:table-row></table:table></office:spreadsheet></office:body>'
               '</office:document-content>')
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
        archive.writestr("content.xml", content)
    copy_as(tmp_path, "rota.ods", out.getvalue())
    started = time.perf_counter()
    doc = read("rota.ods", tmp_path)
    assert time.perf_counter() - started < 10
    assert isinstance(doc, Document) and len(doc.blocks) < 200


# ---------------------------------------------------------------- RTF and Org mode


def test_rtf_text_and_title():
    doc = read("testRTF.rtf")
    assert isinstance(doc, Document) and doc.format == "rtf"
    assert doc.title == "Test d’indexation Word" and "Test d’indexation Word" in blocks(doc, "paragraph")
    assert "\\" not in doc.text and "Times New Roman" not in doc.text


ORG = """#+TITLE: Harbour handbook
#+AUTHOR: Harbour office
* TODO Moorings                                                  :boats:
:PROPERTIES:
:ID: 1234
:END:
Boats moor on the /east/ wall; run =pay --berth 12= to pay.
See [[https://example.org][the office page]].

- Moorings are booked at the office.
- The crane is run by
  the harbour master.
** Fees
| Berth | Fee per night |
|-------+---------------|
| A1    | £18           |
#+BEGIN_SRC sh
pay --berth 12
#+END_SRC
# a comment nobody reads
"""


def test_org_mode_structure(tmp_path):
    (tmp_path / "handbook.org").write_text(ORG, encoding="utf-8")
    doc = read("handbook.org", tmp_path)
    assert isinstance(doc, Document) and doc.format == "org" and doc.title == "Harbour handbook"
    assert [(doc.text[b.start:b.end], b.level) for b in doc.blocks if b.kind == "heading"] == [("Moorings", 1), ("Fees", 2)]
    assert "Boats moor on the east wall; run pay --berth 12 to pay. See the office page." in blocks(doc, "paragraph")
    assert blocks(doc, "list") == ["Moorings are booked at the office.", "The crane is run by the harbour master."]
    assert blocks(doc, "table") == ["Berth: A1; Fee per night: £18"] and blocks(doc, "code") == ["pay --berth 12"]
    assert [doc.text[s.start:s.end] for s in doc.spans] == ["pay --berth 12"]
    assert "PROPERTIES" not in doc.text and "comment" not in doc.text and "AUTHOR" not in doc.text


# ---------------------------------------------------------------- legacy Office and text encodings


@pytest.mark.parametrize("name, needle", [("testWORD.doc", "This is a sample Microsoft Word Document."),
                                          ("testPPT.ppt", "Sample Powerpoint Slide")])
def test_legacy_office_files_through_a_converter(name, needle):
    import shutil

    if not (shutil.which("antiword") or shutil.which("catppt") or shutil.which("soffice")):
        pytest.skip("no converter installed (apt-get install antiword catdoc)")
    doc = read(name)
    assert isinstance(doc, Document) and needle in doc.text


@pytest.mark.parametrize("name, install", [("testWORD.doc", "antiword"), ("testPPT.ppt", "catdoc")])
def test_legacy_office_without_a_converter_names_what_to_install(monkeypatch, name, install):
    monkeypatch.setenv("PATH", "/nonexistent")
    skipped = read(name)
    assert isinstance(skipped, Skipped) and "need a converter" in skipped.reason and install in skipped.reason


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be"])
def test_utf16_without_a_byte_order_mark_is_read(tmp_path, codec):
    (tmp_path / "notes.txt").write_bytes("Harbour notes\r\nThe café opens at nine.\r\n".encode(codec))
    doc = read("notes.txt", tmp_path)
    assert isinstance(doc, Document) and doc.encoding == codec and "The café opens at nine." in doc.text
    (tmp_path / "blob.txt").write_bytes(bytes(range(256)) * 8)
    assert read("blob.txt", tmp_path) == Skipped("blob.txt", "binary file")


# ---------------------------------------------------------------- questions through the real model

IN_FOLDER = ("testPPT.pptx", "testEXCEL.xlsx", "testCSV.csv", "testThunderbirdEml.eml", "single_mail.mbox",
             "LibreOfficeWriter_odt_1.3.odt", "LibreOfficeCalc_ods_1.3.ods", "LibreOfficeImpress_odp_1.3.odp",
             "testEPUB.epub", "testRTF.rtf", "testWORD.doc", "testPPT.ppt", "testMSG.msg", "testODTEncrypted.odt")


@pytest.fixture(scope="module")
def office_bot(tmp_path_factory, embedder):
    import shutil

    from assistant import Assistant
    from assistant.ingest.indexer import build_index

    corpus = tmp_path_factory.mktemp("office") / "corpus"
    corpus.mkdir()
    for name in IN_FOLDER:
        shutil.copy(REAL / name, corpus / name)
    (corpus / "handbook.org").write_text(ORG, encoding="utf-8")
    (corpus / "stock.tsv").write_text("Item\tShelf\tCount\nMooring rope\tB4\t12\nFender\tC1\t30\n", encoding="utf-8")
    index = tmp_path_factory.mktemp("office-index") / "index"
    summary = build_index(corpus, index, embedder=embedder)
    reasons = {s.source: s.reason for s in summary.skipped}
    assert set(reasons) <= {"testODTEncrypted.odt", "testWORD.doc", "testPPT.ppt"}, reasons
    assert reasons["testODTEncrypted.odt"].startswith("encrypted")
    return Assistant.open(index, embedder=embedder)


@pytest.mark.parametrize("question, needle, source", [
    ("Who developed the test file data for tika content parsing?", "Rajiv Kumar Nistala", "testPPT.pptx"),
    ("What is the square of 13?", "Number: 13; Square: 169", "testEXCEL.xlsx"),
    ("What is the square of 14?", "Number: 14; Square: 196", "testCSV.csv"),
    ("Who sent the JUnit test message?", "vladimir_l@example.com", "testThunderbirdEml.eml"),
    ("Who asked how the MIME type classes are used?", "Jukka Zitting", "testMSG.msg"),
    ("Where is the ReFS overview?", "refs-overview", "single_mail.mbox"),
    ("Which file is an example Impress file?", "An example Impress file", "LibreOfficeImpress_odp_1.3.odp"),
    ("What is the text for chapter two?", "This is the text for chapter Two", "testEPUB.epub"),
    ("Test d'indexation Word", "indexation Word", "testRTF.rtf"),
    ("On which shelf is the mooring rope?", "Item: Mooring rope; Shelf: B4", "stock.tsv"),
    ("Who runs the crane?", "The crane is run by the harbour master.", "handbook.org"),
])
def test_a_question_finds_its_passage_in_each_format(office_bot, question, needle, source):
    reply = office_bot.ask(question, k=5)
    hit = next((p for p in reply.passages if needle in p.text and p.source == source), None)
    assert hit is not None, [(p.source, p.text[:80]) for p in reply.passages]
    assert office_bot.read_source(hit.source)[hit.start:hit.end] == hit.text


def test_a_slide_is_cited_by_its_number(office_bot):
    reply = office_bot.ask("Who developed the test file data for tika content parsing?", k=3)
    hit = next(p for p in reply.passages if "Rajiv Kumar Nistala" in p.text)
    assert hit.page == 2


@pytest.mark.parametrize("question, needle, source", [
    ("What does the sample Word document include in bold and italic?", "BOLD and ITALIC", "testWORD.doc"),
    ("Which Powerpoint release created the sample slide?", "Service Release 1", "testPPT.ppt"),
])
def test_legacy_office_questions_when_a_converter_is_installed(office_bot, question, needle, source):
    if source not in {s.source for s in office_bot.sources()}:
        pytest.skip("no converter for legacy Office files on this machine")
    reply = office_bot.ask(question, k=5)
    assert any(needle in p.text and p.source == source for p in reply.passages)


def test_every_registered_suffix_can_be_uploaded():
    from assistant.apps.web.uploads import check_upload

    for suffix in SUFFIXES:
        assert check_upload(f"Quarterly Report{suffix.upper()}", 1000) is None, suffix
    assert "not a supported type" in check_upload("setup.exe", 1000)
