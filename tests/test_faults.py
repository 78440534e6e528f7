"""Faults: corrupt files, kill -9, a second writer, a full disk or read-only folder, and load.

Most runs here are the real `assistant index` console script on a corpus where one file was
removed and one line added to another, so each run writes a small segment and embeds only the
changed passage (about a second, and no torch).
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import signal
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from helpers import ASSISTANT, CORPUS, error_line

from assistant import Assistant, AssistantError
from assistant.apps.cli import main as cli_main
from assistant.index.folder import FAULT_ENV, write_lock
from assistant.index.manifest import MANIFEST, REBUILD_HINT, read_manifest
from assistant.index.segment import FILES
from assistant.ingest.indexer import build_index

CHAIR = "Who is the independent chair of NHCP?"  # answered by the file the runs below remove
SHARED_CARE = "Which company is building the shared care record in Cambridgeshire and Peterborough?"
QUESTIONS = [CHAIR]
REMOVED = "northamptonshire-new-integrated-care-system.txt"
CHANGED = "healthcare-in-cambridgeshire.txt"
ADDED_LINE = "\nThe Zephyr Ward at Wisbech opened in 2031 with seventeen beds.\n"


def make_change(corpus: Path) -> None:
    """Remove one file and add a line to another: a commit that deletes and adds."""
    (corpus / REMOVED).unlink()
    with open(corpus / CHANGED, "a") as handle:
        handle.write(ADDED_LINE)


def run_index(corpus: Path, index: Path, fault: str | None = None, prefix: tuple = (), **kwargs):
    env = {k: v for k, v in os.environ.items() if k != FAULT_ENV} | ({FAULT_ENV: fault} if fault else {})
    return subprocess.run([*prefix, str(ASSISTANT), "index", "--corpus", str(corpus), "--index", str(index)],
                          capture_output=True, text=True, timeout=120, env=env, **kwargs)


def answers(index: Path, embedder) -> list[dict]:
    """What a freshly started assistant answers from this index folder."""
    bot = Assistant.open(index, embedder=embedder)
    return [bot.ask(q).to_dict() for q in QUESTIONS]


def segments(index: Path) -> set[str]:
    return {p.name for p in index.iterdir() if p.name.startswith("seg-")}


def live_segments(index: Path) -> set[str]:
    return {s["name"] for s in read_manifest(index)["segments"]}


@pytest.fixture(scope="module")
def expected(seed_index_dir, tmp_path_factory, embedder) -> dict[str, list[dict]]:
    """Answers before the change (seed index) and after it (the same index without REMOVED)."""
    work = tmp_path_factory.mktemp("expected")
    shutil.copytree(CORPUS, work / "corpus")
    make_change(work / "corpus")
    shutil.copytree(seed_index_dir, work / "index")
    build_index(work / "corpus", work / "index", embedder=embedder)
    before, after = answers(seed_index_dir, embedder), answers(work / "index", embedder)
    assert before != after
    return {"before": before, "after": after}


@pytest.fixture
def change(corpus_copy, seed_index_dir, tmp_path) -> tuple[Path, Path]:
    """(corpus, index): a copy of the seed index, and its corpus with one file removed and one changed."""
    index = tmp_path / "index"
    shutil.copytree(seed_index_dir, index)
    make_change(corpus_copy)
    return corpus_copy, index


def assert_next_run_recovers(corpus: Path, index: Path, embedder, expected) -> None:
    """The next run succeeds, answers from the new index, and leaves only segments the current or
    the previous manifest uses."""
    previous = live_segments(index)
    build_index(corpus, index, embedder=embedder)
    assert answers(index, embedder) == expected["after"]
    assert not list(index.glob("*.tmp"))
    assert live_segments(index) <= segments(index) <= live_segments(index) | previous


# ---------------------------------------------------------------- corruption


@pytest.mark.parametrize("damage", ["truncated", "bit-flipped"])
@pytest.mark.parametrize("name", FILES)
def test_a_damaged_index_file_is_named_with_how_to_rebuild(name, damage, seed_index_dir, tmp_path, capsys):
    index = tmp_path / "index"
    shutil.copytree(seed_index_dir, index)
    path = index / read_manifest(index)["segments"][0]["name"] / name
    data = bytearray(path.read_bytes())
    if damage == "truncated":
        del data[len(data) // 2:]
    else:
        data[len(data) // 2] ^= 0x01  # one bit, in the middle: most such flips still parse
    path.write_bytes(data)
    assert cli_main(["ask", CHAIR, "--index", str(index)]) == 1
    assert error_line(capsys.readouterr().err) == (
        f"assistant: error: index file {path} is corrupt (checksum mismatch): {REBUILD_HINT.format(index=index)}")


@pytest.mark.parametrize("damage,message", [("truncated", "is unreadable (JSONDecodeError)"),
                                            ("bit-flipped", "is corrupt (checksum mismatch)"),
                                            ("deleted file", "is missing")])
def test_a_damaged_manifest_or_missing_file_is_reported(damage, message, seed_index_dir, tmp_path, capsys):
    index = tmp_path / "index"
    shutil.copytree(seed_index_dir, index)
    manifest = index / MANIFEST
    data = bytearray(manifest.read_bytes())
    if damage == "truncated":
        manifest.write_bytes(data[: len(data) // 2])
    elif damage == "bit-flipped":  # inside the corpus path, so the JSON still parses
        at = data.index(b'"corpus": "') + 12
        data[at + 1] ^= 0x01
        manifest.write_bytes(data)
        json.loads(data)
    else:
        (index / read_manifest(index)["segments"][0]["name"] / "kw_docs.npy").unlink()
    assert cli_main(["sources", "--index", str(index)]) == 1
    line = error_line(capsys.readouterr().err)
    assert message in line and line.endswith(REBUILD_HINT.format(index=index))


def test_the_rebuild_the_message_asks_for_repairs_a_corrupt_index(tmp_path, embedder):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "a.txt").write_text("The Alder clinic opens at eight.\n")
    (corpus / "b.txt").write_text("The Birch clinic opens at nine.\n")
    index = tmp_path / "index"
    build_index(corpus, index, embedder=embedder)
    path = index / read_manifest(index)["segments"][0]["name"] / "dense.faiss"
    data = bytearray(path.read_bytes())
    data[-5] ^= 0x40  # a vector value: without checksums this would silently change answers
    path.write_bytes(data)
    with pytest.raises(AssistantError, match="dense.faiss is corrupt"):
        Assistant.open(index, embedder=embedder)
    summary = build_index(corpus, index, embedder=embedder)
    assert summary.embedded == 2 and summary.reused == 0  # nothing reused from the damaged index
    assert Assistant.open(index, embedder=embedder).ask("When does the Birch clinic open?").answer_source == "b.txt"


# ---------------------------------------------------------------- kill -9


@pytest.mark.parametrize("point", ["started", "segment-written", "segment-renamed", "manifest-written", "committed"])
def test_kill_at_each_step_of_the_commit_loses_nothing(point, change, embedder, expected):
    corpus, index = change
    run = run_index(corpus, index, fault=f"kill:{point}")
    assert run.returncode == -signal.SIGKILL, run.stderr
    assert answers(index, embedder) == expected["after" if point == "committed" else "before"]
    assert_next_run_recovers(corpus, index, embedder, expected)


def test_kill_after_embedding_a_changed_file_keeps_the_old_index(corpus_copy, seed_index_dir, tmp_path, embedder,
                                                                 expected):
    index = tmp_path / "index"
    shutil.copytree(seed_index_dir, index)
    make_change(corpus_copy)
    run = run_index(corpus_copy, index, fault="kill:embedded")  # the real model loads and embeds first
    assert run.returncode == -signal.SIGKILL, run.stderr
    assert answers(index, embedder) == expected["before"]
    assert segments(index) == live_segments(index)


def test_kill_after_random_delays_leaves_the_old_or_the_new_index_never_a_mix(change, seed_index_dir, embedder,
                                                                               expected):
    corpus, index = change
    outcomes = []
    for delay in (0.05, 0.25, 0.4, 0.55, 0.8):
        shutil.rmtree(index)
        shutil.copytree(seed_index_dir, index)
        proc = subprocess.Popen([str(ASSISTANT), "index", "--corpus", str(corpus), "--index", str(index)],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        outcomes.append(proc.wait())
        assert answers(index, embedder) in (expected["before"], expected["after"])
    assert -signal.SIGKILL in outcomes
    assert_next_run_recovers(corpus, index, embedder, expected)


# ---------------------------------------------------------------- concurrency


def test_a_second_writer_fails_clearly_and_changes_nothing(change):
    corpus, index = change
    before = (index / MANIFEST).read_bytes()
    with write_lock(index):  # what a running `assistant index` holds
        run = run_index(corpus, index)
    assert run.returncode == 1
    assert error_line(run.stderr) == (
        f"assistant: error: index at {index} is being written by pid {os.getpid()}; try again when it finishes")
    assert (index / MANIFEST).read_bytes() == before
    assert run_index(corpus, index).returncode == 0  # a killed or finished holder releases the lock


def test_a_running_assistant_answers_during_a_rebuild_then_switches(corpus_copy, seed_index_dir, tmp_path, embedder):
    index = tmp_path / "index"
    shutil.copytree(seed_index_dir, index)
    bot = Assistant.open(index, embedder=embedder)
    question = "How many beds does the Zephyr Ward at Wisbech have?"
    old = bot.ask(question).to_dict()
    with open(corpus_copy / "healthcare-in-cambridgeshire.txt", "a") as handle:  # the whole file is re-embedded
        handle.write("\n== Zephyr Ward ==\nThe Zephyr Ward at Wisbech opened in 2031 with seventeen beds.\n")
    builder = threading.Thread(target=build_index, args=(corpus_copy, index), kwargs={"embedder": embedder})
    builder.start()
    during = []
    while builder.is_alive():
        during.append(bot.ask(question).to_dict())
    builder.join()
    new = Assistant.open(index, embedder=embedder).ask(question).to_dict()
    assert "seventeen beds" in new["answer"] and "seventeen beds" not in old["answer"]
    assert during and all(reply in (old, new) for reply in during)
    assert bot.ask(question).to_dict() == new  # switched to the committed index without a restart


def test_opening_an_index_while_rebuilds_remove_its_segment_retries(change, embedder, monkeypatch):
    """Two commits during one open remove the segment being verified; the open starts again."""
    from assistant.index import manifest
    from assistant.ingest.chunker import ChunkSettings

    corpus, index = change
    real_sha256, rebuilt = manifest.file_sha256, []

    def rebuild_twice_during_the_first_check(path: Path) -> str:
        if not rebuilt:
            rebuilt.append(path.parent.name)
            # Other chunk sizes re-chunk every file: each build replaces every segment.
            build_index(corpus, index, ChunkSettings(max_words=150), embedder=embedder)  # now "previous"
            build_index(corpus, index, ChunkSettings(max_words=160), embedder=embedder)  # and removed now
        return real_sha256(path)

    monkeypatch.setattr(manifest, "file_sha256", rebuild_twice_during_the_first_check)
    bot = Assistant.open(index, embedder=embedder)
    assert rebuilt[0] not in segments(index)
    assert bot.data.manifest["manifest_sha256"] == read_manifest(index)["manifest_sha256"]


def test_the_model_is_shared_safely_by_concurrent_questions(bot):
    """Concurrent answers equal serial ones. (This passes without Embedder's lock too: torch
    inference is re-entrant here; the lock is kept as cheap insurance, not claimed as tested.)"""
    questions = [CHAIR, SHARED_CARE, "How many partners does Lakeside Surgery have?", "What is a long-stay patient?"]
    serial = {q: bot.ask(q).to_dict() for q in questions}
    with ThreadPoolExecutor(max_workers=8) as pool:
        replies = list(pool.map(lambda q: (q, bot.ask(q).to_dict()), questions * 2))
    assert all(reply == serial[q] for q, reply in replies)


# ---------------------------------------------------------------- full disk, read-only folder


def test_a_full_disk_during_indexing_is_reported_and_the_old_index_kept(change, embedder, expected):
    """RLIMIT_FSIZE makes the kernel refuse writes past 16 KB with EFBIG, as a full disk refuses them."""
    corpus, index = change
    limit = 16 * 1024
    run = run_index(corpus, index, preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit)))
    assert run.returncode == 1
    assert error_line(run.stderr) == (
        f"assistant: error: could not write the index at {index} (File too large); the previous index is unchanged")
    assert answers(index, embedder) == expected["before"]
    assert not list(index.glob("*.tmp")) and segments(index) == live_segments(index)


def test_no_space_after_the_new_generation_is_written_cleans_it_up(change, embedder, expected, monkeypatch):
    """ENOSPC is injected (no small filesystem to fill here) at the last step before the commit."""
    corpus, index = change
    monkeypatch.setenv(FAULT_ENV, "enospc:manifest-written")
    with pytest.raises(AssistantError, match=r"\(No space left on device\); the previous index is unchanged"):
        build_index(corpus, index, embedder=embedder)
    assert answers(index, embedder) == expected["before"]
    assert not list(index.glob("*.tmp")) and segments(index) == live_segments(index)


def test_a_read_only_index_folder_is_reported_and_the_old_index_kept(change, embedder, expected):
    """Root ignores mode bits through CAP_DAC_OVERRIDE, so the run drops it with setpriv."""
    corpus, index = change
    prefix = ()
    if os.geteuid() == 0:
        if not shutil.which("setpriv"):
            pytest.skip("running as root without setpriv: cannot make a folder read-only honestly")
        prefix = ("setpriv", "--bounding-set", "-dac_override,-dac_read_search")
    index.chmod(0o555)
    try:
        run = run_index(corpus, index, prefix=prefix)
    finally:
        index.chmod(0o755)
    assert run.returncode == 1
    assert error_line(run.stderr) == (
        f"assistant: error: could not write the index at {index} (Permission denied); the previous index is unchanged")
    assert answers(index, embedder) == expected["before"]


# ---------------------------------------------------------------- load


def test_a_full_queue_answers_busy_at_once_instead_of_waiting(bot, monkeypatch):
    """With the queue bounded, a burst beyond it is told to try again; every request ends."""
    import httpx

    from assistant.apps.web import app as web
    from assistant.apps.web import serve

    monkeypatch.setattr(web, "QUEUE_MAX_SIZE", 2)
    monkeypatch.setattr(web, "CONCURRENCY", 1)
    app = web.build_blocks(bot)
    options = serve.launch_options(server_port=_free_port())
    app.launch(**options, prevent_thread_lock=True, quiet=True)
    base = f"http://127.0.0.1:{options['server_port']}/gradio_api"

    def ask(_) -> tuple[int, str, float]:
        started = time.perf_counter()
        with httpx.Client(timeout=60) as client:
            posted = client.post(f"{base}/call/ask", json={"data": [CHAIR, [], 5]})
            if posted.status_code != 200:
                return posted.status_code, posted.json()["detail"], time.perf_counter() - started
            body = client.get(f"{base}/call/ask/{posted.json()['event_id']}").text
            return 200, body, time.perf_counter() - started

    try:
        with ThreadPoolExecutor(max_workers=12) as pool:
            results = list(pool.map(ask, range(12)))
    finally:
        app.close()
    busy = [r for r in results if r[0] == 503]
    done = [r for r in results if r[0] == 200]
    assert len(busy) + len(done) == 12 and busy and done
    assert all(detail.startswith("Queue is full.") and seconds < 10 for _, detail, seconds in busy)
    assert all("event: complete" in body and "Naomi Eisenstadt" in body for _, body, _ in done)


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
