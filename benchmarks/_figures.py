"""Small shared pieces of the audio suites' reports: summaries, ratios, target checks, matplotlib setup."""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

log = logging.getLogger(__name__)


def pyplot():  # type: ignore[no-untyped-def]
    """matplotlib's pyplot on the file-only Agg backend (no display on a server)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


@dataclass(frozen=True, slots=True)
class Spread:
    """p50 / min / max (and p95) of a handful of repeats (too few for a p99)."""

    p50: float
    low: float
    high: float
    n: int
    p95: float = math.nan

    @classmethod
    def of(cls, values: Sequence[float]) -> Spread:
        if not values:
            return cls(math.nan, math.nan, math.nan, 0)
        arr = np.asarray(values, dtype=float)
        return cls(float(np.median(arr)), float(arr.min()), float(arr.max()), len(values),
                   float(np.percentile(arr, 95)))

    def text(self, unit: str = "ms") -> str:
        if self.n == 0:
            return "n/a"
        return f"{self.p50:.0f} {unit} ({self.low:.0f}-{self.high:.0f}, n={self.n})"

    def distribution(self, unit: str = "ms") -> str:
        """min / median / p95 / max, one decimal: the form of every per-run figure in the doc."""
        if self.n == 0:
            return "n/a"
        unit = f" {unit}" if unit else ""
        return f"{self.low:.1f} / {self.p50:.1f} / {self.p95:.1f} / {self.high:.1f}{unit} (n={self.n})"


def ratio(value: float, baseline: float) -> str:
    """``value / baseline`` as ``0.42x``; lower is better for every figure these suites report."""
    if not (math.isfinite(value) and math.isfinite(baseline)) or baseline == 0:
        return "n/a"
    return f"{value / baseline:.2f}x"


def verdict(value: float, limit: float, *, at_least: bool = False) -> str:
    if not math.isfinite(value):
        return "n/a"
    ok = value >= limit if at_least else value <= limit
    return "met" if ok else "**missed**"


def table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)
