"""CPU time of `Assistant.ask` per question: to compare two versions of the question path on a busy machine.

Wall-clock latency on a shared machine measures the other processes as much as the code; the
process's CPU time (all its threads) hardly does. Each question of the file is asked `--repeat`
times with its history and the least CPU time kept; run it with one version's PYTHONPATH, then the
other's, alternately.

    PYTHONPATH=. python benchmarks/ask_cpu.py --index /tmp/idx eval/questions.jsonl
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

from assistant import Assistant


def cpu_per_ask(index: Path, questions: Path, repeat: int) -> list[float]:
    """The least CPU seconds of each question's asks, sorted."""
    bot = Assistant.open(index, warm=True)
    items = [json.loads(line) for line in questions.read_text(encoding="utf-8").splitlines() if line.strip()]
    best = []
    for item in items:
        times = []
        for _ in range(repeat):
            started = time.process_time()
            bot.ask(item["question"], history=item.get("history"))
            times.append(time.process_time() - started)
        best.append(min(times))
    return sorted(best)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("questions", type=Path)
    parser.add_argument("--index", type=Path, required=True)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    best = cpu_per_ask(args.index, args.questions, args.repeat)
    print(f"{len(best)} questions, CPU ms per ask: mean {1000 * statistics.fmean(best):.2f}, "
          f"median {1000 * statistics.median(best):.2f}, p95 {1000 * best[int(len(best) * 0.95)]:.2f}")


if __name__ == "__main__":
    main()
