"""Eval figures and ask latency on the local store against a Milvus Lite store, on every eval set.

Usage: python benchmarks/milvus_compare.py [--sets questions,poetry-docs,...] [--repeat 3] [--milvus-bm25]

Each set's corpus is indexed twice in a temporary folder (an index folder, and a Milvus Lite
collection, whose keyword search runs inside Milvus on sparse vectors), then
`assistant.tools.evaluate.evaluate` runs on both (hybrid mode, every question asked REPEAT times
and the fastest time kept), and a last column counts the questions whose top-5 passages (chunk
ids, in order) differ between the two. With --milvus-bm25 a third row swaps the keyword half of
the Milvus store for Milvus's own BM25 function (a sparse field made by a `FunctionType.BM25` function over
the same keyword tokens, searched by Milvus, statistics kept by Milvus per segment), to measure
whether it could replace the project's BM25 beside Milvus. Needs the cluster extra.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np

from assistant import Assistant
from assistant.embed.embedder import get_embedder
from assistant.index.bm25 import tokenize_all
from assistant.index.milvus import chunk_body, scan
from assistant.ingest.indexer import build_index
from assistant.retrieve.search import SearchSettings
from assistant.tools.evaluate import evaluate, load_questions

ROOT = Path(__file__).resolve().parent.parent
SETS = ("questions", "licenses", "nodejs-docs", "nodejs-dev", "pkg-docs", "poetry-docs")
FIGURES = ("hit_at_1", "hit_at_5", "mrr", "answer_accuracy", "offtopic_flagged")


def milvus_bm25(bot: Assistant) -> None:
    """Replace the store's keyword search by Milvus's BM25 function over the same tokens."""
    from pymilvus import DataType, Function, FunctionType, MilvusClient

    store = bot.data
    client, name = store.client, f"{store.name}_bm25"
    schema = MilvusClient.create_schema(auto_id=False)
    schema.add_field("id", DataType.INT64, is_primary=True)
    schema.add_field("tokens", DataType.VARCHAR, max_length=65_535, enable_analyzer=True)
    schema.add_field("sparse", DataType.SPARSE_FLOAT_VECTOR)
    schema.add_function(Function(name="bm25", function_type=FunctionType.BM25, input_field_names=["tokens"],
                                 output_field_names=["sparse"]))
    index = client.prepare_index_params()
    index.add_index(field_name="sparse", index_type="SPARSE_INVERTED_INDEX", metric_type="BM25",
                    params={"bm25_k1": 1.2, "bm25_b": 0.75})
    if client.has_collection(name):
        client.drop_collection(name)
    client.create_collection(name, schema=schema, index_params=index)
    rows = scan(client, store.name, "id >= 0", ["id", "body"])
    texts = [chunk_body(client, store.name, r)["search_text"] for r in rows]
    data = [{"id": int(r["id"]), "tokens": " ".join(tokens)} for r, tokens in zip(rows, tokenize_all(texts))]
    for lo in range(0, len(data), 256):  # as the writer inserts: Lite may cut segments in between
        client.insert(name, data[lo:lo + 256])

    def keyword(terms, k, ids=()):
        text = " ".join(terms)
        hits = client.search(name, data=[text], anns_field="sparse", limit=k, output_fields=[])[0]
        found = [(int(h["id"]), abs(float(h["distance"]))) for h in hits]  # Lite reports BM25 as -score
        scores = {}
        if len(ids):
            for h in client.search(name, data=[text], anns_field="sparse", limit=len(ids),
                                   filter=f"id in [{','.join(str(int(i)) for i in ids)}]", output_fields=[])[0]:
                scores[int(h["id"])] = abs(float(h["distance"]))
        return found, np.array([scores.get(int(i), 0.0) for i in ids], dtype=np.float32)

    store.keyword = keyword


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sets", default=",".join(SETS))
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--milvus-bm25", action="store_true")
    args = parser.parse_args()
    embedder = get_embedder()
    print("| set | store | " + " | ".join(FIGURES) + " | ask p50 | ask p95 | top-5 differs |")
    print("|---|---|" + "---|" * (len(FIGURES) + 3))
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.sets.split(","):
            corpus = ROOT / "corpus" if name == "questions" else ROOT / "eval" / name
            questions = load_questions(ROOT / "eval" / f"{name}.jsonl")
            local, lite = Path(tmp) / name, f"milvus-lite:{tmp}/{name.replace('-', '_')}.db/docs"
            build_index(corpus, local, embedder=embedder)
            build_index(corpus, lite, embedder=embedder)
            bots = {"local": Assistant.open(local, embedder=embedder), "milvus-lite": Assistant.open(lite, embedder=embedder)}
            if args.milvus_bm25:
                bots["milvus-lite, Milvus BM25"] = Assistant.open(lite, embedder=embedder, search_settings=SearchSettings())
                milvus_bm25(bots["milvus-lite, Milvus BM25"])
            for label, bot in bots.items():
                report = evaluate(bot, questions, repeat=args.repeat)
                cells = [f"{getattr(report, f):.3f}" for f in FIGURES]
                differ = "" if label == "local" else str(sum(
                    [p.chunk_id for p in bot.ask(q["question"]).passages]
                    != [p.chunk_id for p in bots["local"].ask(q["question"]).passages] for q in questions))
                print(f"| {name} ({report.questions} q) | {label} | " + " | ".join(cells)
                      + f" | {report.median_seconds * 1000:.0f} ms | {report.p95_seconds * 1000:.0f} ms | {differ} |",
                      flush=True)


if __name__ == "__main__":
    main()
