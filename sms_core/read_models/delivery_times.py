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

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from sms_core.domain.delivery_times import DeliveryTimes, merged
from sms_core.storage.rollup_models import DeliveryTime


@dataclass(frozen=True)
class TimeToDelivery:
    current: DeliveryTimes = field(default_factory=lambda: DeliveryTimes({}))
    previous: DeliveryTimes = field(default_factory=lambda: DeliveryTimes({}))
    daily: dict[date, DeliveryTimes] = field(default_factory=dict)  # the current period's days
    units: dict[int, DeliveryTimes] = field(default_factory=dict)  # the current period, per unit


def _sums(session: Session, units: frozenset[int], first: date, last: date, key) -> dict:
    t = DeliveryTime
    stmt = (
        select(key, t.bucket, func.sum(t.messages))
        .where(t.org_unit_id.in_(units), t.day >= first, t.day <= last, t.messages != 0)
        .group_by(key, t.bucket)
    )
    by_key: dict = defaultdict(dict)
    for k, bucket, n in session.execute(stmt):
        by_key[date.fromisoformat(k) if isinstance(k, str) else k][int(bucket)] = int(n)
    return by_key


def time_to_delivery(
    session: Session, units: frozenset[int], first: date, last: date, previous_first: date
) -> TimeToDelivery:
    """``first``–``last`` is the period, from ``previous_first`` the one before it."""
    days = _sums(session, units, previous_first, last, DeliveryTime.day)
    per_unit = _sums(session, units, first, last, DeliveryTime.org_unit_id)
    current = {day: buckets for day, buckets in days.items() if day >= first}
    return TimeToDelivery(
        current=merged(list(current.values())),
        previous=merged([buckets for day, buckets in days.items() if day < first]),
        daily={day: DeliveryTimes(buckets) for day, buckets in sorted(current.items())},
        units={unit: DeliveryTimes(buckets) for unit, buckets in per_unit.items()},
    )
