"""The Sources tab in headless Chromium: files not read, a refused upload's reason, the watched folder."""

from __future__ import annotations

import time

import pytest
from conftest import _watched_page, running_upload_app

from assistant.ingest.readers import SUFFIXES

GRADIO_PANDAS_NOISE = "ignore:.*(no_silent_downcasting|copy keyword).*:DeprecationWarning"
pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.filterwarnings(GRADIO_PANDAS_NOISE)]
BROKEN = "a<b>.pdf"


@pytest.fixture(scope="module")
def watched_app(seed_index_dir, embedder, tmp_path_factory):
    """The app with "Add documents" and the corpus watcher on, over a corpus with one unreadable file."""
    def add_broken(corpus):
        (corpus / BROKEN).write_bytes(b"%PDF-1.4 this is not a PDF")

    with running_upload_app(seed_index_dir, embedder, tmp_path_factory.mktemp("watched"), watch=True,
                            prepare=add_broken) as (_, port, corpus):
        yield f"http://127.0.0.1:{port}/", corpus


def test_files_not_read_are_listed_from_the_start(browser, watched_app):
    url, _ = watched_app
    with _watched_page(browser, 1400, 900) as page:
        page.goto(url)
        page.wait_for_selector("textarea")
        item = page.locator("#sources details.skipped li")
        assert item.locator(".name").inner_text() == BROKEN
        assert "PDF" in item.locator(".reason").inner_text()


def test_a_refused_upload_says_why_and_the_reason_stays(browser, watched_app, tmp_path):
    url, corpus = watched_app
    tool = tmp_path / "tool.exe"
    tool.write_bytes(b"MZ not a document")
    with _watched_page(browser, 1400, 900) as page:
        page.goto(url)
        page.wait_for_selector("textarea")
        with page.expect_file_chooser() as chooser:
            page.click("#add-documents")
        offered = set(page.locator("input[type=file]").get_attribute("accept").split(","))
        assert offered == set(SUFFIXES)
        chooser.value.set_files(str(tool))
        refusal = "#upload-status li:has-text('Not added: tool.exe: not a supported type')"
        page.wait_for_selector(refusal, timeout=30_000)
        time.sleep(6)  # longer than a toast lasts
        assert page.locator(refusal).is_visible()
    assert not (corpus / "tool.exe").exists()


def test_a_file_dropped_into_the_corpus_folder_appears_without_a_click(browser, watched_app):
    url, corpus = watched_app
    with _watched_page(browser, 1400, 900) as page:
        page.goto(url)
        page.wait_for_selector("textarea")
        (corpus / "ferry.txt").write_text("The Hollin ferry leaves the north quay at noon.\n", encoding="utf-8")
        page.wait_for_selector("#sources .file:text-is('ferry.txt')", timeout=120_000)
        (corpus / "ferry.txt").unlink()
        page.wait_for_function("() => ![...document.querySelectorAll('#sources .file')]"
                               ".some(e => e.textContent === 'ferry.txt')", timeout=120_000)
