"""`assistant bench`: the speed figures of issue 12, measured the way a person meets them.

Each figure stands beside its yardstick, measured in the same run on the same texts: warm
question latency beside the bare encoder on the same questions; indexing rate beside the bare
encoder on the same chunk and sentence texts. Cold figures come from real subprocesses (the
`assistant ask` command, the web app), timed from spawn and with their peak memory from
`wait4`. The table is printed and appended to BENCHMARKS.md with date, machine and versions.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from ..errors import AssistantError
from .figures import BenchResult, ms, percentile

FALLBACK_QUESTIONS = ["What does this collection of documents cover?"]


def machine() -> str:
    cpu = platform.processor() or "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    except (ValueError, OSError):
        memory = 0.0
    return f"{os.cpu_count()} cores, {memory:.0f} GiB, {cpu}"


def versions() -> str:
    from importlib.metadata import PackageNotFoundError, version

    from .. import __version__

    found = [f"assistant {__version__}", f"Python {platform.python_version()}"]
    for name in ("onnxruntime", "tokenizers", "faiss-cpu", "numpy", "gradio"):
        try:
            found.append(f"{name} {version(name)}")
        except PackageNotFoundError:
            pass
    return ", ".join(found)


def _questions(path: Path | None, n: int) -> list[str]:
    if path is None or not path.is_file():
        return FALLBACK_QUESTIONS * n
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    found = [r["question"] for r in rows if isinstance(r, dict) and isinstance(r.get("question"), str)]
    return found[:n] or FALLBACK_QUESTIONS * n


def bench_index(corpus: Path, index_dir: Path, embedder, result: BenchResult) -> None:
    """Indexing chunks/s beside the bare encoder on the same texts (chunks and their sentences)."""
    from ..index.local import LocalStore
    from ..ingest.indexer import build_index
    from ..text import normalize

    started, cpu = time.perf_counter(), time.process_time()
    summary = build_index(corpus, index_dir, embedder=embedder)
    build_s, build_cpu = time.perf_counter() - started, time.process_time() - cpu
    data = LocalStore.open(index_dir)
    chunks = [c for info in data.sources() for _, c in data.chunks_of(info.source)]
    texts = {info.source: data.text(info.source) for info in data.sources()}
    chunk_texts = [c.search_text for c in chunks]
    sentences = [normalize(texts[c.source][s:e]) for c in chunks for s, e in c.sentences]
    started, cpu = time.perf_counter(), time.process_time()
    embedder.encode(chunk_texts + sentences)
    bare_s, bare_cpu = time.perf_counter() - started, time.process_time() - cpu
    started = time.perf_counter()
    embedder.encode(chunk_texts)
    chunks_only_s = time.perf_counter() - started
    n = summary.chunks
    result.add(f"`assistant index` {summary.documents} files, {n} chunks, {len(sentences)} sentences",
               f"{n / build_s:.1f} chunks/s ({build_s:.1f} s wall, {build_cpu:.1f} s CPU; reading, chunking "
               "and writing included)",
               f"bare encoder on the same chunk + sentence texts: {n / bare_s:.1f} chunks/s ({bare_cpu:.1f} s CPU); "
               f"ratio {bare_s / build_s:.2f} by wall, {bare_cpu / build_cpu:.2f} by CPU (target >= 0.9)")
    result.add("  of which sentence vectors", f"{max(bare_s - chunks_only_s, 0) / bare_s:.0%} of the encoder time",
               f"chunk texts alone: {n / chunks_only_s:.1f} chunks/s")
    files = data.manifest["files"]
    total = sum(meta["bytes"] for meta in files.values())
    sentence_bytes = sum(meta["bytes"] for name, meta in files.items() if name.split("/")[-1].startswith("sentence"))
    result.add("index on disk", f"{total / max(n, 1) / 1024:.1f} KiB per chunk",
               f"sentence vectors {sentence_bytes / max(total, 1):.0%} of it")


def bench_warm(index_dir: Path, embedder, questions: list[str], result: BenchResult) -> None:
    """Warm `Assistant.ask` beside the bare encoder on the same questions, same process."""
    from ..api import Assistant

    bot = Assistant.open(index_dir, embedder=embedder)
    asks, encodes = [], []
    for question in questions:
        started = time.perf_counter()
        embedder.encode([question])
        encodes.append(time.perf_counter() - started)
        started = time.perf_counter()
        bot.ask(question)
        asks.append(time.perf_counter() - started)
    p50, enc50 = percentile(asks, 50), percentile(encodes, 50)
    result.add(f"warm ask, {len(questions)} questions", f"p50 {ms(p50)}, p95 {ms(percentile(asks, 95))}",
               f"bare encoder p50 {ms(enc50)}, p95 {ms(percentile(encodes, 95))} "
               f"(ask/encode {p50 / max(enc50, 1e-9):.2f}, target <= 1.3)")


def _run_timed(cmd: list[str], env: dict, timeout: float) -> tuple[float, float, int]:
    """(wall seconds, peak RSS MiB, exit code) of one child process.

    The peak comes from GNU time when installed: a child forked from this (large) process
    inherits its memory high-water mark through fork and exec, so its own rusage overstates.
    """
    with tempfile.NamedTemporaryFile("r", suffix=".time") as report:
        wrapped = ["/usr/bin/time", "-f", "%M", "-o", report.name, *cmd] if Path("/usr/bin/time").exists() else cmd
        started = time.perf_counter()
        done = subprocess.run(wrapped, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=timeout)
        wall = time.perf_counter() - started
        text = report.read().strip().splitlines()
    peak = float(text[-1]) / 1024 if text and text[-1].isdigit() else float("nan")
    return wall, peak, done.returncode


def bench_cold(index_dir: Path, question: str, runs: int, result: BenchResult) -> None:
    env = dict(os.environ, HF_HUB_OFFLINE="1")
    cli = [sys.executable, "-m", "assistant.apps.cli"]
    figures = {}
    for name, args, target in (("ask", ["ask", question], "target <= 1.5 s, <= 300 MiB"),
                               ("sources", ["sources"], "loads no model"),
                               ("--help", ["--help"], "loads no model")):
        walls, peaks = [], []
        for _ in range(runs):
            wall, peak, code = _run_timed(cli + args + (["--index", str(index_dir)] if name != "--help" else []),
                                          env, 300)
            if code != 0:
                raise AssistantError(f"`assistant {name}` failed (exit {code}) during the benchmark")
            walls.append(wall)
            peaks.append(peak)
        figures[name] = (min(walls), max(peaks))
        result.add(f"cold `assistant {name}` (best of {runs})", f"{min(walls):.2f} s, {max(peaks):.0f} MiB peak", target)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def bench_app(index_dir: Path, question: str, runs: int, result: BenchResult, timeout: float = 120) -> None:
    """`python app.py` from spawn to the first answer through its HTTP API."""
    import httpx

    best = None
    for _ in range(runs):
        port = _free_port()
        env = dict(os.environ, ASSISTANT_INDEX=str(index_dir), GRADIO_SERVER_NAME="127.0.0.1",
                   GRADIO_SERVER_PORT=str(port), HF_HUB_OFFLINE="1", GRADIO_ANALYTICS_ENABLED="False")
        started = time.perf_counter()
        proc = subprocess.Popen([sys.executable, "-c", "from assistant.apps.web.serve import main; main()"], env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            answered = None
            with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
                while time.perf_counter() - started < timeout and proc.poll() is None:
                    try:
                        posted = client.post("/gradio_api/call/ask", json={"data": [question, [], 5]})
                        if posted.status_code == 200:
                            stream = client.get(f"/gradio_api/call/ask/{posted.json()['event_id']}").text
                            if "event: complete" in stream:
                                answered = time.perf_counter() - started
                                break
                    except httpx.HTTPError:
                        pass
                    time.sleep(0.05)
        finally:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if answered is None:
            raise AssistantError("the web app gave no answer during the benchmark")
        best = answered if best is None else min(best, answered)
    result.add(f"`python app.py` to first answer (best of {runs})", f"{best:.2f} s", "target <= 5 s")


def bench_scale(corpus: Path, index_dir: Path, embedder, sizes: list[int], work: Path, result: BenchResult,
                location: str | None = None) -> None:
    """Synthetic indexes of each size, their vectors drawn around the real vectors of `corpus`."""
    from ..index.local import LocalStore
    from ..ingest.indexer import build_index
    from .bench_scale import run_scale, run_scale_store

    build_index(corpus, index_dir, embedder=embedder)
    store = LocalStore.open(index_dir)
    segment = store.segments[0]
    base = np.concatenate([segment.dense.reconstruct(np.arange(len(segment))),
                           segment.sentence_vectors(0, len(segment.sentence_codes))])
    page = next(iter(sorted(p for p in corpus.rglob("*.txt"))), None)
    words = (page.read_text(encoding="utf-8", errors="replace") if page else "A page of plain text. " * 100).split()
    one_page = work / "one-page.txt"
    one_page.write_text(" ".join(words[:500]) + "\n", encoding="utf-8")
    result.notes.append(f"Synthetic chunks ({len(base)} real vectors of `{corpus}` as the base of the synthetic "
                        "ones); one-page document of 500 words.")
    if location is not None:  # a Milvus location: one collection per size
        result.figures = run_scale_store(sizes, work, base, location)
    else:
        result.figures = run_scale(sizes, work, base, result, one_page)


def run_bench(corpus: Path, questions_file: Path | None, n_questions: int = 30, runs: int = 3,
              app: bool = True, scale: list[int] | None = None, scale_dir: Path | None = None,
              store: str | None = None) -> BenchResult:
    from ..embed.registry import get_encoder

    if not corpus.is_dir():
        raise AssistantError(f"corpus folder not found: {corpus}")
    result = BenchResult()
    embedder = get_encoder()
    result.notes.append(f"encoder: {embedder.name} ({getattr(embedder, 'variant', '?')})")
    questions = _questions(questions_file, n_questions)
    work = Path(tempfile.mkdtemp(prefix="assistant-bench-"))
    try:
        index_dir = work / "index"
        if scale:
            bench_scale(corpus, index_dir, embedder, scale, scale_dir or work, result, store)
            return result
        bench_index(corpus, index_dir, embedder, result)
        bench_warm(index_dir, embedder, questions, result)
        bench_cold(index_dir, questions[0], runs, result)
        if app:
            bench_app(index_dir, questions[0], runs, result)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return result


def report(result: BenchResult, corpus: Path, runs: int) -> str:
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    head = (f"### `assistant bench`, {when}\n\nMachine: {machine()}; load average {load:.1f} at the end of the run. "
            f"Versions: {versions()}. Corpus: `{corpus}`; cold figures best of {runs} runs. "
            + " ".join(result.notes) + "\n")
    return f"{head}\n{result.table()}\n"
