"""How fast a first build's commit writes into Milvus: passages per second, and where the time goes.

Usage: python benchmarks/milvus_write.py WORKDIR [--sizes 2000 20000] [--sentences 4] [--profile]

SIZE synthetic passages of `assistant bench --scale` (assistant/tools/bench_scale.py; vectors
around a random base, `--sentences` answer sentences each) are written by MilvusWriter into a new
Milvus Lite database in WORKDIR (in this process, as `assistant index --store milvus-lite:...`
writes), and the seconds of the commit are printed as one JSON line per size. `--profile` prints
the commit's top functions by cumulative time (cProfile) under it. The package comes from
PYTHONPATH (this script does not add its own checkout), so pointing it at another checkout gives
a before/after comparison.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import pstats
import shutil
import sys
import time
from pathlib import Path

import numpy as np


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("workdir", type=Path)
    parser.add_argument("--sizes", type=int, nargs="+", default=[2000, 20000])
    parser.add_argument("--sentences", type=int, default=4)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    from assistant.index.stores import open_writer
    from assistant.tools.bench_scale import synthetic_fields, synthetic_segment

    base = np.random.default_rng(3).standard_normal((2000, 384)).astype(np.float32)
    base /= np.linalg.norm(base, axis=1, keepdims=True)
    for n in args.sizes:
        data, _ = synthetic_segment(n, base, per_chunk=args.sentences)
        folder = args.workdir / f"write-{n}"
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        writer = open_writer(f"milvus-lite:{folder / 'm.db'}/bench", None)
        writer.add(data)
        profile = cProfile.Profile() if args.profile else None
        started = time.perf_counter()
        if profile:
            profile.enable()
        writer.commit(synthetic_fields())
        if profile:
            profile.disable()
        seconds = time.perf_counter() - started
        print(json.dumps({"passages": n, "sentences": n * args.sentences, "commit_s": round(seconds, 1),
                          "passages_per_s": round(n / seconds, 1)}), flush=True)
        if profile:
            pstats.Stats(profile, stream=sys.stdout).sort_stats("cumulative").print_stats(25)


if __name__ == "__main__":
    main()
