"""Measure dense index kinds on synthetic vectors made from real MiniLM embeddings.

    .venv/bin/python eval/ann_sweep.py --sizes 100000,1000000

For each size: flat SQ8 (exact), IVF-SQ8 (a few nlist/nprobe), IVF-PQ (m=48/96) and, up to
--hnsw-max vectors, HNSW-SQ8: build time, bytes per vector on disk, open time and RSS after
open (in a fresh process, warm page cache), single-query search p50/p95 (with --threads faiss
threads, 1 by default) and recall@10 against exact float32 search on 200 queries. Also the
cosine error of SQ8 and of per-row int8 on the real vectors. Prints a Markdown table (for
BENCHMARKS.md) and writes JSON lines to --out.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from assistant.index.dense import DenseIndex, DenseSettings, build_dense, dequantize_rows, quantize_rows, synthetic_vectors  # noqa: E402

CORPORA = [Path("/work/shared/seeds"), ROOT / "eval" / "poetry-docs", ROOT / "eval" / "nodejs-dev"]  # not the blind sets


def real_vectors(cache: Path) -> tuple[np.ndarray, np.ndarray]:
    """MiniLM vectors of paragraphs (chunk-like) and sentences of the seed and two dev corpora, cached."""
    if cache.exists():
        data = np.load(cache)
        return data["paragraphs"], data["sentences"]
    import re

    from assistant.embed.embedder import get_embedder

    paragraphs, sentences = [], []
    for folder in CORPORA:
        for path in sorted(folder.rglob("*")):
            if path.suffix.lower() not in {".md", ".txt", ".rst"}:
                continue
            text = path.read_text(encoding="utf-8", errors="replace")
            for block in re.split(r"\n\s*\n", text):
                block = " ".join(block.split())
                if len(block) >= 60:
                    paragraphs.append(block[:1500])
                    sentences.extend(s for s in re.split(r"(?<=[.!?])\s+", block) if len(s) >= 30)
    paragraphs, sentences = sorted(set(paragraphs)), sorted(set(sentences))
    encoder = get_embedder()
    p = np.asarray(encoder.encode(paragraphs), np.float32)
    s = np.asarray(encoder.encode(sentences), np.float32)
    np.savez(cache, paragraphs=p, sentences=s)
    return p, s


def quantization_errors(paragraphs: np.ndarray, sentences: np.ndarray) -> dict:
    """How far SQ8 (chunk vectors) and per-row int8 (sentence vectors) move cosines vs float32."""
    index = build_dense(paragraphs, DenseSettings(exact_below=len(paragraphs) + 1))
    decoded = index.reconstruct(np.arange(len(paragraphs)))
    exact = sentences @ paragraphs.T  # queries stay float32, as in search
    sq8 = np.abs(sentences @ decoded.T - exact)
    codes, scales = quantize_rows(sentences)
    back = dequantize_rows(codes, scales)
    int8 = np.abs(back @ paragraphs.T - exact)
    f16 = np.abs(sentences.astype(np.float16).astype(np.float32) @ paragraphs.T - exact)
    return {"paragraphs": len(paragraphs), "sentences": len(sentences),
            "sq8_max": float(sq8.max()), "sq8_mean": float(sq8.mean()),
            "int8_row_max": float(int8.max()), "int8_row_mean": float(int8.mean()),
            "float16_max": float(f16.max()), "float16_mean": float(f16.mean())}


def build_config(name: str, x: np.ndarray):
    """A faiss index for one config; HNSW built directly (DenseIndex does not use it)."""
    import faiss

    kind, _, arg = name.partition(":")
    if kind == "flat-sq8":
        return build_dense(x, DenseSettings(exact_below=len(x) + 1)).index
    if kind == "ivf-sq8":
        return build_dense(x, DenseSettings(exact_below=0, nlist_max=int(arg), nlist_per_sqrt=1e9)).index
    if kind == "ivf-pq":
        return build_dense(x, DenseSettings(exact_below=0, quantizer="pq", pq_m=int(arg))).index
    if kind == "hnsw-sq8":
        index = faiss.IndexHNSWSQ(x.shape[1], faiss.ScalarQuantizer.QT_8bit, int(arg), faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = 40
        index.train(x)
        index.add(x)
        return index
    raise ValueError(name)


def worker(path: str, queries: str, truth: str, probes: list[int]) -> None:
    """In a fresh process: open the index as the product would, then time single queries."""
    import faiss

    def rss_mb() -> float:
        for line in open("/proc/self/status"):
            if line.startswith("VmRSS"):
                return int(line.split()[1]) / 1024
        return 0.0

    q, gt = np.load(queries), np.load(truth)
    before = rss_mb()
    t0 = time.perf_counter()
    try:
        dense = DenseIndex.load(Path(path))
        index = dense.index
    except ValueError:  # HNSW: not a DenseIndex kind
        index, dense = faiss.read_index(path, faiss.IO_FLAG_MMAP_IFC | faiss.IO_FLAG_READ_ONLY), None
    open_s = time.perf_counter() - t0
    rss = rss_mb() - before
    rows = []
    for probe in probes:
        times, hits = [], 0
        for i in range(len(q)):
            t = time.perf_counter()
            if dense is not None:
                found, _ = dense.search(q[i], 10, nprobe=probe or None)
            else:
                index.hnsw.efSearch = probe
                found = index.search(q[i:i + 1], 10)[1][0]
            times.append(time.perf_counter() - t)
            hits += len(set(found.tolist()) & set(gt[i].tolist()))
        times = np.array(times[5:]) * 1000  # first queries fault the mapped pages in
        rows.append({"probe": probe, "p50_ms": float(np.percentile(times, 50)), "p95_ms": float(np.percentile(times, 95)),
                     "recall10": hits / (10 * len(q))})
    print(json.dumps({"open_s": open_s, "rss_open_mb": rss, "rss_end_mb": rss_mb() - before,
                      "threads": faiss.omp_get_max_threads(), "rows": rows}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="100000")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--work", type=Path, default=Path("/tmp/ann-sweep"))
    parser.add_argument("--out", type=Path, default=Path("/tmp/ann-sweep/results.jsonl"))
    parser.add_argument("--hnsw-max", type=int, default=100_000, help="HNSW only up to this size (slow to build)")
    parser.add_argument("--threads", type=int, default=1, help="faiss OpenMP threads for the timed searches")
    parser.add_argument("--configs", default="", help="comma list to run only these, e.g. ivf-sq8:4096")
    parser.add_argument("--worker", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.worker[0], args.worker[1], args.worker[2], [int(p) for p in args.worker[3].split(",")])
        return
    import faiss

    args.work.mkdir(parents=True, exist_ok=True)
    paragraphs, sentences = real_vectors(args.work / "real.npz")
    errors = quantization_errors(paragraphs, sentences)
    print(json.dumps({"quantization": errors}), flush=True)
    base = np.concatenate([paragraphs, sentences])
    for n in [int(s) for s in args.sizes.split(",")]:
        x = synthetic_vectors(n, 1, base)
        q = synthetic_vectors(args.queries, 2, base)
        exact = faiss.IndexFlatIP(x.shape[1])
        exact.add(x)
        gt = exact.search(q, 10)[1]
        del exact
        np.save(args.work / "q.npy", q)
        np.save(args.work / "gt.npy", gt)
        nlist = DenseSettings().nlist(n)
        configs = [("flat-sq8", [0]), (f"ivf-sq8:{nlist // 2}", [16, 32, 64]), (f"ivf-sq8:{nlist}", [16, 32, 64, 128]),
                   ("ivf-pq:48", [32, 64]), ("ivf-pq:96", [32, 64])]
        if n <= args.hnsw_max:
            configs.append(("hnsw-sq8:16", [32, 64, 128]))
        if args.configs:
            configs = [c for c in configs if c[0] in args.configs.split(",")]
        for name, probes in configs:
            t0 = time.perf_counter()
            index = build_config(name, x)
            build_s = time.perf_counter() - t0
            path = args.work / f"{name.replace(':', '-')}-{n}.faiss"
            DenseIndex(index, name).save(path)
            del index
            out = subprocess.run([sys.executable, __file__, "--worker", str(path), str(args.work / "q.npy"),
                                  str(args.work / "gt.npy"), ",".join(map(str, probes))],
                                 check=True, capture_output=True, text=True,
                                 env={**os.environ, "OMP_NUM_THREADS": str(args.threads)}).stdout
            result = json.loads(out.strip().splitlines()[-1])
            result.update(n=n, config=name, build_s=build_s, bytes_per_vector=path.stat().st_size / n)
            path.unlink()
            with open(args.out, "a") as handle:
                handle.write(json.dumps(result) + "\n")
            for row in result["rows"]:
                print(f"| {n:,} | {name} | {row['probe']} | {build_s:.1f} | {result['bytes_per_vector']:.0f} | "
                      f"{result['open_s'] * 1000:.0f} | {result['rss_open_mb']:.0f} | {row['p50_ms']:.2f} | "
                      f"{row['p95_ms']:.2f} | {row['recall10']:.3f} |", flush=True)


if __name__ == "__main__":
    main()
