"""`assistant show` given a bare file name names the indexed source(s) it may mean."""

from __future__ import annotations

from helpers import error_line

from assistant import Assistant
from assistant.apps.cli import main as cli_main
from assistant.ingest.indexer import build_index


def test_show_suggests_the_indexed_source_with_that_file_name(embedder, tmp_path, capsys):
    corpus, index = tmp_path / "corpus", tmp_path / "index"
    (corpus / "gov").mkdir(parents=True)  # two small files named as seeds: the names matter, not the text
    (corpus / "gov" / "healthcare-in-cambridgeshire.txt").write_text("Care in Cambridgeshire is shared.\n")
    (corpus / "gov" / "nhcp-why-we-must-change.txt").write_text("Why we must change.\n")
    (corpus / "other").mkdir()
    (corpus / "other" / "Healthcare-in-Cambridgeshire.TXT").write_text("A second file of that name.\n")
    build_index(corpus, index, embedder=embedder)

    assert cli_main(["show", "healthcare-in-cambridgeshire.txt", "--index", str(index)]) == 1
    line = error_line(capsys.readouterr().err)
    assert "not an indexed document: 'healthcare-in-cambridgeshire.txt'" in line
    assert "did you mean 'gov/healthcare-in-cambridgeshire.txt' or 'other/Healthcare-in-Cambridgeshire.TXT'?" in line
    assert cli_main(["show", "gov/healthcare-in-cambridgeshire.txt", "--index", str(index)]) == 0
    assert "Cambridgeshire" in capsys.readouterr().out

    bot = Assistant.open(index, embedder=embedder, warm=False)
    assert bot.sources_named("elsewhere/nhcp-why-we-must-change.txt") == ["gov/nhcp-why-we-must-change.txt"]
    assert bot.sources_named("nothing.txt") == [] and bot.sources_named("") == []
    assert cli_main(["show", "nothing.txt", "--index", str(index)]) == 1
    assert "did you mean" not in capsys.readouterr().err
