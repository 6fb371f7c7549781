"""Time to delivery: seconds from Sent on to Received, counted in a histogram of fine buckets.

The roll-up (storage/rollups.py) keeps one count per day, org unit and bucket, never one row a
message, so the median and 95th percentile are read from the buckets: the value is interpolated
within the bucket the percentile falls in, so it is exact to that bucket's width — one second
below 10 s, at most a quarter of the value above (e.g. 60–75 s, 5–6 min).  The edges include the
page's five groups (10 s, 1 min, 5 min, 15 min), so those are counted exactly.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

# Lower edges in seconds of buckets 1…n; bucket 0 is under one second (also a clock that disagrees).
EDGES: tuple[int, ...] = (
    *range(1, 11),
    12,
    15,
    20,
    25,
    30,
    40,
    50,
    60,
    75,
    90,
    120,
    150,
    180,
    240,
    300,
    360,
    420,
    480,
    600,
    720,
    900,
    1200,
    1800,
    2700,
    3600,
    7200,
    14400,
    28800,
    86400,
)
OPEN_ENDED = len(EDGES)  # the last bucket: a day or more; its percentiles read as its lower edge

# The page's distribution: (label, lower edge, upper edge or None).
GROUPS: tuple[tuple[str, int, int | None], ...] = (
    ("Under 10 s", 0, 10),
    ("10–60 s", 10, 60),
    ("1–5 min", 60, 300),
    ("5–15 min", 300, 900),
    ("Over 15 min", 900, None),
)


def bucket_of(seconds: float) -> int:
    return bisect_right(EDGES, seconds)


def bucket_bounds(bucket: int) -> tuple[int, int | None]:
    low = 0 if bucket == 0 else EDGES[bucket - 1]
    return low, EDGES[bucket] if bucket < len(EDGES) else None


def bucket_sql(seconds: str, dialect: str = "sqlite") -> str:
    """The same bucket as ``bucket_of``, as SQL over an expression in seconds.  PostgreSQL's
    ``width_bucket`` finds it by binary search, with ``seconds`` worked out once: the CASE's
    forty comparisons made the Received trigger cost as much as the status change itself."""
    if dialect == "postgresql":
        return f"width_bucket({seconds}, ARRAY[{', '.join(map(str, EDGES))}]::numeric[])"
    branches = " ".join(f"WHEN {seconds} < {edge} THEN {i}" for i, edge in enumerate(EDGES))
    return f"(CASE {branches} ELSE {OPEN_ENDED} END)"


@dataclass(frozen=True)
class DeliveryTimes:
    """Messages received per bucket, for some messages (a period, a unit, a day)."""

    buckets: Mapping[int, int]

    @property
    def received(self) -> int:
        return sum(self.buckets.values())

    def percentile(self, share: float) -> float | None:
        """Seconds under which ``share`` of the messages arrived; None when none arrived."""
        total = self.received
        if not total:
            return None
        rank = share * total
        seen = 0
        for bucket in sorted(self.buckets):
            n = self.buckets[bucket]
            if n and seen + n >= rank:
                low, high = bucket_bounds(bucket)
                return float(low) if high is None else low + (high - low) * (rank - seen) / n
            seen += n
        return None  # not reached: the ranks add up to the total

    @property
    def median(self) -> float | None:
        return self.percentile(0.5)

    @property
    def p95(self) -> float | None:
        return self.percentile(0.95)

    def groups(self) -> list[tuple[str, int]]:
        """Messages in each of the page's five groups (their edges are bucket edges)."""
        counts = []
        for label, low, high in GROUPS:
            inside = (b for b in self.buckets if bucket_bounds(b)[0] >= low and (high is None or _below(b, high)))
            counts.append((label, sum(self.buckets[b] for b in inside)))
        return counts


def _below(bucket: int, edge: int) -> bool:
    high = bucket_bounds(bucket)[1]
    return high is not None and high <= edge


def merged(parts: Sequence[Mapping[int, int]]) -> DeliveryTimes:
    total: dict[int, int] = {}
    for part in parts:
        for bucket, n in part.items():
            total[bucket] = total.get(bucket, 0) + n
    return DeliveryTimes(total)


def describe_seconds(seconds: float | None) -> str:
    """A duration as a lead reads it: "8 s", "1 min 15 s", "2 h 5 min"."""
    if seconds is None:
        return "–"
    if seconds >= EDGES[-1]:
        return "a day or more"
    whole = round(seconds)
    if whole < 60:
        return f"{seconds:.1f} s" if seconds < 10 else f"{whole} s"
    minutes, rest = divmod(whole, 60)
    if minutes < 60:
        return f"{minutes} min {rest} s" if rest and minutes < 10 else f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min" if minutes else f"{hours} h"
