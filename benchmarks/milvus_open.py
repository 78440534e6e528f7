"""What opening a Milvus store costs as it grows, now that BM25 lives in the collection (sparse field).

Usage: python benchmarks/milvus_open.py [--sizes 10000,100000] [--json]

For each size, SIZE synthetic passages (assistant/tools/bench_scale.py: Zipf words, vectors drawn
around a random base, one answer sentence a passage: sentence rows cost writing time, not opening
time) are written through MilvusWriter into a Milvus Lite *server process* (`python -m milvus_lite
server`, on 127.0.0.1; in-process Lite loads whole collections into the caller's memory, a server
keeps them in its own, as any Milvus does). Then
a fresh process opens the store three times (best time kept) and reports the open time, its
memory after the open (RSS, and the growth the open caused), and dense, keyword and `fetch a
passage` p50 over 20 queries; the server's RSS is reported beside it. `--legacy` also times the
in-memory BM25 the store built before (every passage read at open).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

_PROBE = r"""
import json, sys, time
import numpy as np
def rss():
    return int(open("/proc/self/status").read().split("VmRSS:")[1].split()[0]) / 1024
import pymilvus  # imported before the baseline: its import is not the open's cost
from assistant.index.stores import open_store
before = rss()
opens = []
for _ in range(3):
    t = time.perf_counter()
    store = open_store(sys.argv[1])
    opens.append(time.perf_counter() - t)
    if len(opens) < 3:
        store.close()
after = rss()
rng = np.random.default_rng(1)
words = json.loads(sys.argv[2])
dense, keyword, fetch = [], [], []
for n in range(20):
    q = rng.standard_normal(384).astype(np.float32); q /= np.linalg.norm(q)
    t = time.perf_counter(); hits = store.dense(q, 30); dense.append(time.perf_counter() - t)
    terms = {w: 1.0 for w in rng.choice(words, 4)}
    t = time.perf_counter(); store.keyword(terms, 30, [i for i, _ in hits[:10]]); keyword.append(time.perf_counter() - t)
    t = time.perf_counter(); store.chunks([hits[0][0]]); fetch.append(time.perf_counter() - t)
out = {"open_s": min(opens), "rss_mib": after, "open_growth_mib": after - before,
       "sparse": store.sparse is not None,
       "dense_p50_ms": float(np.median(dense) * 1000), "keyword_p50_ms": float(np.median(keyword) * 1000),
       "fetch_p50_ms": float(np.median(fetch) * 1000)}
if sys.argv[3] == "1":
    t = time.perf_counter(); store._load_keyword(); out["legacy_open_s"] = time.perf_counter() - t + min(opens)
    out["legacy_rss_mib"] = rss()
print(json.dumps(out))
"""


def server_rss(pid: int) -> float:
    return int(Path(f"/proc/{pid}/status").read_text().split("VmRSS:")[1].split()[0]) / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--legacy", action="store_true")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    from assistant.index.stores import open_writer
    from assistant.text import tokenize
    from assistant.tools.bench_scale import synthetic_fields, synthetic_segment, vocabulary

    sys.path.insert(0, str(ROOT / "tests"))
    from helpers import free_port

    words = sorted({t for w in vocabulary(np.random.default_rng(7))[200:2000].tolist() for t in tokenize(w)})
    base = np.random.default_rng(0).standard_normal((300, 384)).astype(np.float32)
    with tempfile.TemporaryDirectory() as tmp:
        port = free_port()
        server = subprocess.Popen([sys.executable, "-m", "milvus_lite", "server", "--data-dir", f"{tmp}/lite",
                                   "--host", "127.0.0.1", "--port", str(port)], stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL, start_new_session=True)
        try:
            time.sleep(3)
            for n in (int(s) for s in args.sizes.split(",")):
                location = f"milvus://127.0.0.1:{port}/synthetic_{n}"
                data, _ = synthetic_segment(n, base, per_chunk=1)
                writer = open_writer(location, None)
                writer.add(data)
                started = time.perf_counter()
                writer.commit(synthetic_fields())
                write_s = time.perf_counter() - started
                del data, writer
                probe = json.loads(subprocess.run([sys.executable, "-c", _PROBE, location, json.dumps(words),
                                                   "1" if args.legacy else "0"], capture_output=True, text=True,
                                                  check=True, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}).stdout)
                row = {"chunks": n, "write_s": write_s, **probe, "server_rss_mib": server_rss(server.pid)}
                print(json.dumps(row) if args.json else
                      f"{n} passages: write {write_s:.0f} s; open {probe['open_s']:.3f} s, client RSS {probe['rss_mib']:.0f} MiB "
                      f"(+{probe['open_growth_mib']:.1f} by the open); dense p50 {probe['dense_p50_ms']:.1f} ms, keyword p50 "
                      f"{probe['keyword_p50_ms']:.1f} ms, a passage {probe['fetch_p50_ms']:.1f} ms; server RSS "
                      f"{row['server_rss_mib']:.0f} MiB" + (f"; in-memory BM25 open {probe['legacy_open_s']:.1f} s, "
                                                           f"{probe['legacy_rss_mib']:.0f} MiB" if args.legacy else ""),
                      flush=True)
        finally:
            server.terminate()
            server.wait(30)


if __name__ == "__main__":
    main()
