"""Sweep retrieval settings on the dev split of a labelled set; report the chosen ones on test.

Usage: python benchmarks/tune.py eval/questions.jsonl [--corpus corpus]
Settings are chosen on `split == "dev"` only, then reported on `split == "test"`, so the
figures in the README are not fitted to the questions they are measured on.
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import tempfile
from pathlib import Path

from assistant import Assistant
from assistant.embed.embedder import get_embedder
from assistant.ingest.chunker import ChunkSettings
from assistant.ingest.indexer import build_index
from assistant.retrieve.answer import AnswerSettings
from assistant.retrieve.search import SearchSettings
from assistant.tools.evaluate import evaluate, load_questions


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("questions", type=Path)
    parser.add_argument("--corpus", type=Path, default=Path("corpus"))
    parser.add_argument("--max-words", type=int, nargs="+", default=[80, 120, 160])
    parser.add_argument("--dense-weights", type=float, nargs="+", default=[0.3, 0.4, 0.5, 0.6, 0.7])
    args = parser.parse_args()
    dev, test = load_questions(args.questions, "dev"), load_questions(args.questions, "test")
    embedder = get_embedder()
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for max_words in args.max_words:
            index_dir = Path(tmp) / f"w{max_words}"
            build_index(args.corpus, index_dir, ChunkSettings(max_words=max_words), embedder=embedder)
            bot = Assistant.open(index_dir, embedder=embedder)
            for weight, mode in itertools.chain(((w, "hybrid") for w in args.dense_weights),
                                                ((0.0, "keyword"), (1.0, "dense"), (0.0, "rrf"))):
                bot.search_settings = dataclasses.replace(SearchSettings(), mode=mode, dense_weight=weight)
                bot.answer_settings = AnswerSettings()
                r = evaluate(bot, dev)
                results.append((r.hit_at_1 + r.mrr + r.hit_at_5, max_words, mode, weight, r))
                print(f"dev  words={max_words:<4} {mode:<8} w={weight:.1f}  hit@1 {r.hit_at_1:.3f}  "
                      f"hit@5 {r.hit_at_5:.3f}  MRR {r.mrr:.3f}  answer {r.answer_accuracy:.3f}  "
                      f"follow-up@3 {r.followup_hit_at_3:.3f}", flush=True)
        best = max(results, key=lambda row: row[0])
        _, max_words, mode, weight, _ = best
        print(f"\nchosen on dev: max_words={max_words} mode={mode} dense_weight={weight}")
        index_dir = Path(tmp) / f"w{max_words}"
        bot = Assistant.open(index_dir, embedder=embedder,
                             search_settings=SearchSettings(mode=mode, dense_weight=weight))
        print("test:\n" + evaluate(bot, test).table())


if __name__ == "__main__":
    main()
