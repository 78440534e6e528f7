"""The benchmark's table and its number formats, shared by `assistant bench` (bench.py) and its
scale run (bench_scale.py), which bench.py starts: here so that neither imports the other back."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class BenchResult:
    rows: list[tuple[str, str, str]] = field(default_factory=list)  # (what, figure, yardstick or target)
    notes: list[str] = field(default_factory=list)
    figures: list[dict] = field(default_factory=list)  # --scale: one dict per size (what --json prints)

    def add(self, what: str, figure: str, beside: str = "") -> None:
        self.rows.append((what, figure, beside))

    def table(self) -> str:
        lines = ["| what | figure | beside it / target |", "|---|---|---|"]
        lines += [f"| {a} | {b} | {c} |" for a, b, c in self.rows]
        return "\n".join(lines)


def ms(seconds: float) -> str:
    """Seconds as milliseconds for the tables ("12.3 ms")."""
    return f"{seconds * 1000:.1f} ms"


def percentile(values: list[float], p: int) -> float:
    """The p-th percentile of timings, 0 when there are none."""
    return float(np.percentile(np.asarray(values), p)) if values else 0.0
