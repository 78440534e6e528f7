"""Chunks per second of a first build: the local path against a local Ray with 1 and 2 encoder actors.

Usage: python benchmarks/ray_index.py [--corpus DIR ...] [--runs 3]   (needs `pip install '.[cluster]'`)

Each corpus folder given (default: eval/poetry-docs and eval/nodejs-docs) is copied into one
temporary corpus; every run builds a fresh index of it. The local path is timed first, then a
local Ray is started once (its start is printed, not counted) and each actor count is timed.
A run's figure is chunks / wall seconds of `build_index`, reading, chunking and writing
included, so the Ray figures include actor start (one encoder load each) and Ray Data's
scheduling. The best of RUNS is kept, since the machine is shared. CPU seconds are printed
beside them (the local process's, and the actors' encoder time), since on a busy machine they
say more about what a dedicated core would do than wall time.
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from pathlib import Path

from assistant.embed.embedder import get_embedder
from assistant.ingest.indexer import build_index

ROOT = Path(__file__).resolve().parent.parent


def _timed(corpus: Path, tmp: Path, runs: int, **kwargs) -> tuple[float, float, object]:
    """Best wall seconds of RUNS builds, the least encoder CPU seconds, and a summary."""
    best, cpu, summary = float("inf"), float("inf"), None
    engine = kwargs.get("engine")
    for run in range(runs):
        index = tmp / f"index-{time.monotonic_ns()}-{run}"
        started, started_cpu = time.perf_counter(), time.process_time()
        if engine is not None:
            engine.encoder_seconds = 0.0
        summary = build_index(corpus, index, **kwargs)
        best = min(best, time.perf_counter() - started)
        cpu = min(cpu, engine.encoder_seconds if engine is not None else time.process_time() - started_cpu)
        shutil.rmtree(index)
    return best, cpu, summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, action="append", default=None)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--actors", type=int, nargs="+", default=[1, 2])
    args = parser.parse_args()
    folders = args.corpus or [ROOT / "eval" / "poetry-docs", ROOT / "eval" / "nodejs-docs"]
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        corpus = tmp / "corpus"
        for folder in folders:
            shutil.copytree(folder, corpus / folder.name)
        embedder = get_embedder()
        seconds, cpu, summary = _timed(corpus, tmp, args.runs, embedder=embedder)
        texts = f"{summary.chunks} chunks, {summary.sentences_embedded} sentences, {summary.documents} files"
        print(f"corpus: {', '.join(f.name for f in folders)}: {texts}; best of {args.runs}; "
              f"load average {os.getloadavg()[0]:.1f}", flush=True)
        print(f"local path ({os.cpu_count()} encoder threads): {seconds:.1f} s, {summary.chunks / seconds:.1f} chunks/s; "
              f"{cpu:.1f} CPU s (whole process), {summary.chunks / cpu:.1f} chunks per CPU second", flush=True)

        import ray

        from assistant.ingest.ray_index import RayEngine

        started = time.perf_counter()
        ray.init(num_cpus=os.cpu_count() or 2, include_dashboard=False, log_to_driver=False)
        print(f"local Ray started in {time.perf_counter() - started:.1f} s (not counted)", flush=True)
        try:
            for actors in args.actors:
                seconds, cpu, summary = _timed(corpus, tmp, args.runs, engine=RayEngine(actors))
                print(f"local Ray, {actors} actor{'s' if actors > 1 else ''} (1 encoder thread each): {seconds:.1f} s, "
                      f"{summary.chunks / seconds:.1f} chunks/s, {summary.chunks / seconds / actors:.1f} per actor; "
                      f"actors' encoder CPU {cpu:.1f} s, {summary.chunks / cpu:.1f} chunks per CPU second; "
                      f"load average {os.getloadavg()[0]:.1f}", flush=True)
        finally:
            ray.shutdown()
        print(f"load average at the end {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
