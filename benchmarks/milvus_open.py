"""What opening a Milvus Lite store costs as it grows: the in-memory BM25 is built from every passage.

Usage: python benchmarks/milvus_open.py [--copies 40]

Writes the seed corpus's passages COPIES times (as distinct documents, random unit vectors in
place of embeddings: only storage is measured) into a Milvus Lite collection in a temporary
folder, then times the write, `open_store` (best of 3) and a dense and a keyword search.
"""

from __future__ import annotations

import argparse
import dataclasses
import tempfile
import time
from pathlib import Path

import numpy as np

from assistant.embed.embedder import DIMENSION
from assistant.index.dense import quantize_rows
from assistant.index.keys import chunk_id
from assistant.index.segment import SegmentData
from assistant.index.stores import open_store, open_writer
from assistant.ingest.chunker import ChunkSettings, chunks_within_limit
from assistant.ingest.reader import iter_files, read_document

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--copies", type=int, default=40)
    args = parser.parse_args()
    documents = [read_document(path, source) for source, path, _ in iter_files(ROOT / "corpus") if path]
    rng = np.random.default_rng(0)
    docs, chunks = [], []
    for copy in range(args.copies):
        for d in documents:
            d = dataclasses.replace(d, source=f"copy{copy}/{d.source}")
            docs.append(d)
            chunks += chunks_within_limit(d, ChunkSettings(), lambda note: None, [])
    sentences = sum(len(c.sentences) for c in chunks)
    vectors = rng.standard_normal((len(chunks) + sentences, DIMENSION)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    codes, scales = quantize_rows(vectors[len(chunks):])
    data = SegmentData(docs, chunks, np.array([chunk_id(c) for c in chunks], dtype=np.int64),
                       rng.integers(0, 2**62, len(chunks)), vectors[:len(chunks)], codes, scales,
                       rng.integers(0, 2**62, sentences))
    with tempfile.TemporaryDirectory() as tmp:
        location = f"milvus-lite:{tmp}/scale.db/docs"
        writer = open_writer(location, None)
        writer.add(data)
        started = time.perf_counter()
        writer.commit({"model": {"name": "sentence-transformers/all-MiniLM-L6-v2"}, "keyword": {"k1": 1.2, "b": 0.75}})
        write_s = time.perf_counter() - started
        opens = []
        for _ in range(3):
            started = time.perf_counter()
            store = open_store(location)
            opens.append(time.perf_counter() - started)
            if len(opens) < 3:
                store.close()
        dense, keyword = [], []
        for q in vectors[:20]:
            started = time.perf_counter()
            store.dense(q, 30)
            dense.append(time.perf_counter() - started)
            started = time.perf_counter()
            store.keyword({"care": 1.0, "partner": 1.0, "northamptonshir": 1.0}, 30)
            keyword.append(time.perf_counter() - started)
        print(f"{len(chunks)} passages, {sentences} sentences, {len(docs)} documents: write {write_s:.1f} s "
              f"({len(chunks) / write_s:.0f} passages/s); open best of 3 {min(opens):.2f} s "
              f"({min(opens) / len(chunks) * 1000:.2f} ms a passage); dense top-30 p50 {np.median(dense) * 1000:.1f} ms, "
              f"keyword top-30 p50 {np.median(keyword) * 1000:.1f} ms")


if __name__ == "__main__":
    main()
