"""Delivery rates for team leads: how many SMS went out, how many arrived, and what went wrong.

Every figure is counted by the database, and none by reading messages one by one: counts per
day, unit and status come from the trigger-kept daily counts (a row per day and unit, a column
per status), time to delivery from its histogram (a row per day and unit, a column per bucket),
summed in SQL; the few failures with a gateway error and the stuck messages come from partial indexes that hold
just them (migration 0004).  Python only adds up a few hundred grouped rows, so the page costs
about the same at a thousand messages or at ten million.  Days are
the organisation's calendar days (midnight to midnight in its time zone, the setting), on both
databases: the roll-ups key each message by its local day (storage/rollups.py).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import ColumnElement, exists, func, literal_column, select, true
from sqlalchemy.orm import Session, aliased

from sms_core.domain.permissions import Actor, Permission
from sms_core.domain.statuses import STATUS_CHECK_SECONDS, SmsStatus
from sms_core.read_models.breakdowns import breakdowns
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
from sms_core.storage.models import OrgUnit, SmsMessage
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
    stuck = _READERS.submit(read, _stuck, period, zone, moment - timedelta(seconds=status_check_timeout))
    errors = _READERS.submit(read, _gateway_errors, period, zone)
    times = _READERS.submit(read, time_to_delivery, period.first, period.last, period.previous.first)
    split = _READERS.submit(read, breakdowns, period)
    names = _READERS.submit(read, _unit_names)
    days = read(_per_day, Period(period.previous.first, period.last))
    current = [row for row in days if row.key >= period.first]
    figures = _figures(current)
    top = _failure_reasons(errors.result(), figures.by_status, reasons)
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


def _in_period(units: frozenset[int], period: Period, zone: str):
    start, end = period.bounds(zone)
    return (SmsMessage.org_unit_id.in_(units), SmsMessage.sent_on >= start, SmsMessage.sent_on < end)


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


def _statuses_in(column, statuses: Iterable[SmsStatus]) -> ColumnElement[bool]:
    """``column IN (…)`` with the statuses written into the SQL, not bound as parameters, so
    PostgreSQL can match it to a partial index's predicate also in a prepared statement."""
    return column.in_([literal_column(str(int(s))) for s in sorted(statuses)])


def _gateway_errors(
    session: Session, units: frozenset[int], period: Period, zone: str
) -> dict[tuple[SmsStatus, str], int]:
    """Failures and refusals that carry a gateway error, counted per (status, error).

    Only these are grouped from the messages, and only from the partial index that holds
    exactly them with their error (migration 0004): an index-only scan, never the table.  B-tree
    entries are limited to about 2.7 kB, so errors longer than ``LONG_ERROR_BYTES`` live in an
    index of their own and are read from the table; gateways do not write essays, so there are few.
    """
    m = SmsMessage
    counts: dict[tuple[SmsStatus, str], int] = defaultdict(int)
    failing = _statuses_in(m.status, FAILURES_AND_REFUSALS)
    length, limit_bytes = func.octet_length(m.gateway_error), literal_column(str(LONG_ERROR_BYTES))
    postgres = session.get_bind().dialect.name == "postgresql"  # SQLite has no such index (nor octet_length)
    for error_length in (length <= limit_bytes, length > limit_bytes) if postgres else (true(),):
        stmt = (
            select(m.status, m.gateway_error, func.count())
            .where(*_in_period(units, period, zone), failing, m.gateway_error.is_not(None), error_length)
            .group_by(m.status, m.gateway_error)
        )
        for status, error, n in session.execute(stmt):
            counts[status, error] += n
    return counts


def _failure_reasons(
    errors: Mapping[tuple[SmsStatus, str], int], totals: Mapping[SmsStatus, int], limit: int
) -> list[FailureReason]:
    """The most frequent (status, gateway error) pairs among failures and refusals.

    Most failures carry no gateway error (pre-send refusals never do), so those are counted from
    the daily roll-up: a status's total in the period (``totals``) minus its messages that do
    carry an error (``errors``).
    """
    counts: dict[tuple[SmsStatus, str | None], int] = dict(errors)
    with_error: dict[SmsStatus, int] = defaultdict(int)
    for (status, _), n in errors.items():
        with_error[status] += n
    for status in FAILURES_AND_REFUSALS:
        if totals.get(status, 0) - with_error[status]:
            counts[status, None] = totals.get(status, 0) - with_error[status]
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0][0], item[0][1] is None, item[0][1] or ""))
    return [FailureReason(status, error, n) for (status, error), n in ranked[:limit]]


def _stuck(
    session: Session, units: frozenset[int], period: Period, zone: str, settled_before: datetime
) -> dict[SmsStatus, int]:
    """Resendable messages still without a final answer after the status-check window.

    A message that has already been resent is not counted: the article lets a lead resend only
    the newest message of a chain, and that one is counted instead if it is stuck too.

    The candidates come from the partial index of stuck statuses (migration 0004).  A resend is
    always sent after its original and from its original's unit (resending copies the unit, and
    nothing moves a message to another), so whether a candidate was resent is asked only of the
    units' resends sent since the period began (a day earlier, for servers whose clocks disagree):
    migration 0019 indexes exactly those by unit and sent-on, so PostgreSQL hashes the units' few
    thousand resends instead of looking every candidate up, or reading every unit's resends (at
    ten million messages, hashing all 50 units' took 11 of one unit's 14 ms).
    """
    m = SmsMessage
    resend = aliased(SmsMessage)
    since, _ = period.bounds(zone)
    recent_resends = (
        select(resend.original_id)
        .where(
            resend.original_id.is_not(None), resend.org_unit_id.in_(units), resend.sent_on >= since - timedelta(days=1)
        )
        .subquery("recent_resends")
    )
    resent = exists().where(recent_resends.c.original_id == m.id)
    stmt = (
        select(m.status, func.count())
        .where(*_in_period(units, period, zone), _statuses_in(m.status, STUCK), m.sent_on < settled_before, ~resent)
        .group_by(m.status)
    )
    return {status: n for status, n in session.execute(stmt)}
