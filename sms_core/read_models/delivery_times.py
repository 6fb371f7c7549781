"""Time to delivery for the delivery-rates page: the period's median and 95th percentile, per unit
and per day, compared with the period before.

Read from the histogram roll-up (``sms_delivery_times``, migration 0010), summed in SQL by day
and by unit: the database adds up units × days × buckets, Python gets a few thousand sums, so the
cost does not grow with the number of messages.  A message counts in the period of its Sent on,
as in every other figure of the page.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import func, select, tuple_
from sqlalchemy.orm import Session

from sms_core.domain.delivery_times import DeliveryTimes, merged
from sms_core.storage.rollup_models import DeliveryTime
from sms_core.storage.rollups import whole_sum


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

    Three sums, each over one period's rows of the roll-up (at ten million messages about 100,000
    of them for 50 units and 90 days): the period per day and per unit — on PostgreSQL in one
    read, grouped both ways at once — and the period before as one histogram, the only thing the
    comparison needs.  Rows come back as plain tuples: turning thousands of rows into ORM results
    cost more than the sums themselves."""
    conn = session.connection()
    t = DeliveryTime
    current = (t.org_unit_id.in_(units), t.day >= first, t.day <= last, t.messages != 0)
    n = whole_sum(t.messages)
    daily: dict[date, dict[int, int]] = defaultdict(dict)
    per_unit: dict[int, dict[int, int]] = defaultdict(dict)
    if conn.dialect.name == "postgresql":
        both = select(t.day, t.org_unit_id, t.bucket, n).where(*current)
        both = both.group_by(func.grouping_sets(tuple_(t.day, t.bucket), tuple_(t.org_unit_id, t.bucket)))
        for day, unit, bucket, count in conn.execute(both).all():
            (daily[day] if day is not None else per_unit[unit])[bucket] = count
    else:  # SQLite has no GROUPING SETS; at its sizes two reads cost nothing
        by_day = select(t.day, t.bucket, n).where(*current).group_by(t.day, t.bucket)
        for day, bucket, count in conn.execute(by_day).all():
            daily[_as_date(day)][bucket] = count
        by_unit = select(t.org_unit_id, t.bucket, n).where(*current).group_by(t.org_unit_id, t.bucket)
        for unit, bucket, count in conn.execute(by_unit).all():
            per_unit[unit][bucket] = count
    before = (t.org_unit_id.in_(units), t.day >= previous_first, t.day < first, t.messages != 0)
    previous = dict(conn.execute(select(t.bucket, n).where(*before).group_by(t.bucket)).all())
    return TimeToDelivery(
        current=merged(list(daily.values())),
        previous=DeliveryTimes(previous),
        daily={day: DeliveryTimes(buckets) for day, buckets in sorted(daily.items())},
        units={unit: DeliveryTimes(buckets) for unit, buckets in per_unit.items()},
    )


def _as_date(value) -> date:
    return date.fromisoformat(value) if isinstance(value, str) else value
