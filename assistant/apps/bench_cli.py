"""`assistant bench`: its options and the command, apart from the main CLI (apps/cli.py) so each stays short."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path

from ..errors import AssistantError


def add_command(commands, bounded: Callable[[int, int], Callable[[str], int]]) -> None:
    """The `bench` sub-command, on the main parser's sub-parser list."""
    bench = commands.add_parser("bench", help="measure speed and memory; print a table and add it to BENCHMARKS.md",
                                description="Index CORPUS into a temporary folder, then time warm and cold questions "
                                "(beside the bare encoder), the web app's start to its first answer, and indexing.")
    bench.add_argument("--corpus", type=Path, default=Path("corpus"), metavar="DIR",
                       help="folder of documents to index and ask about (default ./corpus)")
    bench.add_argument("--questions", type=Path, default=Path("eval/questions.jsonl"), metavar="FILE",
                       help="JSON-lines questions for the warm figures (default eval/questions.jsonl)")
    bench.add_argument("--n", type=bounded(1, 1000), default=30, help="warm questions to time (default 30)")
    bench.add_argument("--runs", type=bounded(1, 20), default=3, help="runs of each cold figure; the best is kept")
    bench.add_argument("--no-app", action="store_true", help="skip the web app's start-up figure")
    bench.add_argument("--output", type=Path, default=Path("BENCHMARKS.md"), metavar="FILE",
                       help="Markdown file the table is appended to (default BENCHMARKS.md)")
    bench.add_argument("--no-append", action="store_true", help="print the table only")
    bench.add_argument("--scale", type=_sizes, default=None, metavar="SIZES",
                       help="instead: the store at these numbers of synthetic chunks, e.g. 10000,100000,1000000 "
                       "(open, memory, ask latency, ANN recall, bytes per chunk, BM25 build, adding a document)")
    bench.add_argument("--scale-dir", type=Path, default=None, metavar="DIR",
                       help="keep the synthetic indexes in DIR and measure them again on the next run instead of "
                       "rebuilding (the one-page additions accumulate)")
    bench.add_argument("--store", default=None, metavar="LOCATION",
                       help="with --scale: measure a Milvus store instead (milvus://HOST:PORT/NAME or "
                       "milvus-lite:PATH.db/NAME; one collection NAME_SIZE per size, kept and measured again)")
    bench.add_argument("--json", action="store_true",
                       help="with --scale: print one JSON object per size (chunks, open_s, rss_mib, ask_p50_ms, "
                       "recall_at_10, ...) instead of the table")


def _sizes(value: str) -> list[int]:
    try:
        sizes = [int(part.replace("_", "")) for part in value.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a list of whole numbers: {value!r}") from None
    if not sizes or not all(1000 <= n <= 10_000_000 for n in sizes):
        raise argparse.ArgumentTypeError("sizes must be from 1000 to 10000000 chunks")
    return sizes


def cmd_bench(args) -> int:
    from ..tools.bench import report, run_bench

    if (args.store is not None or args.json) and not args.scale:
        raise AssistantError("--store and --json go with --scale SIZES")
    if args.store is not None:
        from ..index.stores import milvus_location

        if milvus_location(args.store) is None:
            raise AssistantError(f"--store takes a Milvus location (milvus://HOST:PORT/NAME, milvus-lite:PATH.db/NAME), "
                                 f"not {args.store!r}: without it the local store is measured")
    result = run_bench(args.corpus, args.questions, args.n, args.runs, app=not args.no_app, scale=args.scale,
                       scale_dir=args.scale_dir, store=args.store)
    if args.json:
        for row in result.figures:
            print(json.dumps({"store": args.store or "local", **{k: None if v != v else v for k, v in row.items()}}))
        return 0
    text = report(result, args.corpus, args.runs)
    print(text)
    if not args.no_append:
        with open(args.output, "a", encoding="utf-8") as handle:
            handle.write("\n" + text)
        print(f"appended to {args.output}", file=sys.stderr)
    return 0

