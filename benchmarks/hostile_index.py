"""Index the seed corpus alone, then with three hostile files beside it, as `assistant index` does.

The hostile files are issue 25's: a 10 KB PDF whose content stream inflates to 4 GB, a DOCX whose
document.xml inflates to 1 GB, and a Markdown file of one 200 KB line of '<'. Each run is a fresh
`assistant index` process; its wall time and the peak resident memory of its whole process tree
(the indexer and its reader worker, sampled every 20 ms from /proc) are printed, then an
unchanged re-index, and a re-index right after a file was written (the racy window) and the one
after it.

Usage: python benchmarks/hostile_index.py
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from bombs import docx_bomb, pdf_bomb  # noqa: E402


def _tree(pid: int) -> list[int]:
    """The pid and its descendants, from /proc."""
    parents: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            parents.setdefault(int(fields[1]), []).append(int(entry))
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo.extend(parents.get(current, []))
    return found


def _rss_kib(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def run_index(corpus: Path, index: Path) -> tuple[float, float, str]:
    """(seconds, peak MiB of the process tree, the summary line) of one `assistant index` run."""
    command = [str(Path(sys.executable).with_name("assistant")), "index", "--corpus", str(corpus), "--index", str(index)]
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    peak = 0
    while process.poll() is None:
        peak = max(peak, sum(_rss_kib(p) for p in _tree(process.pid)))
        time.sleep(0.02)
    seconds = time.perf_counter() - started
    out = process.stdout.read().strip().splitlines()
    summary = next((line for line in reversed(out) if line.startswith("indexed")), out[-1] if out else "")
    return seconds, peak / 1024, summary


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        seeds, hostile = Path(tmp) / "seeds", Path(tmp) / "hostile"
        shutil.copytree(ROOT / "corpus", seeds)
        shutil.copytree(ROOT / "corpus", hostile)
        (hostile / "inflates.pdf").write_bytes(pdf_bomb(4 << 30))
        (hostile / "inflates.docx").write_bytes(docx_bomb(1 << 30))
        (hostile / "tags.md").write_text("# Tags\n\n" + "<" * 200_000 + "\n", encoding="utf-8")
        old = time.time() - 3600
        for folder in (seeds, hostile):
            for path in folder.iterdir():
                os.utime(path, (old, old))
        rows = [("seeds alone, first build", *run_index(seeds, Path(tmp) / "i-seeds")),
                ("seeds + 3 hostile files, first build", *run_index(hostile, Path(tmp) / "i-hostile")),
                ("seeds + 3 hostile files, unchanged re-index", *run_index(hostile, Path(tmp) / "i-hostile"))]
        (hostile / "fresh.txt").write_text("Fresh news\n\nThe Hollin ferry leaves at noon.\n")
        rows.append(("a file written just now, first re-index", *run_index(hostile, Path(tmp) / "i-hostile")))
        time.sleep(2.5)  # past the racy window
        rows.append(("the next re-index (the new file hashed once)", *run_index(hostile, Path(tmp) / "i-hostile")))
        rows.append(("and the one after (trusted by size and time)", *run_index(hostile, Path(tmp) / "i-hostile")))
        latencies, indexing = answering_while_hostile_uploads_index(Path(tmp), hostile)
    print("| run | seconds | peak RSS of the process tree | summary |\n|---|---|---|---|")
    for what, seconds, peak, summary in rows:
        print(f"| {what} | {seconds:.2f} | {peak:.0f} MiB | {summary} |")
    latencies.sort()
    print(f"\nquestions answered while the three files uploaded through the page were indexed ({indexing:.1f} s): "
          f"{len(latencies)}, p50 {latencies[len(latencies) // 2] * 1000:.0f} ms, max {latencies[-1] * 1000:.0f} ms")


def answering_while_hostile_uploads_index(tmp: Path, hostile: Path) -> tuple[list[float], float]:
    """Another user's question timed again and again while the page's upload handler indexes the hostile files."""
    from assistant import Assistant
    from assistant.apps.web.app import WebChat
    from assistant.apps.web.uploads import Reindexer
    from assistant.ingest.indexer import build_index

    corpus, index = tmp / "live", tmp / "i-live"
    shutil.copytree(ROOT / "corpus", corpus)
    build_index(corpus, index)
    bot = Assistant.open(index)
    bot.ask("warm up")
    chat = WebChat(bot, reindexer=Reindexer(corpus, index, bot.embedder))
    started = time.perf_counter()
    chat.add_documents([str(hostile / name) for name in ("inflates.pdf", "inflates.docx", "tags.md")])
    latencies = []
    while chat.reindexer.status.running:
        asked = time.perf_counter()
        bot.ask("How many partners does Lakeside Surgery have?")
        latencies.append(time.perf_counter() - asked)
        time.sleep(0.05)
    return latencies, time.perf_counter() - started


if __name__ == "__main__":
    main()
