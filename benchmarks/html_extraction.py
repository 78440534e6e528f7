"""Main-content extraction of the HTML reader against the Scrapinghub article extraction benchmark.

Usage: python benchmarks/html_extraction.py PATH [--reference]

PATH is a copy of https://github.com/scrapinghub/article-extraction-benchmark (its `html/*.html.gz`
pages and `ground-truth.json`; not committed here). Each page goes through
`assistant.ingest.readers.webpage.extract` and its clean text is scored against the page's ground-truth
article body as the benchmark's `evaluate.py` does (MIT, Scrapinghub): 4-token shingles, per-page
true/false positives and negatives normalised to sum 1, precision and recall averaged over pages,
F1 from the two averages, ± one bootstrap standard deviation. `--reference` also scores plain
`trafilatura.extract(html)` (how the benchmark ran trafilatura) on this machine.
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import re
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

_TOKEN = re.compile(r"\w+", re.UNICODE)


def shingles(text: str, n: int = 4) -> Counter:
    """The text's 4-token shingles with their counts (evaluate.py's _all_shingles)."""
    tokens = _TOKEN.findall(text or "")
    return Counter(tuple(tokens[i:i + n]) for i in range(max(1, len(tokens) - n + 1)) if tokens[i:i + n])


def tp_fp_fn(true: str, pred: str) -> tuple[float, float, float]:
    """Shingle matches of one page, normalised so that a long article weighs no more than a short one."""
    t, p = shingles(true), shingles(pred)
    tp = sum(min(t[k], p[k]) for k in t.keys() | p.keys())
    fp = sum(max(0, p[k] - t[k]) for k in t.keys() | p.keys())
    fn = sum(max(0, t[k] - p[k]) for k in t.keys() | p.keys())
    total = tp + fp + fn
    return (tp / total, fp / total, fn / total) if total else (0.0, 0.0, 0.0)


def _score(tp: float, fp: float, fn: float, other: float) -> float:
    if fp == fn == 0:
        return 1.0
    return 0.0 if tp == other == 0 else tp / (tp + other)


def metrics(rows: list[tuple[float, float, float]]) -> dict[str, float]:
    """Mean precision and recall over pages and the F1 of those means (evaluate.py's metrics_from_tp_fp_fns)."""
    precision = statistics.mean(_score(tp, fp, fn, fp) for tp, fp, fn in rows if tp + fp > 0)
    recall = statistics.mean(_score(tp, fp, fn, fn) for tp, fp, fn in rows if tp + fn > 0)
    return {"precision": precision, "recall": recall, "f1": 2 * precision * recall / (precision + recall)}


def evaluate(truth: dict[str, dict], extract: Callable[[bytes], str], pages: Path) -> dict[str, float]:
    """Score one extractor over every page, with bootstrap standard deviations (1000 draws, seed 0)."""
    rows, exact = [], []
    started = time.perf_counter()
    for key, item in sorted(truth.items()):
        pred = extract(gzip.decompress((pages / f"{key}.html.gz").read_bytes()))
        rows.append(tp_fp_fn(item.get("articleBody", ""), pred))
        exact.append(_TOKEN.findall(item.get("articleBody", "")) == _TOKEN.findall(pred))
    result = metrics(rows) | {"accuracy": statistics.mean(exact), "seconds": time.perf_counter() - started}
    draws = random.Random(0)
    boot: dict[str, list[float]] = {}
    for _ in range(1000):
        sample = [rows[draws.randrange(len(rows))] for _ in rows]
        for name, value in metrics(sample).items():
            boot.setdefault(name, []).append(value)
    return result | {f"{name}_std": statistics.stdev(values) for name, values in boot.items()}


def reader_text(raw: bytes) -> str:
    """The HTML reader's clean text of a page ("" when it reads nothing)."""
    from assistant.ingest.readers.webpage import extract

    found = extract(raw)
    return "" if isinstance(found, str) else found[0].text()


def trafilatura_text(raw: bytes) -> str:
    """Plain trafilatura, as the benchmark's extractors/run_trafilatura.py calls it."""
    import trafilatura

    return trafilatura.extract(raw.decode("utf-8"), include_comments=False) or ""


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("path", type=Path, help="the article-extraction-benchmark folder")
    parser.add_argument("--reference", action="store_true", help="also score plain trafilatura.extract")
    args = parser.parse_args(argv)
    truth = json.loads((args.path / "ground-truth.json").read_text(encoding="utf-8"))
    runs = [("assistant HTML reader", reader_text)] + ([("trafilatura.extract", trafilatura_text)] if args.reference
                                                       else [])
    print(f"{len(truth)} pages")
    for name, extract in runs:
        m = evaluate(truth, extract, args.path / "html")
        print(f"{name:<22} F1 {m['f1']:.3f} ± {m['f1_std']:.3f}  precision {m['precision']:.3f} ± "
              f"{m['precision_std']:.3f}  recall {m['recall']:.3f} ± {m['recall_std']:.3f}  "
              f"accuracy {m['accuracy']:.3f}  ({m['seconds']:.0f} s)", flush=True)


if __name__ == "__main__":
    sys.exit(main())
