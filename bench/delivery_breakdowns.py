"""The delivery-rates page's newer figures at full size: time to delivery, and the rates by sender
and by standard text, for all 50 units over 90 days.

Ours reads the roll-ups as the page does (``time_to_delivery``, ``breakdowns``).  The naive baseline
asks the messages and their history directly, on the copy without secondary indexes: the Received
events of the period's messages, their exact median and 95th percentile (``percentile_cont``) and
the five groups; messages per sender, per standard text and status.  The answers are compared —
the groups and breakdowns exactly, the percentiles to the bucket the roll-up reads them from.
"""

from __future__ import annotations

from collections import Counter
from datetime import date

from sqlalchemy import func, select, text

from bench.delivery_rates import period_ending
from bench.timing import Result, check_max, measure
from sms_core.domain.delivery_times import GROUPS, bucket_bounds, bucket_of
from sms_core.domain.permissions import Actor
from sms_core.domain.statuses import SmsStatus
from sms_core.read_models.breakdowns import breakdowns
from sms_core.read_models.delivery_rates import Period
from sms_core.read_models.delivery_times import time_to_delivery
from sms_core.storage.database import Database
from sms_core.storage.models import SmsMessage
from sms_core.storage.rollups import organisation_zone

NAIVE_TIMES = text(
    """SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY s), percentile_cont(0.95) WITHIN GROUP (ORDER BY s),
              count(*) FILTER (WHERE s < 10), count(*) FILTER (WHERE s >= 10 AND s < 60),
              count(*) FILTER (WHERE s >= 60 AND s < 300), count(*) FILTER (WHERE s >= 300 AND s < 900),
              count(*) FILTER (WHERE s >= 900)
         FROM (SELECT extract(epoch FROM e.at - m.sent_on) AS s
                 FROM sms_status_events e JOIN sms_messages m ON m.id = e.message_id
                WHERE e.status = :received AND m.org_unit_id = ANY(:units)
                  AND m.sent_on >= :start AND m.sent_on < :end) AS t"""
)


def naive_times(db: Database, period: Period, units: frozenset[int]) -> dict:
    with db.session() as session:
        start, end = period.bounds(organisation_zone(session.connection()))
        row = session.execute(
            NAIVE_TIMES,
            {"received": int(SmsStatus.RECEIVED), "units": sorted(units), "start": start, "end": end},
        ).one()
    return {
        "median": row[0],
        "p95": row[1],
        "groups": [(label, n) for (label, _, _), n in zip(GROUPS, row[2:], strict=True)],
    }


def our_times(db: Database, period: Period, units: frozenset[int]) -> dict:
    with db.session() as session:
        times = time_to_delivery(session, units, period.first, period.last, period.previous.first).current
    return {"median": times.median, "p95": times.p95, "groups": times.groups()}


def naive_breakdowns(db: Database, period: Period, units: frozenset[int]) -> dict:
    m = SmsMessage
    with db.session() as session:
        start, end = period.bounds(organisation_zone(session.connection()))
        where = (m.org_unit_id.in_(units), m.sent_on >= start, m.sent_on < end)
        found = {}
        for name, column in (("senders", m.sent_by_user_id), ("texts", m.standard_text_id)):
            stmt = select(column, m.status, func.count()).where(*where).group_by(column, m.status)
            found[name] = Counter({(key, status): n for key, status, n in session.execute(stmt)})
    return found


def our_breakdowns(db: Database, period: Period, units: frozenset[int]) -> dict:
    with db.session() as session:
        split = breakdowns(session, units, period)
    return {
        name: Counter({(row.key, status): n for row in rows for status, n in row.figures.by_status.items()})
        for name, rows in (("senders", split.senders), ("texts", split.standard_texts))
    }


def _same_bucket(ours: float | None, exact: float | None) -> bool:
    if ours is None or exact is None:
        return ours is exact
    low, high = bucket_bounds(bucket_of(float(exact)))
    return low <= ours <= (high if high is not None else ours)


def measure_figures(db: Database, naive: Database, admin: Actor, last_day: date, runs: int, budget: float) -> list:
    period, units = period_ending(last_day), admin.org_unit_ids
    ours, theirs = our_times(db, period, units), naive_times(naive, period, units)
    if ours["groups"] != theirs["groups"] or not all(_same_bucket(ours[k], theirs[k]) for k in ("median", "p95")):
        raise AssertionError(f"time to delivery differs from the raw history:\n{ours}\n{theirs}")
    split, raw = our_breakdowns(db, period, units), naive_breakdowns(naive, period, units)
    if split != raw:
        raise AssertionError("the breakdowns by sender and standard text differ from the raw messages")
    received = sum(n for _, n in ours["groups"])
    return [
        Result(
            "delivery rates",
            "time to delivery, 90 days, all 50 units",
            measure(lambda: our_times(db, period, units), runs=runs, budget=budget),
            measure(lambda: naive_times(naive, period, units), runs=runs, budget=budget),
            note=f"{received:,} received; median {ours['median']:.1f} s (exact {theirs['median']:.1f} s)",
        ),
        Result(
            "delivery rates",
            "by sender and standard text, 90 days, all 50 units",
            measure(lambda: our_breakdowns(db, period, units), runs=runs, budget=budget),
            measure(lambda: naive_breakdowns(naive, period, units), runs=runs, budget=budget),
            note=f"{len({k for k, _ in split['senders']}):,} senders, {len({k for k, _ in split['texts']}):,} texts",
        ),
    ]


def apply_targets(results: list[Result]) -> None:
    for result in results:
        result.target = "p95 ≤ 100 ms"
        result.met = check_max(result.ours, 100)
