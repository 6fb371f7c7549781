"""Repeated timing, summarised as median and 95th percentile, and the rows of the result table.

Every figure is measured from Python, through the same calls the app makes (session, statement,
rows turned into objects), because that is what a user waits for; the database's own execution
time would flatter both sides.
"""

from __future__ import annotations

import math
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field

LOWER_IS_BETTER = {"ms", "q/min"}


@dataclass(frozen=True)
class Stats:
    """Samples of one measurement, in the unit given: ms (times), /s (rates), q/min (load)."""

    samples: tuple[float, ...]
    unit: str = "ms"

    @property
    def lower_is_better(self) -> bool:
        return self.unit in LOWER_IS_BETTER

    @property
    def median(self) -> float:
        return statistics.median(self.samples)

    @property
    def p95(self) -> float:
        """Nearest-rank 95th percentile at the bad end: a time that 95 % of the samples do not
        exceed; for a rate, the rate that 95 % of the samples reach."""
        ordered = sorted(self.samples, reverse=not self.lower_is_better)
        return ordered[math.ceil(0.95 * len(ordered)) - 1]

    def to_json(self) -> dict:
        return {"unit": self.unit, "median": self.median, "p95": self.p95, "runs": len(self.samples)}


def measure(
    action: Callable[[], object], runs: int = 30, warmup: int = 2, budget: float = 60.0, min_runs: int = 5
) -> Stats:
    """Time ``action`` ``runs`` times after ``warmup`` untimed runs (caches warm, plans cached),
    stopping early once ``budget`` seconds are spent and at least ``min_runs`` are done — the
    naive baseline at 10 million rows can take seconds per run."""
    for _ in range(warmup):
        action()
    samples: list[float] = []
    started = time.perf_counter()
    while len(samples) < runs:
        t0 = time.perf_counter()
        action()
        samples.append((time.perf_counter() - t0) * 1000)
        if len(samples) >= min_runs and time.perf_counter() - started > budget:
            break
    return Stats(tuple(samples))


@dataclass
class Result:
    """One line of the table: what was measured, our figure, the naive one, and the target."""

    group: str
    item: str
    ours: Stats
    naive: Stats | None = None
    target: str = ""
    met: bool | None = None
    note: str = ""
    extra: dict = field(default_factory=dict)

    @property
    def ratio(self) -> float | None:
        """How many times better ours is than the naive baseline (by median); None when either
        is zero (idle overviews that cost nothing at all)."""
        if self.naive is None or not self.ours.median or not self.naive.median:
            return None
        if self.ours.lower_is_better:
            return self.naive.median / self.ours.median
        return self.ours.median / self.naive.median

    def to_json(self) -> dict:
        return {
            "group": self.group,
            "item": self.item,
            "ours": self.ours.to_json(),
            "naive": self.naive.to_json() if self.naive else None,
            "ratio": self.ratio,
            "target": self.target,
            "met": self.met,
            "note": self.note,
            **self.extra,
        }


def check_max(stats: Stats, limit: float) -> bool:
    """A time target: the p95 must not exceed ``limit``."""
    return stats.p95 <= limit


def check_min(stats: Stats, limit: float) -> bool:
    """A rate target: the slow-end p95 must reach ``limit``."""
    return stats.p95 >= limit
