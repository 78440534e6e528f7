"""`assistant bench --scale`: the store at 10,000 to 1,000,000 chunks, on synthetic data.

Embedding a million real chunks takes days on this machine, so the large indexes are made of
synthetic text (words drawn from a Zipf vocabulary, as word frequencies fall in real text) and
synthetic vectors made from real MiniLM embeddings (dense.synthetic_vectors, so approximate
search meets the cluster structure of real vectors). They are written through the same segment
writer as a real index, then measured in a fresh process: open time and memory, the whole
`ask` path with the question's vector given (encoding excluded), ANN recall against exact
search, bytes per chunk, and an update that adds a one-page document with the real encoder.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from ..index.dense import quantize_rows, synthetic_vectors
from ..index.keys import chunk_id
from ..index.segment import SegmentData
from ..text import tokenize
from ..types import Chunk, Document
from .figures import BenchResult, ms, percentile

CHUNKS_PER_DOC = 10
WORDS_PER_CHUNK = 80
SENTENCES_PER_CHUNK = 4
VOCABULARY = 60_000
STOP_RANKS = 100  # the most frequent words play stop words: in the text, not in the keyword postings
QUERIES = 200


def vocabulary(rng: np.random.Generator) -> np.ndarray:
    letters = np.array(list("abcdefghijklmnopqrstuvwxyz"))
    return np.array(["".join(rng.choice(letters, size=rng.integers(4, 10))) for _ in range(VOCABULARY)])


def _zipf_ids(rng: np.random.Generator, n: int) -> np.ndarray:
    return (rng.zipf(1.15, n) - 1) % VOCABULARY


def _question(rng: np.random.Generator, vocab: np.ndarray, words: int = 5) -> str:
    """Content words drawn as the text draws them, stop words left out (as the tokenizer leaves them)."""
    ranks = _zipf_ids(rng, 50)
    return " ".join(vocab[ranks[ranks >= STOP_RANKS][:words]]) + "?"


def synthetic_segment(n: int, base: np.ndarray, seed: int = 7,
                      per_chunk: int = SENTENCES_PER_CHUNK) -> tuple[SegmentData, np.ndarray]:
    """n synthetic chunks in n / CHUNKS_PER_DOC documents, and their float32 vectors (for exact search);
    `per_chunk` answer sentences each."""
    rng = np.random.default_rng(seed)
    vocab = vocabulary(rng)
    vectors = synthetic_vectors(n, seed, base)
    documents, chunks, tokens = [], [], []
    ranks = _zipf_ids(rng, n * WORDS_PER_CHUNK).reshape(n, WORDS_PER_CHUNK).tolist()
    words = vocab.tolist()
    stems = [tokens[0] if tokens else "" for tokens in map(tokenize, vocab.tolist())]  # as text.tokenize makes them
    for d in range(0, n, CHUNKS_PER_DOC):
        parts, spans, offset = [], [], 0
        for i in range(d, min(n, d + CHUNKS_PER_DOC)):
            text = " ".join([words[r] for r in ranks[i]]) + "."
            parts.append(text)
            spans.append((offset, offset + len(text)))
            offset += len(text) + 2
        source = f"doc{d // CHUNKS_PER_DOC:07d}.txt"
        doc_text = "\n\n".join(parts)
        documents.append(Document(source, doc_text, f"Document {d // CHUNKS_PER_DOC}", f"{d:064x}", "utf-8"))
        for k, (start, end) in enumerate(spans):
            step = (end - start) // per_chunk
            sentences = tuple((start + j * step, start + (j + 1) * step if j < per_chunk - 1 else end)
                              for j in range(per_chunk))
            chunks.append(Chunk(source, documents[-1].title, "", start, end, parts[k], 1 + 2 * k, None, parts[k],
                                sentences))
            tokens.append([stems[r] for r in ranks[d + k] if r >= STOP_RANKS])
    codes = np.empty((n * per_chunk, vectors.shape[1]), dtype=np.int8)
    scales = np.empty(n * per_chunk, dtype=np.float32)
    for lo in range(0, n, 50_000):
        hi = min(n, lo + 50_000)
        block = np.repeat(vectors[lo:hi], per_chunk, axis=0)
        block = block + rng.standard_normal(block.shape, dtype=np.float32) * 0.03
        block /= np.linalg.norm(block, axis=1, keepdims=True)
        rows = slice(lo * per_chunk, hi * per_chunk)
        codes[rows], scales[rows] = quantize_rows(block)
    ids = np.array([chunk_id(c) for c in chunks], dtype=np.int64)
    data = SegmentData(documents, chunks, ids, ids.copy(), vectors, codes, scales,
                       np.arange(len(codes), dtype=np.int64), token_lists=tokens)
    return data, vectors


def synthetic_fields() -> dict:
    from ..ingest.indexer import manifest_fields

    return manifest_fields({"variant": "fp32", "sha256": "synthetic"}, {}, {"digest": "synthetic"}, "(synthetic)", [])


_PROBE = r"""
import json, resource, sys, time
import numpy as np
from assistant.index.stores import milvus_location
if milvus_location(sys.argv[1]) is not None:
    import pymilvus  # its import is not the open's cost
