"""Adding and removing documents through the real page, in headless Chromium."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from conftest import _watched_page, running_upload_app
from helpers import make_docx

GRADIO_PANDAS_NOISE = "ignore:.*(no_silent_downcasting|copy keyword).*:DeprecationWarning"
pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.filterwarnings(GRADIO_PANDAS_NOISE)]
REPLIES = "#transcript .msg.bot:not(:has(.pending))"


@pytest.fixture(scope="module")
def upload_app(seed_index_dir, embedder, tmp_path_factory):
    """The app with "Add documents" on, over a writable copy of the seed corpus and index."""
    with running_upload_app(seed_index_dir, embedder, tmp_path_factory.mktemp("uploads")) as (_, port, corpus):
        yield f"http://127.0.0.1:{port}/", corpus


def test_add_ask_and_remove_a_document_in_the_browser(browser, upload_app, tmp_path):
    url, corpus = upload_app
    upload = make_docx(tmp_path / "Millbrook Library.docx")
    with _watched_page(browser, 1400, 900) as page:
        page.goto(url)
        page.wait_for_selector("textarea")
        page.locator("input[type=file]").set_input_files(str(upload))
        page.wait_for_selector("#sources .file:text-is('Millbrook-Library.docx')", timeout=180_000)
        assert "Index updated" in page.locator("#upload-status").inner_text()
        assert (corpus / "Millbrook-Library.docx").read_bytes() == upload.read_bytes()

        page.fill("textarea", "How many items can a member of Millbrook Library borrow?")
        page.keyboard.press("Enter")
        page.wait_for_selector(REPLIES)
        reply = page.locator(REPLIES).last
        assert "fourteen items" in reply.locator(".answer").inner_text()
        assert "Millbrook-Library.docx" in reply.locator(".citation .file").first.inner_text()

        row = page.locator("#sources tr", has=page.locator(".file:text-is('Millbrook-Library.docx')"))
        row.locator("button.remove-source").click()
        page.wait_for_function("() => ![...document.querySelectorAll('#sources .file')]"
                               ".some(e => e.textContent === 'Millbrook-Library.docx')", timeout=180_000)
        assert not (corpus / "Millbrook-Library.docx").exists()
        assert list((corpus / ".removed").rglob("Millbrook-Library.docx"))


def test_a_corrupt_pdf_is_refused_with_its_reason_and_nothing_is_lost(browser, upload_app, tmp_path):
    url, corpus = upload_app
    before = sorted(p.name for p in corpus.iterdir() if not p.name.startswith("."))
    broken = tmp_path / "broken.pdf"
    broken.write_bytes(b"%PDF-1.4 this is not a PDF")
    with _watched_page(browser, 1400, 900) as page:
        page.goto(url)
        page.wait_for_selector("textarea")
        page.locator("input[type=file]").set_input_files(str(broken))
        page.wait_for_selector("#upload-status li:has-text('Skipped broken.pdf: unreadable PDF')", timeout=180_000)
        rows = page.locator("#sources .file").all_inner_texts()
    assert "broken.pdf" not in rows and set(before) <= set(rows)


REAL = Path(__file__).resolve().parent.parent / "data" / "real"
ONE_OF_EACH = ["testPPT.pptx", "testEXCEL.xlsx", "testEXCEL.xls", "testCSV.csv", "testRFC822_multipart_attachments.eml",
               "single_mail.mbox", "testEPUB.epub", "LibreOfficeWriter_odt_1.3.odt", "LibreOfficeCalc_ods_1.3.ods",
               "LibreOfficeImpress_odp_1.3.odp", "testRTF.rtf", "libffi-Thread-Safety.html", "pdf/testOCR.pdf", "testMSG.msg"]


def test_one_real_file_of_each_format_uploaded_in_the_browser_is_indexed(browser, upload_app):
    """Real files nobody here made (Apache Tika's test documents, libffi's manual), all at once through the
    page's picker: every one is indexed and listed, none is refused or left unread."""
    from assistant.apps.web.uploads import safe_name

    url, corpus = upload_app
    files = [REAL / name for name in ONE_OF_EACH]
    files += [REAL / name for name, tool in (("testWORD.doc", "antiword"), ("testPPT.ppt", "catppt")) if shutil.which(tool)]
    names = [safe_name(path.name) for path in files]
    with _watched_page(browser, 1400, 900) as page:
        page.goto(url)
        page.wait_for_selector("textarea")
        page.locator("input[type=file]").set_input_files([str(path) for path in files])
        page.wait_for_function("names => names.every(n => [...document.querySelectorAll('#sources .file')]"
                               ".some(e => e.textContent === n))", arg=names, timeout=300_000)
        # The list can show a file before its run ends (files not read yet are listed too): wait for the run.
        page.wait_for_function("() => document.querySelector('#upload-status').innerText.includes('Index updated')",
                               timeout=300_000)
        status = page.locator("#upload-status").inner_text()
    assert "Index updated" in status and not any(f"Skipped {name}" in status for name in names), status
    assert all((corpus / name).exists() for name in names)
