"""Leaks between collections, and whether top k is filled from permitted documents (issue 23).

Usage: python benchmarks/access_leaks.py [--sets questions,licenses,...]

For each eval set the corpus is copied into a temporary folder split into three collections
(files dealt round-robin, in name order, into `a/`, `b/` and the root, i.e. `shared`) and
indexed; then every question (with its history) is asked once with each single collection. A
leak is any passage, answer source or suggested question (example_questions) from another
collection. Each collection's files are also indexed alone, at the same paths, and asked the
same questions: a reply from the split index restricted to the collection should equal the
reply from that index (same answer, abstention, passages, scores), which is the evidence that
nothing of the other collections (not even their word statistics) shaped it; the split index
holding one segment for every collection, cosines differ slightly (SQ8 codes trained on other
vectors), so scores are compared apart and the largest difference is reported. hit@k is counted
for questions whose expected source is in the collection, on both.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

from assistant import Assistant
from assistant.access import collection_of
from assistant.embed.embedder import get_embedder
from assistant.ingest.indexer import build_index
from assistant.ingest.reader import iter_files
from assistant.tools.evaluate import fold, load_questions

ROOT = Path(__file__).resolve().parent.parent
SETS = ("questions", "licenses", "nodejs-docs", "nodejs-dev", "poetry-docs", "pkg-docs")
PREFIXES = ("a/", "b/", "")  # collections a, b and shared


def corpus_of(name: str) -> tuple[Path, Path]:
    """(corpus folder, questions file) of an eval set."""
    if name == "questions":
        return ROOT / "corpus", ROOT / "eval" / "questions.jsonl"
    return ROOT / "eval" / name, ROOT / "eval" / f"{name}.jsonl"


def split_corpus(corpus: Path, target: Path) -> dict[str, str]:
    """Copy the corpus into `target`, its files dealt round-robin into the collections; old -> new path."""
    moved = {}
    files = sorted(source for source, path, _ in iter_files(corpus) if path is not None)
    for n, source in enumerate(files):
        moved[source] = PREFIXES[n % len(PREFIXES)] + source
        (target / moved[source]).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(corpus / source, target / moved[source])
    return moved


def shown(reply) -> tuple:
    """What a reply shows, but its scores: the two indexes' 8-bit vector codes are trained on different
    vectors, so cosines differ in the third decimal (the score difference is reported apart)."""
    return (reply.answer, reply.confident, reply.answer_source, reply.answer_start, reply.answer_end,
            [(p.source, p.start, p.end) for p in reply.passages])


def rank_of(reply, answers: list[str]) -> int | None:
    expected = [fold(a) for a in answers]
    return next((p.rank for p in reply.passages if any(e in fold(p.text) for e in expected)), None)


def measure(name: str, embedder, work: Path) -> dict:
    corpus, questions_file = corpus_of(name)
    questions = load_questions(questions_file)
    split = work / name / "corpus"
    moved = split_corpus(corpus, split)
    build_index(split, work / name / "index", embedder=embedder)
    bot = Assistant.open(work / name / "index", embedder=embedder, warm=False)
    collections = bot.collections()
    alone = {}
    for collection in collections:  # the collection's files alone, at the same paths
        folder = work / name / f"only-{collection}"
        for new in moved.values():
            if collection_of(new) == collection:
                (folder / "corpus" / new).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(split / new, folder / "corpus" / new)
        build_index(folder / "corpus", folder / "index", embedder=embedder)
        alone[collection] = Assistant.open(folder / "index", embedder=embedder, warm=False)
    out = {"set": name, "files": len(moved), "collections": len(collections), "questions": len(questions),
           "asks": 0, "leaks": 0, "suggestion_leaks": 0, "identical": 0, "in_collection": 0,
           "hit1": 0, "hit5": 0, "alone_hit1": 0, "alone_hit5": 0, "seconds": 0.0, "score_diff": 0.0,
           "same_decision": 0}
    for collection in collections:
        suggestions = bot.example_questions(8, collections=[collection])
        out["suggestion_leaks"] += suggestions != alone[collection].example_questions(8)
        out["suggestion_leaks"] += bot.sources(collections=[collection]) != alone[collection].sources()
        for item in questions:
            started = time.perf_counter()
            reply = bot.ask(item["question"], history=item.get("history"), collections=[collection])
            out["seconds"] += time.perf_counter() - started
            reference = alone[collection].ask(item["question"], history=item.get("history"))
            out["asks"] += 1
            cited = [p.source for p in reply.passages] + ([reply.answer_source] if reply.answer_source else [])
            out["leaks"] += any(collection_of(source) != collection for source in cited)
            out["identical"] += shown(reply) == shown(reference)
            out["same_decision"] += reply.confident == reference.confident
            if [p.chunk_id for p in reply.passages] == [p.chunk_id for p in reference.passages]:
                out["score_diff"] = max([out["score_diff"], *(abs(a.score - b.score) for a, b in
                                                             zip(reply.passages, reference.passages))])
            expected = moved.get(item.get("source") or "")
            if item.get("answerable", True) and expected and collection_of(expected) == collection:
                out["in_collection"] += 1
                for key, r in (("", reply), ("alone_", reference)):
                    rank = rank_of(r, item["answers"])
                    out[f"{key}hit1"] += rank == 1
                    out[f"{key}hit5"] += rank is not None and rank <= 5
    return out


def table(rows: list[dict]) -> str:
    lines = ["| set | files | questions x collections | leaks (passages, answers) | suggestion/source-list leaks "
             "| replies equal to a collection-only index's (answer, passages) | same answer/abstain decision "
             "| largest score difference | hit@1 restricted / alone | hit@5 restricted / alone | ms per restricted ask |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        n = max(r["in_collection"], 1)
        lines.append(f"| {r['set']} | {r['files']} | {r['questions']} x {r['collections']} | {r['leaks']} "
                     f"| {r['suggestion_leaks']} | {r['identical']}/{r['asks']} | {r['same_decision']}/{r['asks']} "
                     f"| {r['score_diff']:.4f} "
                     f"| {r['hit1'] / n:.3f} / {r['alone_hit1'] / n:.3f} | {r['hit5'] / n:.3f} / {r['alone_hit5'] / n:.3f} "
                     f"| {1000 * r['seconds'] / max(r['asks'], 1):.0f} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sets", default=",".join(SETS))
    args = parser.parse_args()
    embedder = get_embedder()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.sets.split(","):
            rows.append(measure(name, embedder, Path(tmp)))
            print(table(rows[-1:]), flush=True)
    print(table(rows))


if __name__ == "__main__":
    main()