started = time.perf_counter()
from assistant.index.stores import open_store
store = open_store(sys.argv[1])
opened = time.perf_counter() - started
rss = int(open("/proc/self/status").read().split("VmRSS:")[1].split()[0]) * 1024
queries = np.load(sys.argv[2])
questions = json.loads(open(sys.argv[3]).read())
truth = np.load(sys.argv[4])
recall = [len(set(t.tolist()) & {i for i, _ in store.dense(q, 10)}) / 10 for q, t in zip(queries, truth)]

class Given:
    variant = "fp32"
    def __init__(self): self.next = None
    def encode(self, texts):
        return np.repeat(self.next[None, :], len(texts), axis=0)

from assistant.api import Assistant
given = Given()
bot = Assistant(sys.argv[1], store, given)
times = []
for vector, question in zip(queries, questions):
    given.next = vector
    t = time.perf_counter()
    bot.ask(question)
    times.append(time.perf_counter() - t)
rss_after = int(open("/proc/self/status").read().split("VmRSS:")[1].split()[0]) * 1024
print(json.dumps({"open": opened, "rss_open": rss, "rss_after": rss_after, "times": times[10:],
                  "recall": float(np.mean(recall))}))
"""

_EXISTS = r"""
import sys
from assistant.errors import IndexMissingError
from assistant.index.stores import open_store
try:
    open_store(sys.argv[1]).close()
except IndexMissingError:
    print("missing")
"""

_WRITE_MILVUS = r"""
import sys
import numpy as np
from assistant.index.stores import open_writer
from assistant.tools.bench_scale import synthetic_fields, synthetic_segment
data, _ = synthetic_segment(int(sys.argv[2]), np.load(sys.argv[3]))
writer = open_writer(sys.argv[1], None)
writer.add(data)
writer.commit(synthetic_fields())
"""

_ADD = r"""
import json, sys, time
started = time.perf_counter()
from pathlib import Path
from assistant.ingest.chunker import ChunkSettings, chunk_document
from assistant.embed.registry import get_encoder
from assistant.ingest.fingerprint import embedded_texts
from assistant.index.dense import quantize_rows
from assistant.index.keys import chunk_id, content_hash64
from assistant.ingest.reader import read_document
from assistant.index.segment import SegmentData
from assistant.index.local import LocalStore
from assistant.index.writer import LocalWriter
from assistant.index.folder import write_lock
import numpy as np
index = Path(sys.argv[1])
with write_lock(index):
    doc = read_document(Path(sys.argv[2]), "added/one-page.txt")
    chunks = chunk_document(doc, ChunkSettings())
    texts = [embedded_texts(c, doc.text) for c in chunks]
    flat = [t for c, s in texts for t in (c, *s)]
    vectors = get_encoder().encode(flat)
    rows = np.cumsum([0] + [1 + len(s) for _, s in texts])
    chunk_vectors = vectors[rows[:-1]]
    sentence_rows = [r for i in range(len(texts)) for r in range(rows[i] + 1, rows[i + 1])]
    codes, scales = quantize_rows(vectors[sentence_rows])
    base = LocalStore.open(index, for_update=True)
    writer = LocalWriter(index, base)
    writer.delete([doc.source])  # a second run replaces it: the update of a changed document
    writer.add(SegmentData([doc], chunks, np.array([chunk_id(c) for c in chunks]),
                           np.array([content_hash64(c) for c, _ in texts]), chunk_vectors, codes, scales,
                           np.array([content_hash64(t) for _, s in texts for t in s])))
    writer.commit({k: v for k, v in base.manifest.items() if k not in ("segments", "files", "counts", "format",
                   "format_version", "created", "dense", "manifest_sha256")})
    base.close()
