"""The real-PDF question set (issue 20): figures, per-category hits, and every miss with its cause.

Usage: python benchmarks/real_pdfs.py [--index DIR [--rebuild]] [--json]

Indexes `eval/real-pdfs/` afresh into a temporary folder (or into DIR, kept so that a second
run only asks; --rebuild removes that index first, so a changed reader is measured), runs
`assistant.tools.evaluate.evaluate` on `eval/real-pdfs.jsonl` and prints hit@1/3/5, MRR, answer
sentence, page-correct, then one line per answerable question that is not a clean hit (not
first, answer sentence without it, or wrong page) with what the reader made of it: whether the
answer is in the document's clean text at all (if not, the clean text where its first words
are, so a merged cell or a cut sentence shows), on which page the reader put it, whether it is
whole in one passage or only in a heading, and what was retrieved first. The cause is then read
off: the answer missing from the clean text, cut, made a heading or on another page is the
reader's; present and whole but not first is retrieval's.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from assistant import Assistant
from assistant.ingest.indexer import build_index
from assistant.tools.evaluate import evaluate, expected_pages, load_questions

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "eval" / "real-pdfs"
QUESTIONS = ROOT / "eval" / "real-pdfs.jsonl"
FIGURES = ("hit_at_1", "hit_at_3", "hit_at_5", "mrr", "answer_accuracy", "paged", "page_correct",
           "followup_hit_at_3", "offtopic_flagged", "unrelated_after_history_flagged", "false_abstentions")


def printed_at(text: str, answer: str) -> int | None:
    """Offset of an answer string in a clean text, whitespace and quote style aside."""
    words = [re.escape(w).replace("'", "['’]") for w in answer.split()]
    match = re.search(r"\s+".join(words), text, re.IGNORECASE)
    return match.start() if match else None


def nearest(text: str, answer: str) -> str:
    """The clean text where the longest run of the answer's first words is, to show what the reader made of it."""
    words = answer.split()
    for n in range(len(words), 0, -1):
        at = printed_at(text, " ".join(words[:n]))
        if at is not None:
            return " ".join(text[max(0, at - 40):at + len(answer) + 60].split())
    return "(none of its words)"


def diagnose(bot: Assistant, item: dict, row: dict) -> dict:
    """What the reader made of a question's answer (in the clean text or not, on which page, whole in
    one passage or cut across two) and what was retrieved first instead."""
    doc = bot.document(item["source"])
    places = [printed_at(doc.text, a) for a in item["answers"]]
    found = [p for p in places if p is not None]
    chunks = [chunk.text for _, chunk in bot.data.chunks_of(item["source"])]
    whole = all(any(printed_at(text, a) is not None for text in chunks) for a in item["answers"])
    # A heading is a passage's section path, not its text: an answer the reader made a heading (or
    # the document's title) is never inside a passage, whatever retrieval does.
    headings = [doc.title] + [chunk.section for _, chunk in bot.data.chunks_of(item["source"])]
    in_heading = all(any(printed_at(h, a) is not None for h in headings) for a in item["answers"])
    top = bot.ask(item["question"], history=item.get("history")).passages
    first = [f"{top[0].source}:{top[0].page}", " ".join(top[0].text.split())[:90]] if top else None
    return {"in_one_passage": whole, "in_heading": in_heading, "first_passage": first,
            "id": item["id"], "category": item.get("category"), "question": item["question"],
            "answers": item["answers"], "expected_pages": expected_pages(item), "rank": row["rank"],
            "answer_ok": row["answer_ok"], "cited": [row.get("source"), row.get("page")],
            "in_clean_text": len(found) == len(places),
            "reader_pages": sorted({doc.page_at(p) for p in found}),
            "clean_text_near": None if found else nearest(doc.text, item["answers"][0])}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", type=Path, help="keep the index here (default: a temporary folder)")
    parser.add_argument("--rebuild", action="store_true", help="remove the index at --index and build it again")
    parser.add_argument("--json", action="store_true", help="print figures and misses as one JSON object")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="real-pdfs-") as scratch:
        index = args.index or Path(scratch) / "index"
        if args.rebuild and (index / "manifest.json").exists():
            shutil.rmtree(index)
        built = None
        if not (index / "manifest.json").exists():
            started = time.perf_counter()
            build_index(CORPUS, index)
            built = round(time.perf_counter() - started, 1)
        run(Assistant.open(index), built, args.json)


def run(bot: Assistant, built: float | None, as_json: bool) -> None:
    """Ask the set, then print the figures and every question that is not a clean hit."""
    questions = load_questions(QUESTIONS)
    details: list[dict] = []
    report = evaluate(bot, questions, details=details)
    by_id = {q.get("id"): q for q in questions}
    per_category: dict[str, list[int | None]] = defaultdict(list)
    misses = []
    answered_offtopic = [row["id"] for row in details if row.get("offtopic") and row["confident"]]
    for row in details:
        if row.get("offtopic"):
            continue
        per_category[row["category"]].append(row["rank"])
        if row["rank"] != 1 or not row["answer_ok"] or row["page_ok"] is False:
            misses.append(diagnose(bot, by_id[row["id"]], row))
    figures = {name: report.to_dict()[name] for name in FIGURES}
    categories = {c: {"n": len(r), "hit_at_1": sum(x == 1 for x in r), "hit_at_5": sum(x is not None for x in r)}
                  for c, r in sorted(per_category.items())}
    if as_json:
        print(json.dumps({"index_seconds": built, **figures, "categories": categories, "misses": misses,
                          "answered_offtopic": answered_offtopic}, ensure_ascii=False))
        return
    if built is not None:
        print(f"indexed {CORPUS} in {built} s")
    print(report.table())
    print("\ncategory: n, hit@1, hit@5")
    for c, v in categories.items():
        print(f"  {c}: {v['n']}, {v['hit_at_1']}, {v['hit_at_5']}")
    print(f"\noff-topic answered with confidence: {', '.join(answered_offtopic) or 'none'}")
    print(f"\nnot a clean hit ({len(misses)}): rank, answer sentence, cited source:page, expected page, reader")
    for m in misses:
        reader = (f"in clean text on page {m['reader_pages']}"
                  + ("" if m["in_one_passage"] else ", CUT across passages")
                  + (", in a HEADING or the title" if m["in_heading"] else "") if m["in_clean_text"]
                  else f"NOT in clean text; near: {m['clean_text_near']!r}")
        print(f"  {m['id']} [{m['category']}] rank {m['rank']}, answer {'ok' if m['answer_ok'] else 'no'}, "
              f"cited {m['cited'][0]}:{m['cited'][1]}, expected {m['expected_pages']}; {reader}\n"
              f"      {m['question']} -> {m['answers']}\n      first passage: {m['first_passage']}")


if __name__ == "__main__":
    main()
