"""Peak memory of a first build at two corpus sizes: does it grow with the corpus?

Usage: python benchmarks/build_memory.py WORKDIR [--passages 5000 50000] [--store local|milvus://HOST:PORT]
       [--files-per 500]

Writes a synthetic corpus per size into WORKDIR (plain text files of generated paragraphs, words
drawn from a Zipf vocabulary as bench --scale draws them, `--files-per` paragraphs a file, kept for
the next run) and builds a first index of it in a fresh process with `build_index`, printing one
JSON line per size: chunks, seconds, the process's peak RSS (ru_maxrss) and its RSS after imports.
The encoder is a deterministic stand-in (a vector from a hash of the text: no model, ~20 us a text)
because the real one takes hours at 50k passages here and its memory does not depend on the
corpus; everything else (reading in the sandbox, chunking, the spill, the commit) is the real
path. With `--store milvus://HOST:PORT` the build goes into a new collection `build_SIZE` there
(start a Milvus Lite server with `python -m milvus_lite server`: Lite inside the indexer's own
process would count the collection's memory as the indexer's).
Run it with PYTHONPATH pointing at another checkout for a before/after comparison.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import numpy as np

WORDS = 70  # words per paragraph

_CHILD = r"""
import hashlib, json, resource, sys, time
from pathlib import Path
import numpy as np
from assistant.ingest.indexer import build_index


class HashEncoder:
    name, sha256, dimension, variant = "hash", "0" * 64, 384, "fp32"

    def encode(self, texts, batch_size=32, progress=False):
        out = np.empty((len(texts), 384), np.float32)
        for i, text in enumerate(texts):
            seed = int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "little")
            out[i] = np.random.default_rng(seed).standard_normal(384, dtype=np.float32)
        return out / np.linalg.norm(out, axis=1, keepdims=True)


base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
started = time.perf_counter()
summary = build_index(Path(sys.argv[1]), sys.argv[2], embedder=HashEncoder())
print(json.dumps({"chunks": summary.chunks, "seconds": round(time.perf_counter() - started, 1),
                  "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
                  "rss_after_imports_mib": round(base, 1)}))
"""


def make_corpus(folder: Path, passages: int, files_per: int, seed: int = 11) -> None:
    """`passages` paragraphs of generated words in files of `files_per` paragraphs (skipped when there)."""
    done = folder / ".complete"
    if done.exists():
        return
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    letters = np.array(list("abcdefghijklmnopqrstuvwxyz"))
    vocab = ["".join(rng.choice(letters, size=rng.integers(3, 10))) for _ in range(30_000)]
    for f in range(0, passages, files_per):
        lines = [f"Report {f // files_per}", ""]
        for _ in range(f, min(passages, f + files_per)):
            ids = (rng.zipf(1.2, WORDS) - 1) % len(vocab)
            words = [vocab[i] for i in ids]
            lines += [" ".join(words[:35]).capitalize() + ". " + " ".join(words[35:]).capitalize() + ".", ""]
        (folder / f"report{f // files_per:05d}.txt").write_text("\n".join(lines), encoding="utf-8")
    done.write_text("")


def _drop(location: str) -> None:
    """Remove the collections of an earlier run, so the build is a first build."""
    from assistant.index.milvus import connect
    from assistant.index.stores import milvus_location

    where = milvus_location(location)
    client = connect(where)
    try:
        for suffix in ("", "_sentences", "_blobs"):
            if client.has_collection(where.collection + suffix):
                client.drop_collection(where.collection + suffix)
    finally:
        client.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("workdir", type=Path)
    parser.add_argument("--passages", type=int, nargs="+", default=[5000, 50000])
    parser.add_argument("--store", default="local", help="local, or milvus://HOST:PORT")
    parser.add_argument("--files-per", type=int, default=500)
    args = parser.parse_args()
    for n in args.passages:
        corpus = args.workdir / f"corpus-{n}"
        make_corpus(corpus, n, args.files_per)
        target = (args.workdir / f"index-local-{n}").resolve()
        subprocess.run(["rm", "-rf", str(target)], check=True)
        location = str(target) if args.store == "local" else f"{args.store.rstrip('/')}/build_{n}"
        if args.store != "local":
            _drop(location)
        # Run from the work folder: `python -c` puts the current folder first on sys.path, and a checkout
        # there would shadow the one PYTHONPATH names.
        run = subprocess.run([sys.executable, "-c", _CHILD, str(corpus.resolve()), location], capture_output=True,
                             text=True, cwd=args.workdir)
        if run.returncode:
            sys.exit(run.stderr[-2000:])
        print(json.dumps({"passages": n, "store": args.store, **json.loads(run.stdout.strip().splitlines()[-1])}),
              flush=True)


if __name__ == "__main__":
    main()