committed = time.perf_counter() - started
bot_store = LocalStore.open(index)
found = [c.source for _, c in bot_store.chunks_of("added/one-page.txt")]
print(json.dumps({"seconds": committed, "chunks": len(chunks), "found": len(found)}))
"""


def measure(location: str, n: int, exact: np.ndarray, ids: np.ndarray, work: Path, base: np.ndarray) -> dict:
    """Open, memory, asks and ANN recall@10 (against exact search) of the store at `location`, in a fresh process."""
    rng = np.random.default_rng(99)
    queries = synthetic_vectors(QUERIES + 10, 1000 + n, base)
    vocab = vocabulary(np.random.default_rng(7))
    questions = [_question(rng, vocab) for _ in range(len(queries))]
    truth = np.stack([ids[np.argsort(-(exact @ q))[:10]] for q in queries[:QUERIES]])
    for name, array in (("queries", queries), ("truth", truth)):
        np.save(work / f"{name}.npy", array)
    (work / "questions.json").write_text(json.dumps(questions))
    return json.loads(subprocess.run([sys.executable, "-c", _PROBE, location, str(work / "queries.npy"),
                                      str(work / "questions.json"), str(work / "truth.npy")], capture_output=True,
                                     text=True, check=True).stdout)


def run_scale_store(sizes: list[int], work: Path, base: np.ndarray, store: str) -> list[dict]:
    """The figures of `run_scale` that any store has, for a Milvus location: one collection per size
    (LOCATION_SIZE), written in a child process (Milvus Lite lets one process hold its folder) unless
    it exists (then measured again)."""
    rows = []
    for n in sizes:
        location = f"{store}_{n}"
        data, exact = synthetic_segment(n, base)
        ids = data.ids
        del data
        np.save(work / "base.npy", base)
        build_s = float("nan")
        if "missing" in subprocess.run([sys.executable, "-c", _EXISTS, location], check=True, capture_output=True,
                                       text=True).stdout:
            t = time.perf_counter()
            subprocess.run([sys.executable, "-c", _WRITE_MILVUS, location, str(n), str(work / "base.npy")], check=True)
            build_s = time.perf_counter() - t
        probe = measure(location, n, exact, ids, work, base)
        rows.append({"chunks": n, "store": store, "build_s": build_s, "open_s": probe["open"],
                     "rss_mib": probe["rss_open"] / 2**20, "rss_after_mib": probe["rss_after"] / 2**20,
                     "ask_p50_ms": percentile(probe["times"], 50) * 1000,
                     "ask_p95_ms": percentile(probe["times"], 95) * 1000, "recall_at_10": probe["recall"]})
    return rows


def run_scale(sizes: list[int], work: Path, base: np.ndarray, result: BenchResult, one_page: Path) -> list[dict]:
    """Build, open and query a synthetic index of each size; rows go into `result`."""
    from ..index.bm25 import build_postings
    from ..index.local import LocalStore
    from ..index.writer import LocalWriter

    figures = []
    for n in sizes:
        index = work / f"scale-{n}"
        data, exact = synthetic_segment(n, base)
        t = time.perf_counter()
        build_postings(data.token_lists)
        bm25_s = time.perf_counter() - t
        sample = [c.search_text for c in data.chunks[:5000]]
        t = time.perf_counter()
        for text in sample:
            tokenize(text)
        tokenize_per_chunk = (time.perf_counter() - t) / len(sample)
        build_s = float("nan")
        if not (index / "manifest.json").exists():  # a kept index (--scale-dir) is measured again, not rebuilt
            t = time.perf_counter()
            index.mkdir(parents=True, exist_ok=True)
            writer = LocalWriter(index)
            writer.add(data)
            writer.commit(synthetic_fields())
            build_s = time.perf_counter() - t
        ids = data.ids
        del data
        probe = measure(str(index), n, exact, ids, work, base)
        store = LocalStore.open(index)
        files = store.manifest["files"]
        dense_bytes = sum(m["bytes"] for k, m in files.items() if k.endswith("dense.faiss"))
        sentence_bytes = sum(m["bytes"] for k, m in files.items() if k.split("/")[1].startswith("sentence"))
        total = sum(m["bytes"] for m in files.values())
        kind = store.segments[0].dense.kind
        store.close()
        del exact
        added = json.loads(subprocess.run([sys.executable, "-c", _ADD, str(index), str(one_page)], capture_output=True,
                                          text=True, check=True).stdout)
        row = {"chunks": n, "build_s": build_s, "bm25_s": bm25_s, "tokenize_ms_per_chunk": tokenize_per_chunk * 1000,
               "open_s": probe["open"], "rss_open_mb": probe["rss_open"] / 2**20, "rss_mib": probe["rss_open"] / 2**20,
               "rss_after_mb": probe["rss_after"] / 2**20, "ask_p50_ms": percentile(probe["times"], 50) * 1000,
               "ask_p95_ms": percentile(probe["times"], 95) * 1000, "recall_at_10": probe["recall"],
               "dense_bytes_per_chunk": dense_bytes / n, "sentence_bytes_per_chunk": sentence_bytes / n,
               "total_bytes_per_chunk": total / n, "dense_kind": kind, "add_one_page_s": added["seconds"],
               "added_found": added["found"] == added["chunks"] > 0}
        figures.append(row)
        result.add(f"{n:,} chunks: open / RSS after open", f"{row['open_s']:.2f} s / {row['rss_open_mb']:.0f} MiB",
                   "target at 1M: <= 2 s, <= 2.5 GB")
        result.add(f"{n:,} chunks: ask p50 / p95, encoding excluded",
                   f"{ms(row['ask_p50_ms'] / 1000)} / {ms(row['ask_p95_ms'] / 1000)}",
                   f"target at 1M: p50 <= 20 ms; RSS after {QUERIES} asks {row['rss_after_mb']:.0f} MiB")
        result.add(f"{n:,} chunks: dense recall@10 vs exact ({kind})", f"{row['recall_at_10']:.3f}", "target >= 0.95")
        result.add(f"{n:,} chunks: bytes per chunk on disk",
                   f"vectors {row['dense_bytes_per_chunk']:.0f}, sentence vectors {row['sentence_bytes_per_chunk']:.0f}",
                   f"target: vectors <= 600; whole index {row['total_bytes_per_chunk']:.0f}")
        result.add(f"{n:,} chunks: BM25 build (postings from tokens)", f"{bm25_s:.1f} s",
                   f"target at 1M <= 60 s; tokenizing {tokenize_per_chunk * 1000:.2f} ms a chunk (at indexing)")
        result.add(f"{n:,} chunks: whole segment write", f"{build_s:.1f} s" if build_s == build_s else "(kept from a run before)",
                   "SQLite table, dense index, arrays, fsync")
        result.add(f"{n:,} chunks: add a one-page document", f"{row['add_one_page_s']:.2f} s",
                   "target <= 5 s: read, chunk, load encoder, embed, write a segment, commit")
    return figures
