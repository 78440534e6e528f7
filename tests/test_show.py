"""`assistant show` given a bare file name names the indexed source(s) it may mean."""

from __future__ import annotations

import shutil

from helpers import CORPUS, error_line

from assistant import Assistant
from assistant.apps.cli import main as cli_main
from assistant.ingest.indexer import build_index


def test_show_suggests_the_indexed_source_with_that_file_name(seed_index_dir, embedder, tmp_path, capsys):
    corpus, index = tmp_path / "corpus", tmp_path / "index"
    shutil.copytree(CORPUS, corpus / "gov")
    shutil.copytree(seed_index_dir, index)
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
