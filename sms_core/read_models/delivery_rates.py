"""Delivery rates for team leads: how many SMS went out, how many arrived, and what went wrong.

Every figure is counted by the database, and none by reading messages one by one: counts per
day, unit and status come from the trigger-kept daily counts (a row per day and unit, a column
per status), time to delivery from its histogram (a row per day and unit, a column per bucket),
summed in SQL; the few failures with a gateway error and the stuck messages come from partial
indexes that hold just them (``delivery_problems``).  Python only adds up a few hundred grouped
rows, so the page costs about the same at a thousand messages or at ten million.  Days are the
organisation's calendar days (midnight to midnight in its time zone, the setting), on both
databases: the roll-ups key each message by its local day (storage/rollups.py).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from sms_core.domain.permissions import Actor, Permission
from sms_core.domain.statuses import STATUS_CHECK_SECONDS, SmsStatus
from sms_core.read_models.breakdowns import breakdowns
from sms_core.read_models.delivery_problems import failure_reasons, gateway_errors, stuck_messages
from sms_core.read_models.delivery_rate_figures import (
    DELIVERED,
    FAILED,
    FAILURES_AND_REFUSALS,
    GATEWAY_FINAL,
    HANDED_TO_GATEWAY,
    LONG_ERROR_BYTES,
    PRESETS,
    STUCK,
    UNIT_COUNTS,
    DayCount,
    DayShare,
    DeliveryReport,
    FailureReason,
    Figures,
    Headline,
    Period,
    UnitFigures,
    today_in,
    utc_today,
)
from sms_core.read_models.delivery_times import TimeToDelivery, time_to_delivery
from sms_core.storage.database import Database
from sms_core.storage.models import OrgUnit
from sms_core.storage.rollup_daily import MESSAGES, SEGMENTS
from sms_core.storage.rollup_models import DailyStatusCount
from sms_core.storage.rollups import organisation_zone

__all__ = [
    "DELIVERED",
    "FAILED",
    "FAILURES_AND_REFUSALS",
    "GATEWAY_FINAL",
    "HANDED_TO_GATEWAY",
    "LONG_ERROR_BYTES",
    "PRESETS",
    "STUCK",
    "UNIT_COUNTS",
    "DayCount",
    "DayShare",
    "DeliveryReport",
    "FailureReason",
    "Figures",
    "Headline",
    "Period",
    "TimeToDelivery",
    "UnitFigures",
    "delivery_report",
    "organisation_today",
    "today_in",
    "utc_today",
]


def delivery_report(
    db: Database,
    actor: Actor,
    period: Period,
    org_unit_ids: Iterable[int] | None = None,
    *,
    now: datetime | None = None,
    reasons: int = 8,
    status_check_timeout: float = STATUS_CHECK_SECONDS,
) -> DeliveryReport:
    """Everything the delivery-rates page shows, for the actor's units among ``org_unit_ids``.

    Units the actor is not associated with are dropped silently (as ``Actor.visible_units``
    does everywhere), so a lead can never see another unit's figures by asking for them.  A
    message counts as stuck once ``status_check_timeout`` seconds have passed without a final word.
    """
    actor.require(Permission.VIEW_DELIVERY_REPORTS)
    units = actor.visible_units(None if org_unit_ids is None else set(org_unit_ids))
    moment = now or datetime.now(UTC)

    with db.session() as session:
        zone = organisation_zone(session.connection())

    def read(query, *args):
        with db.session() as session:
            return query(session, units, *args)

    # Independent reads, each on its own connection, so PostgreSQL answers them on several cores
    # at once: at ten million messages that halves the page's wait.  Each read is consistent in
    # itself; between them a status may move, as it may between two clicks.
    per_unit = _READERS.submit(read, _per_unit_rows, period)
    stuck = _READERS.submit(read, stuck_messages, period, zone, moment - timedelta(seconds=status_check_timeout))
    errors = _READERS.submit(read, gateway_errors, period, zone)
    times = _READERS.submit(read, time_to_delivery, period.first, period.last, period.previous.first)
    split = _READERS.submit(read, breakdowns, period)
    names = _READERS.submit(read, _unit_names)
    days = read(_per_day, Period(period.previous.first, period.last))
    current = [row for row in days if row.key >= period.first]
    figures = _figures(current)
    top = failure_reasons(errors.result(), figures.by_status, reasons)
    return DeliveryReport(
        period=period,
        org_unit_ids=units,
        current=figures,
        previous=_figures(row for row in days if row.key < period.first),
        daily=[DayCount(row.key, row.status, row.count) for row in current],
        units=_per_unit(per_unit.result(), names.result()),
        reasons=top,
        stuck=stuck.result(),
        times=times.result(),
        breakdowns=split.result(),
        zone=zone,
    )


def organisation_today(db: Database) -> date:
    """Today in the organisation's time zone: the last day of the page's preset periods."""
    with db.session() as session:
        return today_in(organisation_zone(session.connection()))


_READERS = ThreadPoolExecutor(max_workers=6, thread_name_prefix="delivery-report")


def _unit_names(session: Session, units: frozenset[int]) -> dict[int, str]:
    return dict(session.execute(select(OrgUnit.id, OrgUnit.name).where(OrgUnit.id.in_(units))).all())


@dataclass(frozen=True)
class _Counted:
    """Messages and segments of one status, for one day or one org unit (``key``)."""

    key: date | int
    status: SmsStatus
    count: int
    segments: int


def _rollup(session: Session, units: frozenset[int], period: Period, key: str) -> list[_Counted]:
    """Messages and segments per ``key`` (day or org unit) and status from the trigger-kept daily
    counts (storage/rollup_daily.py).

    The database adds the roll-up's rows up (a row per unit and day: 9,000 for all 50 units over
    two 90-day periods), a column per status; Python gets a few hundred rows of sums, whatever
    the period, the number of units or the number of messages.
    """
    d = DailyStatusCount.__table__.c
    statuses = list(MESSAGES)
    sums = [func.sum(d[MESSAGES[s]]) for s in statuses] + [func.sum(d[SEGMENTS[s]]) for s in statuses]
    stmt = (
        select(d[key], *sums)
        .where(d.org_unit_id.in_(units), d.day >= period.first, d.day <= period.last)
        .group_by(d[key])
        .order_by(d[key])
    )
    counted = []
    for value, *totals in session.connection().execute(stmt).all():
        messages, segments = totals[: len(statuses)], totals[len(statuses) :]
        counted += [
            _Counted(_as_date(value) if key == "day" else value, status, n, seg)
            for status, n, seg in zip(statuses, messages, segments, strict=True)
            if n or seg
        ]
    return counted


def _per_day(session: Session, units: frozenset[int], period: Period) -> list[_Counted]:
    return _rollup(session, units, period, "day")


def _per_unit_rows(session: Session, units: frozenset[int], period: Period) -> list[_Counted]:
    return _rollup(session, units, period, "org_unit_id")


def _as_date(value) -> date:
    return date.fromisoformat(value) if isinstance(value, str) else value


def _figures(rows: Iterable[_Counted]) -> Figures:
    by_status: dict[SmsStatus, int] = defaultdict(int)
    segments = 0
    for row in rows:
        by_status[row.status] += row.count
        segments += row.segments if row.status in HANDED_TO_GATEWAY else 0
    return Figures(dict(by_status), segments)


def _per_unit(rows: list[_Counted], names: dict[int, str]) -> list[UnitFigures]:
    """Every selected unit, also one without messages: a silent unit is worth seeing too."""
    by_unit: dict[int, list[_Counted]] = defaultdict(list)
    for row in rows:
        by_unit[row.key].append(row)
    units = [UnitFigures(uid, name, _figures(by_unit[uid])) for uid, name in names.items()]
    return sorted(units, key=lambda u: u.name)
