"""Add off-topic-after-history pairs to question sets, by one fixed rule (no question is read to choose).

Each off-topic question asked alone is also asked after one earlier question of the same set:
the nearest answerable, self-contained (no history) question before it in the file and in the
same split, else the first one after it. The pair is appended as a new line with id
"<id>-h", category "offtopic_after_history", answerable false. Running it again changes nothing.

    python eval/add_offtopic_pairs.py eval/*.jsonl
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def pairs(items: list[dict]) -> list[dict]:
    have = {item.get("id") for item in items}
    added = []
    for i, item in enumerate(items):
        if item.get("answerable", True) or item.get("history") or f"{item.get('id')}-h" in have:
            continue
        same = [j for j, other in enumerate(items) if other.get("answerable", True) and not other.get("history")
                and other.get("split") == item.get("split")]
        before = [j for j in same if j < i]
        if not same:
            continue
        earlier = items[before[-1] if before else same[0]]
        added.append({"id": f"{item.get('id')}-h", "question": item["question"], "answerable": False,
                      "history": [earlier["question"]], "category": "offtopic_after_history",
                      "split": item.get("split")})
    return added


def main(paths: list[str]) -> None:
    for path in map(Path, paths):
        lines = [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        new = pairs([json.loads(line) for line in lines])
        if new:
            path.write_text("\n".join(lines + [json.dumps(item, ensure_ascii=False) for item in new]) + "\n",
                            encoding="utf-8")
        print(f"{path}: {len(new)} pairs added")


if __name__ == "__main__":
    main(sys.argv[1:])
