"""PDF, Word and HTML files read as a person reads them: real files made by the tests.

Each file holds a fact found nowhere else; the questions must find it in the top 3, cited
with the right page or section, with no markup, script or navigation text, and with a span
that is exact against `read_source`.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import CHROMIUM, MARKDOWN_PAGE, html_to_pdf, make_docx

from assistant.ingest.indexer import build_index
from assistant.ingest.reader import read_document

GUIDE_HTML = """<html><head><title>Brackenfold Walking Guide</title><style>
@page { size: A4; margin: 20mm; }
body { font-family: serif; font-size: 11pt; margin: 14mm 0; }
h1 { font-size: 22pt; } h2 { font-size: 15pt; }
.hdr { position: fixed; top: 0; font-size: 9pt; } .ftr { position: fixed; bottom: 0; font-size: 9pt; }
.pb { page-break-before: always; }
</style></head><body>
<div class="hdr">Brackenfold Ramblers Association, members' guide</div>
<div class="ftr">Printed for members only</div>
<h1>Walking the Brackenfold Hills</h1>
<p>The Brackenfold hills lie north of the river and offer walks for every ability. This guide describes the
main routes, the huts where walkers may stay overnight and the rules for dogs and camping in the park.</p>
<h2>The Gorsedown Loop</h2>
<p>The Gorsedown Loop is an easy circular walk of seven kilometres starting from the village green. It crosses
the old packhorse bridge and climbs gently to the viewpoint above the reservoir.</p>
<div class="pb"></div>
<h2>Brackenfold Hut</h2>
<p>Brackenfold Hut stands at the head of the valley and sleeps twenty-six people in three dormitories. It is
open from April to October, and bookings are taken by the warden up to six months ahead. There is a drying
room, a kitchen with gas stoves and a wood-burning stove in the common room, and the hut is run by
volunteers from the association who take turns as wardens during the summer months.</p>
</body></html>"""

PAGE_HTML = """<!DOCTYPE html><html><head><title>Quarry Lane Allotments</title>
<style>body { color: #333 }</style>
<script>var decoy = "Plots at Quarry Lane cost nine hundred pounds a year";</script></head><body>
<header><nav><a href="/">Home</a> <a href="/plots">Plots</a> <a href="/join">Join the waiting list</a></nav></header>
<aside class="sidebar"><h3>Latest news</h3><p>The harvest supper is on 14 September in the scout hut.</p></aside>
<main><article>
<h1>Quarry Lane Allotments</h1>
<p>Quarry Lane Allotments has sixty plots on the south side of the old quarry, looked after by the parish council.</p>
<h2>Rent</h2>
<p>A full plot costs thirty-two pounds a year and a half plot seventeen pounds, payable each October.
Water is included in the rent.</p>
<h2>Rules</h2>
<ul><li>Bonfires are allowed only in November.</li><li>Sheds may be no taller than two metres.</li></ul>
</article></main>
<form><label>Email</label><input type="email"><button>Subscribe</button></form>
<footer><p>Copyright Quarry Lane Allotment Society. Registered charity 1234567.</p></footer>
</body></html>"""


@pytest.fixture(scope="module")
def mixed_corpus(tmp_path_factory) -> Path:
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no Chromium at {CHROMIUM} to print the PDF")
    corpus = tmp_path_factory.mktemp("mixed") / "corpus"
    corpus.mkdir()
    html_to_pdf(GUIDE_HTML, corpus / "walking-guide.pdf")
    (corpus / "allotments.html").write_text(PAGE_HTML, encoding="utf-8")
    make_docx(corpus / "library.docx")
    (corpus / "harbour.md").write_text(MARKDOWN_PAGE, encoding="utf-8")
    (corpus / "notes.txt").write_text("Village notes\n\nThe ferry to Hollin Island leaves at noon on Sundays.\n")
    (corpus / "scan.pdf").write_bytes(html_to_pdf("<html><body><div style='width:200px;height:200px;"
                                                  "background:#888'></div></body></html>",
                                                  corpus.parent / "scan.pdf").read_bytes())
    (corpus / "broken.pdf").write_bytes(b"%PDF-1.7\nthis is not really a PDF\n")
    return corpus


@pytest.fixture(scope="module")
def mixed_bot(mixed_corpus, tmp_path_factory, embedder):
    from assistant import Assistant

    index = tmp_path_factory.mktemp("mixed-index") / "index"
    summary = build_index(mixed_corpus, index, embedder=embedder)
    assert summary.documents == 5
    reasons = {s.source: s.reason for s in summary.skipped}
    assert reasons["scan.pdf"].startswith("no text layer")
    assert reasons["broken.pdf"].startswith("unreadable PDF")
    return Assistant.open(index, embedder=embedder)


def _found(bot, question: str, needle: str, source: str):
    reply = bot.ask(question, k=3)
    hit = next((p for p in reply.passages if needle in p.text), None)
    assert hit is not None and hit.source == source, [(p.source, p.text[:80]) for p in reply.passages]
    assert bot.read_source(hit.source)[hit.start : hit.end] == hit.text
    return reply, hit


def test_pdf_fact_on_page_two_is_cited_at_page_two(mixed_bot):
    reply, hit = _found(mixed_bot, "How many people can sleep in Brackenfold Hut?", "twenty-six people",
                        "walking-guide.pdf")
    assert hit.page == 2 and hit.section.endswith("Brackenfold Hut")
    assert hit.title == "Brackenfold Walking Guide"
    assert reply.confident and "twenty-six" in reply.answer and reply.answer_page == 2
    text = mixed_bot.read_source("walking-guide.pdf")
    assert "members' guide" not in text and "Printed for members" not in text  # running header and footer
    assert "\f" in text  # the page break is kept


def test_pdf_hard_wraps_are_joined(mixed_bot):
    text = mixed_bot.read_source("walking-guide.pdf")
    assert "describes the main routes" in text and "It crosses the old packhorse bridge" in text


def test_html_main_content_only(mixed_bot):
    reply, hit = _found(mixed_bot, "How much does a full allotment plot cost each year?", "thirty-two pounds",
                        "allotments.html")
    assert hit.section == "Rent" and hit.title == "Quarry Lane Allotments"
    text = mixed_bot.read_source("allotments.html")
    for noise in ("nine hundred", "decoy", "Join the waiting list", "harvest supper", "Subscribe", "Registered charity",
                  "<", "color:"):
        assert noise not in text, noise
    assert "Bonfires are allowed only in November." in text


def test_docx_headings_and_table(mixed_bot):
    reply, hit = _found(mixed_bot, "What time does Millbrook Library open on Saturday?", "Saturday", "library.docx")
    assert hit.section == "Opening hours" and hit.title == "Millbrook Library Guide"
    assert "Day: Saturday; Opens: 10:30" in hit.text
    _, listed = _found(mixed_bot, "How many items can a member borrow?", "fourteen items", "library.docx")
    assert listed.section == "Borrowing"


def test_markdown_table_and_code_without_markup(mixed_bot):
    reply, hit = _found(mixed_bot, "How long is the Quayside North berth?", "310 metres", "harbour.md")
    assert hit.section == "Berths" and "|" not in hit.text
    reply, hit = _found(mixed_bot, "What command installs the harbour client?", "harbour-cli install", "harbour.md")
    assert hit.section == "Installing" and "```" not in hit.text


def test_plain_text_still_read_as_before(mixed_bot):
    _found(mixed_bot, "When does the ferry to Hollin Island leave?", "at noon on Sundays", "notes.txt")


def test_only_unreadable_pdfs_say_why(tmp_path, capsys):
    from assistant.apps.cli import main as cli_main

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "a.pdf").write_bytes(b"not a pdf")
    assert cli_main(["index", "--corpus", str(corpus), "--index", str(tmp_path / "index")]) == 1
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "1 file skipped: a.pdf: unreadable PDF" in err


def test_every_block_is_an_exact_span(mixed_corpus):
    for name in ("walking-guide.pdf", "allotments.html", "library.docx"):
        document = read_document(mixed_corpus / name, name)
        assert document.blocks
        for block in document.blocks:
            piece = document.text[block.start : block.end]
            assert piece == piece.strip() and piece


def _visible(html: str) -> str:
    """What a person reads in rendered HTML: tags and inline images removed, entities decoded."""
    import html as html_lib
    import re

    return html_lib.unescape(re.sub(r"<[^>]+>", " ", html))


def test_viewer_draws_the_cited_span_on_the_pdf_page(mixed_bot):
    from assistant.apps.web.app import WebChat

    reply, hit = _found(mixed_bot, "How many people can sleep in Brackenfold Hut?", "twenty-six people",
                        "walking-guide.pdf")
    viewer = WebChat(mixed_bot).document_html(hit.source, reply.answer_start, reply.answer_end)
    assert "Page 2 of the PDF" in viewer and 'src="data:image/png;base64,' in viewer
    assert viewer.count('class="pdf-box"') >= 1  # one box per line of the cited sentence
    assert '<h3 class="doc-heading">' in viewer or '<h4 class="doc-heading">' in viewer
    assert "p. 2" in viewer


def test_viewer_shows_structure_not_markup(mixed_bot, bot):
    from assistant.apps.web.app import WebChat

    docx_view = WebChat(mixed_bot).document_html("library.docx")
    assert '<div class="doc-table">' in docx_view and "<li>Members may borrow" in docx_view
    seed = next(s.source for s in bot.sources())
    seed_view = _visible(WebChat(bot).document_html(seed))
    assert "==" not in seed_view  # wiki-style heading markup is shown as headings
    passage = bot.ask("How many partners does Lakeside Surgery have?", k=1).passages[0]
    marked = WebChat(bot).document_html(passage.source, passage.start, passage.end)
    assert marked.count('<mark class="cited">') == 1


def test_changed_pdf_gives_no_page_image_but_still_the_text(mixed_bot, mixed_corpus, tmp_path):
    import shutil

    from assistant import Assistant
    from assistant.apps.web.app import WebChat
    from assistant.index.local import LocalStore

    corpus = tmp_path / "corpus"
    shutil.copytree(mixed_corpus, corpus)
    build_index(corpus, tmp_path / "index", embedder=mixed_bot._embedder)
    bot = Assistant(tmp_path / "index", LocalStore.open(tmp_path / "index"), mixed_bot._embedder)
    (corpus / "walking-guide.pdf").write_bytes(b"%PDF-1.4 changed")
    viewer = WebChat(bot).document_html("walking-guide.pdf", 0, 10)
    assert "data:image/png" not in viewer and "Brackenfold" in viewer


def test_show_prints_the_text_citations_refer_to(mixed_bot, capsys):
    import json

    from assistant.apps.cli import main as cli_main

    index = str(mixed_bot.index_dir)
    assert cli_main(["show", "allotments.html", "--index", index]) == 0
    assert capsys.readouterr().out.rstrip("\n") == mixed_bot.read_source("allotments.html")
    assert cli_main(["show", "walking-guide.pdf", "--index", index, "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["format"] == "pdf" and len(shown["pages"]) == 1 and shown["blocks"][0][0] == "heading"
    assert cli_main(["show", "nope.pdf", "--index", index]) == 1
    assert "not an indexed document" in capsys.readouterr().err


def test_the_original_file_is_served_only_for_indexed_files(mixed_bot, mixed_corpus):
    import httpx
    from helpers import free_port

    from assistant.apps.web.app import WebChat, build_blocks
    from assistant.apps.web.serve import launch_options

    app = build_blocks(mixed_bot)
    options = launch_options(server_name="127.0.0.1", server_port=free_port(), bot=mixed_bot)
    app.launch(**options, prevent_thread_lock=True, quiet=True)
    url = f"http://127.0.0.1:{options['server_port']}/original"
    try:
        pdf = httpx.get(url, params={"source": "walking-guide.pdf"}, timeout=60)
        assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
        assert pdf.content == (mixed_corpus / "walking-guide.pdf").read_bytes()
        page = httpx.get(url, params={"source": "allotments.html"}, timeout=60)
        assert page.headers["content-disposition"].startswith("attachment")  # never rendered on our origin
        for bad in ("../walking-guide.pdf", "/etc/passwd", "scan.pdf", "broken.pdf", "", "walking-guide.pdf/.."):
            refused = httpx.get(url, params={"source": bad}, timeout=60)
            assert refused.status_code == 404 and "not an indexed document" in refused.text, bad
    finally:
        app.close()
    reply, hit = _found(mixed_bot, "How many people can sleep in Brackenfold Hut?", "twenty-six people",
                        "walking-guide.pdf")
    viewer = WebChat(mixed_bot).document_html(hit.source, hit.start, hit.end)
    assert 'href="original?source=walking-guide.pdf#page=2"' in viewer


def test_form_feeds_are_the_pages_of_a_text_file_everywhere(tmp_path, embedder):
    """One page mechanism for every format: a text file's form feeds give `Document.pages`, so
    chunks, replies and the viewer all cite the same page (the viewer used to show none)."""
    from assistant import Assistant
    from assistant.apps.web.app import WebChat
    from assistant.types import Document

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "minutes.txt").write_text("Minutes of the parish meeting\n\nThe hall roof was discussed at length.\n\f"
                                        "The ferry to Hollin Island will run at noon on Sundays from May.\n")
    build_index(corpus, tmp_path / "index", embedder=embedder)
    bot = Assistant.open(tmp_path / "index", embedder=embedder)
    reply, hit = _found(bot, "When does the ferry to Hollin Island run?", "at noon on Sundays", "minutes.txt")
    assert hit.page == 2 and reply.answer_page == 2
    start = bot.read_source("minutes.txt").index("The ferry")
    assert "p. 2" in WebChat(bot).document_html("minutes.txt", start, start + 9)
    old_row = {"source": "a.txt", "text": "one\fTwo", "title": "A", "sha256": "0", "encoding": "utf-8"}
    assert Document.from_row(old_row).page_at(4) == 2 and Document.from_row(old_row).page_at(3) == 1


def test_a_blank_first_page_still_counts(tmp_path):
    """A PDF that opens with a page without text (a cover picture) cites its later pages by their
    real numbers: the empty page's start is recorded like any other."""
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no Chromium at {CHROMIUM} to print the PDF")
    pdf = html_to_pdf("<html><body><div style='width:200px;height:200px;background:#888;page-break-after:always'>"
                      "</div><p>The Tarn cafe closes at four in winter.</p></body></html>", tmp_path / "cover.pdf")
    document = read_document(pdf, "cover.pdf")
    start = document.text.index("The Tarn cafe")
    assert document.page_at(start) == 2 and document.blocks[0].page == 2
