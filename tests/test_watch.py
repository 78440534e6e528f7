"""The corpus folder kept in step: files added, changed and deleted are indexed without a click."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from assistant import Assistant
from assistant.apps.web.uploads import Reindexer
from assistant.ingest.watch import CorpusWatcher, watch_setting

FACT = "The Hollin ferry leaves the north quay at seven minutes past noon."


@pytest.fixture
def live(live_copy):
    return live_copy


def until(check, seconds: float = 30.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.2)
    return False


def test_hidden_names_and_the_index_folder_are_not_watched(tmp_path):
    watcher = CorpusWatcher(tmp_path, lambda sources: None, ignore=tmp_path / "index")
    assert watcher.relevant(tmp_path / "sub" / "a.txt") == "sub/a.txt"
    for ignored in (tmp_path / ".removed" / "x" / "a.txt", tmp_path / ".upload-1-ab.tmp", tmp_path / "sub" / ".a.swp",
                    tmp_path / "index" / "manifest.json", tmp_path / "index", tmp_path.parent / "other.txt"):
        assert watcher.relevant(ignored) is None, ignored


@pytest.mark.parametrize("value, setting", [("", "events"), ("1", "events"), ("0", "off"), ("off", "off"),
                                            ("poll", "poll")])
def test_the_watch_setting(monkeypatch, value, setting):
    monkeypatch.setenv("ASSISTANT_WATCH", value)
    assert watch_setting() == setting


@pytest.mark.slow
@pytest.mark.parametrize("polling", [False, True], ids=["events", "polling"])
def test_added_changed_and_deleted_files_are_kept_in_step(live, embedder, polling):
    corpus, index = live
    reindexer = Reindexer(corpus, index, embedder)
    runs: list[list[str]] = []

    def request(sources: list[str]) -> None:
        runs.append(sources)
        reindexer.request("changed")

    watcher = CorpusWatcher(corpus, request, ignore=index, quiet=0.5, polling=polling).start()
    bot = Assistant.open(index, embedder=embedder, warm=False)
    try:
        time.sleep(0.5)  # the watch is set up
        (corpus / "ferry.txt").write_text(FACT + "\n", encoding="utf-8")
        assert until(lambda: "ferry.txt" in {s.source for s in bot.sources()}), runs
        (corpus / "ferry.txt").write_text(FACT.replace("seven", "nine") + "\n", encoding="utf-8")
        assert until(lambda: "nine minutes" in _text(bot, "ferry.txt")), runs
        (corpus / "ferry.txt").unlink()
        assert until(lambda: "ferry.txt" not in {s.source for s in bot.sources()}), runs
        assert ["ferry.txt"] in runs
        # the app's own hidden files start no run
        count = len(runs)
        (corpus / ".upload-1-x.tmp").write_text("half\n")
        (corpus / ".removed").mkdir()
        time.sleep(2.0)
        assert len(runs) == count
    finally:
        watcher.stop()
        reindexer.wait()


def _text(bot, source: str) -> str:
    try:
        return bot.document(source).text
    except Exception:  # noqa: BLE001 - not indexed yet
        return ""


def test_the_app_does_not_watch_when_turned_off(live, embedder, monkeypatch):
    from assistant.apps.web.serve import start_watching

    corpus, index = live
    monkeypatch.setenv("ASSISTANT_WATCH", "0")
    assert start_watching(Reindexer(corpus, index, embedder)) is None
    monkeypatch.setenv("ASSISTANT_WATCH", "poll")
    watcher = start_watching(Reindexer(corpus, index, embedder))
    assert watcher is not None and watcher.polling
    watcher.stop()


@pytest.mark.slow
def test_cli_index_watch_indexes_a_new_file_until_stopped(live, embedder):
    corpus, index = live
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
    proc = subprocess.Popen([sys.executable, "-m", "assistant.cli", "index", "--corpus", str(corpus),
                             "--index", str(index), "--watch"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=env)
    try:
        assert proc.stdout.readline().startswith("indexed ")  # the ordinary run first
        time.sleep(1.0)
        (corpus / "ferry.txt").write_text(FACT + "\n", encoding="utf-8")
        line = proc.stdout.readline()  # one line per run
        assert line.startswith("indexed ") and "(1 embedded" in line, line
        bot = Assistant.open(index, embedder=embedder, warm=False)
        assert "ferry.txt" in {s.source for s in bot.sources()}
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert "ferry.txt changed in the corpus folder" in err and "Traceback" not in err
