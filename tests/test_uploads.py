"""Adding and removing documents: safe names, limits, and one background re-index that loses nothing."""

from __future__ import annotations

import os
import subprocess
import sys
import threading

import pytest

from assistant.apps.web.uploads import MAX_UPLOAD_BYTES, REMOVED, Reindexer, check_upload, remove_source, safe_name, save_upload
from assistant.errors import AssistantError


@pytest.mark.parametrize("name, expected", [
    ("../../etc/passwd.txt", "passwd.txt"),
    ("C:\\Users\\me\\Report 2026.PDF", "Report-2026.pdf"),
    ("Rapport d'été.docx", "Rapport-d-ete.docx"),
    ("...", "document"),
    ("notes", "notes"),
    ("a\x00b\n.md", "a-b.md"),
])
def test_uploaded_names_become_plain_file_names(name, expected):
    assert safe_name(name) == expected


def test_refused_uploads_say_why():
    assert "not a supported type" in check_upload("tool.exe", 10)
    assert "too large" in check_upload("big.pdf", MAX_UPLOAD_BYTES + 1)
    assert "empty file" in check_upload("blank.txt", 0)
    assert check_upload("guide.pdf", 1000) is None


def test_saving_never_overwrites_and_leaves_no_temp_file(tmp_path):
    corpus = tmp_path / "corpus"
    upload = tmp_path / "notes.txt"
    upload.write_text("first\n")
    assert save_upload(corpus, "notes.txt", upload) == "notes.txt"
    upload.write_text("second\n")
    assert save_upload(corpus, "../notes.txt", upload) == "notes-2.txt"
    assert (corpus / "notes.txt").read_text() == "first\n"
    assert sorted(p.name for p in corpus.iterdir()) == ["notes-2.txt", "notes.txt"]


def test_removing_moves_the_file_aside_and_only_indexed_files(tmp_path):
    corpus = tmp_path / "corpus"
    (corpus / "sub").mkdir(parents=True)
    (corpus / "sub" / "a.txt").write_text("a\n")
    (tmp_path / "outside.txt").write_text("x\n")
    moved = remove_source(corpus, "sub/a.txt", {"sub/a.txt"})
    assert not (corpus / "sub" / "a.txt").exists() and moved.read_text() == "a\n"
    assert REMOVED in moved.parts
    with pytest.raises(AssistantError):
        remove_source(corpus, "../outside.txt", {"sub/b.txt"})
    with pytest.raises(AssistantError):
        remove_source(corpus, "../outside.txt", {"../outside.txt"})
    assert (tmp_path / "outside.txt").exists()


def test_uploads_at_once_and_during_a_rebuild_are_all_indexed(live_copy, embedder, tmp_path):
    from assistant import Assistant

    corpus, index = live_copy
    reindexer = Reindexer(corpus, index, embedder)
    files = []
    for n, fact in enumerate(["The Hollin ferry leaves at noon.", "The Tarn cafe closes at four.",
                              "The Scar quarry shut in 1961."]):
        path = tmp_path / f"upload{n}.txt"
        path.write_text(f"Note {n}\n\n{fact}\n")
        files.append(path)
    threads = [threading.Thread(target=lambda p=p: (save_upload(corpus, p.name, p), reindexer.request(p.name)))
               for p in files[:2]]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    save_upload(corpus, files[2].name, files[2])  # while the first run may still be going
    reindexer.request(files[2].name)
    (corpus / "broken.pdf").write_bytes(b"%PDF-1.4 not a pdf")
    reindexer.request("broken.pdf")
    assert reindexer.wait(300)
    assert not reindexer.status.running and "Index updated" in reindexer.status.message
    assert any(line.startswith("broken.pdf: unreadable PDF") for line in reindexer.status.skipped)
    bot = Assistant.open(index, embedder=embedder)
    sources = {s.source for s in bot.sources()}
    assert {"upload0.txt", "upload1.txt", "upload2.txt"} <= sources
    assert bot.ask("When did the Scar quarry shut?", k=3).passages[0].source == "upload2.txt"


def test_partial_uploads_left_by_a_dead_app_are_removed_and_a_live_ones_kept(tmp_path):
    from assistant.apps.web.uploads import remove_partial_uploads

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    names = {"old": ".upload-0123abcd.tmp", "dead": f".upload-{dead.stdout.strip()}-abcd.tmp",
             "live": f".upload-{os.getpid()}-abcd.tmp", "doc": "notes.txt"}
    for name in names.values():
        (corpus / name).write_text("half a file")
    assert sorted(remove_partial_uploads(corpus)) == sorted([names["old"], names["dead"]])
    assert sorted(p.name for p in corpus.iterdir()) == sorted([names["live"], names["doc"]])


def test_an_upload_is_refused_past_the_corpus_file_limit():
    from assistant.ingest.reader import MAX_FILE_BYTES

    assert check_upload("big.pdf", MAX_FILE_BYTES) is None
    assert "too large" in check_upload("big.pdf", MAX_FILE_BYTES + 1)  # it would be saved, then skipped


def test_partial_uploads_in_a_collections_folder_are_removed_at_start_too(tmp_path):
    """The REST API and a signed-in user's page save into collection folders (corpus/hr/...)."""
    from types import SimpleNamespace

    from assistant.apps.web.serve import catch_up

    corpus = tmp_path / "corpus"
    (corpus / "hr").mkdir(parents=True)
    (corpus / "hr" / ".upload-0123abcd.tmp").write_text("half a file")
    (corpus / ".upload-0123abcd.tmp").write_text("half a file")
    requests: list[str] = []
    catch_up(SimpleNamespace(corpus=corpus, request=requests.append), set())
    assert not list(corpus.rglob(".upload-*")) and requests == []
