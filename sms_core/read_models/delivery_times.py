"""Time to delivery for the delivery-rates page: the period's median and 95th percentile, per unit
and per day, compared with the period before.

Read from the histogram roll-up (storage/rollup_histogram.py, migration 0016), summed in SQL by
day and by unit: the database adds up a row per unit and day, Python gets a few hundred rows of
sums, so the cost does not grow with the number of messages.  A message counts in the period of its Sent on,
as in every other figure of the page.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from sms_core.domain.delivery_times import DeliveryTimes, merged
from sms_core.storage.rollup_histogram import BUCKETS, COLUMNS
from sms_core.storage.rollup_models import DeliveryHistogram


@dataclass(frozen=True)
class TimeToDelivery:
    current: DeliveryTimes = field(default_factory=lambda: DeliveryTimes({}))
    previous: DeliveryTimes = field(default_factory=lambda: DeliveryTimes({}))
    daily: dict[date, DeliveryTimes] = field(default_factory=dict)  # the current period's days
    units: dict[int, DeliveryTimes] = field(default_factory=dict)  # the current period, per unit


def time_to_delivery(
    session: Session, units: frozenset[int], first: date, last: date, previous_first: date
) -> TimeToDelivery:
    """``first``–``last`` is the period, from ``previous_first`` the one before it.

    Three sums over the roll-up's rows (one per day and unit, the buckets side by side: at ten
    million messages 4,500 of them for 50 units and 90 days): the period per day and per unit — on
    PostgreSQL in one read, grouped both ways at once — and the period before as one histogram, the
    only thing the comparison needs.  Rows come back as plain tuples: turning them into ORM results
    cost more than the sums themselves."""
    conn = session.connection()
    h = DeliveryHistogram.__table__.c
    sums = [func.sum(h[name]) for name in COLUMNS]
    current = (h.org_unit_id.in_(units), h.day >= first, h.day <= last)
    daily: dict[date, dict[int, int]] = {}
    per_unit: dict[int, dict[int, int]] = {}
    if conn.dialect.name == "postgresql":
        both = select(h.day, h.org_unit_id, *sums).where(*current).group_by(func.grouping_sets(h.day, h.org_unit_id))
        for day, unit, *counts in conn.execute(both).all():
            (daily if day is not None else per_unit)[day if day is not None else unit] = _buckets(counts)
    else:  # SQLite has no GROUPING SETS; at its sizes two reads cost nothing
        for day, *counts in conn.execute(select(h.day, *sums).where(*current).group_by(h.day)).all():
            daily[_as_date(day)] = _buckets(counts)
        for unit, *counts in conn.execute(select(h.org_unit_id, *sums).where(*current).group_by(h.org_unit_id)).all():
            per_unit[unit] = _buckets(counts)
    before = (h.org_unit_id.in_(units), h.day >= previous_first, h.day < first)
    previous = _buckets(conn.execute(select(*sums).where(*before)).one())
    return TimeToDelivery(
        current=merged(list(daily.values())),
        previous=DeliveryTimes(previous),
        daily={day: DeliveryTimes(buckets) for day, buckets in sorted(daily.items()) if buckets},
        units={unit: DeliveryTimes(buckets) for unit, buckets in per_unit.items() if buckets},
    )


def _buckets(counts) -> dict[int, int]:
    """One summed row as ``DeliveryTimes`` takes it: the non-empty buckets (a sum over no rows is
    NULL)."""
    return {bucket: n for bucket, n in zip(BUCKETS, counts, strict=True) if n}


def _as_date(value) -> date:
    return date.fromisoformat(value) if isinstance(value, str) else value
