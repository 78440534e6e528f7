"""Every reply to a labelled question set, as JSON lines: to diff two versions of the code.

A refactoring of the question path must not change one answer. Run this with the old code and
the new code over the same index and `diff` the two files: each line is `Reply.to_dict()` (the
`assistant ask --json` object, which has no timing field), one per question, asked through one
`Assistant` in file order with each line's own history.

    PYTHONPATH=. python benchmarks/reply_snapshot.py --index /tmp/idx eval/questions.jsonl --out before.jsonl
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
from pathlib import Path

from assistant import Assistant


def snapshot(index: Path, files: list[Path], ks: list[int], mode: str = "hybrid",
             collections: list[str] | None = None) -> list[str]:
    """One JSON line per (file, question, k), from one Assistant searching in this mode (through the
    view of `collections` when given: the restricted path)."""
    from assistant.retrieve.search import SearchSettings

    bot = Assistant.open(index, warm=False, search_settings=SearchSettings(mode=mode))
    lines = []
    for path in files:
        for line in path.read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            item = json.loads(line)
            for k in ks:
                reply = bot.ask(item["question"], history=item.get("history"), k=k, collections=collections)
                lines.append(json.dumps({"file": path.name, "id": item.get("id"), "k": k, **reply.to_dict()},
                                        ensure_ascii=False, sort_keys=True))
    return lines


def write_atomic(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(text)
    os.replace(tmp, path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("questions", type=Path, nargs="+", help="JSON-lines question files")
    parser.add_argument("--index", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--k", type=int, action="append", help="passages per reply (repeatable; default 5)")
    parser.add_argument("--mode", default="hybrid", help="retrieval mode (hybrid, dense, keyword, rrf)")
    parser.add_argument("--collections", help="ask as a caller allowed these collections (comma-separated)")
    args = parser.parse_args()
    collections = None if args.collections is None else [c for c in args.collections.split(",") if c.strip()]
    lines = snapshot(args.index, args.questions, args.k or [5], args.mode, collections)
    write_atomic(args.out, "\n".join(lines) + "\n")
    print(f"{len(lines)} replies -> {args.out}")


if __name__ == "__main__":
    main()
