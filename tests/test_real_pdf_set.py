"""The real-PDF question set (issue 20): labels that point at real pages, the page-correct rule, and
a file of it that used to stop the index run. Its figures are a benchmark (benchmarks/real_pdfs.py):
indexing its 91 pages takes minutes, too long for the suite."""

from __future__ import annotations

from pathlib import Path

import pypdfium2 as pdfium

from assistant.ingest.reader import read_document
from assistant.tools.evaluate import expected_pages, load_questions, page_correct
from assistant.types import Passage

EVAL = Path(__file__).resolve().parent.parent / "eval"


def test_every_answerable_question_names_a_file_of_the_set_and_pages_it_has():
    questions = load_questions(EVAL / "real-pdfs.jsonl")
    counts = {}
    for item in questions:
        if not item.get("answerable", True):
            assert "answers" not in item and "page" not in item
            continue
        path = EVAL / "real-pdfs" / item["source"]
        if path.name not in counts:
            counts[path.name] = len(pdfium.PdfDocument(path))
        pages = expected_pages(item)
        assert pages and all(1 <= p <= counts[path.name] for p in pages), item["id"]
    assert len(counts) == len(list((EVAL / "real-pdfs").glob("*.pdf")))  # every file is asked about


def test_page_correct_needs_the_expected_source_and_one_of_its_pages():
    item = {"source": "a.pdf", "page": [2, 5]}

    def passage(source, page):
        return Passage(rank=1, text="", source=source, title="", section="", start=0, end=0, score=1.0, page=page)

    assert page_correct(passage("a.pdf", 5), item)
    assert not page_correct(passage("a.pdf", 3), item)
    assert not page_correct(passage("b.pdf", 2), item)
    assert not page_correct(None, item)
    assert page_correct(passage("a.pdf", 1), {"source": "a.pdf", "page": 1})
    assert expected_pages({"source": "a.pdf"}) == []


def test_a_glyph_pdfium_cannot_pair_is_a_replacement_character_not_a_stopped_index_run():
    # PDFium gives U+D800 for each Gothic letter of this Word export; the tokenizer refused the
    # batch holding it and the whole index run ended ("internal error: TypeError").
    doc = read_document(EVAL / "real-pdfs" / "testPDFVarious.pdf", "testPDFVarious.pdf")
    assert doc.text.encode("utf-8") and "\ufffd" in doc.text
    assert "Row 2 Col 3" in doc.text  # offsets kept: the rest of the page reads as before
