"""Files the index did not read are visible from the library and in the Sources view, with their reasons."""

from __future__ import annotations

import gradio as gr
import pytest
from helpers import writable_index

from assistant import Assistant
from assistant.apps.web.uploads import Reindexer
from assistant.types import Skipped

BROKEN = "a<b>.pdf"


@pytest.fixture
def live(seed_index_dir, tmp_path, embedder):
    def add_broken(corpus):
        (corpus / BROKEN).write_bytes(b"%PDF-1.4 this is not a PDF")

    return writable_index(seed_index_dir, tmp_path, embedder, prepare=add_broken)


def test_the_library_lists_files_not_read(live, embedder):
    _, index = live
    skipped = Assistant.open(index, embedder=embedder, warm=False).skipped()
    assert [s.source for s in skipped] == [BROKEN]
    assert isinstance(skipped[0], Skipped) and "PDF" in skipped[0].reason


def test_the_sources_view_shows_them_and_follows_each_run(live, embedder):
    from assistant.apps.web.app import WebChat

    corpus, index = live
    bot = Assistant.open(index, embedder=embedder, warm=False)
    reindexer = Reindexer(corpus, index, embedder)
    chat = WebChat(bot, reindexer=reindexer)
    html_ = chat.sources_html()
    assert "a&lt;b&gt;.pdf" in html_ and "1 file not read" in html_

    status, sources, header, poll, seen = chat.refresh(0)  # nothing ran since: nothing sent
    assert seen == 0 and all(_untouched(x) for x in (status, sources, header, poll))
    (corpus / BROKEN).unlink()
    (corpus / "empty.docx").write_bytes(b"not a zip")
    reindexer.request("test")
    assert reindexer.wait(120)
    status, sources, header, poll, seen = chat.refresh(0)
    assert seen == 1 and "empty.docx" in sources and "a&lt;b&gt;.pdf" not in sources
    assert all(_untouched(x) for x in chat.refresh(seen)[:4])  # this run seen: nothing sent again


def _untouched(update) -> bool:
    return update == gr.skip()
