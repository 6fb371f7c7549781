"""Delivery rates for team leads: how many SMS went out, how many arrived, and what went wrong.

Every figure is counted by the database, and none by reading messages one by one: counts per
day, unit and status come from the trigger-kept daily roll-up (migration 0003), summed in SQL;
the few failures with a gateway error and the stuck messages come from partial indexes that hold
just them (migration 0004).  Python only adds up a few hundred grouped rows, so the page costs
about the same at a thousand messages or at ten million.  Days are UTC calendar days on both
databases for now — the page says so.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import ColumnElement, Select, exists, func, literal_column, select, true
from sqlalchemy.orm import Session, aliased

from sms_core.domain.errors import InvalidInput
from sms_core.domain.permissions import Actor, Permission
from sms_core.domain.statuses import FINAL, NOT_SENT, PENDING, RESENDABLE, STATUS_CHECK_SECONDS, SmsStatus
from sms_core.storage.database import Database
from sms_core.storage.models import DailyCount, OrgUnit, SmsMessage

# What the headline figures count, derived from the status sets so they cannot drift apart.
GATEWAY_FINAL = FINAL - NOT_SENT  # the gateway's final word: Received, Rejected, Sending failed
DELIVERED = frozenset({SmsStatus.RECEIVED})
FAILED = GATEWAY_FINAL - DELIVERED
HANDED_TO_GATEWAY = frozenset(SmsStatus) - NOT_SENT
FAILURES_AND_REFUSALS = FINAL - DELIVERED  # the "top reasons" chart
STUCK = PENDING & RESENDABLE  # Accepted, Timeout during status check: a lead can resend them
# The counts shown per org unit: (title, Figures attribute, the statuses it counts).
UNIT_COUNTS = (
    ("Sent", "sent", HANDED_TO_GATEWAY),
    ("Delivered", "delivered", DELIVERED),
    ("Failed", "failed", FAILED),
    ("Still pending", "pending", PENDING),
    ("Not sent", "not_sent", NOT_SENT),
)

PRESETS: dict[str, int] = {"Today": 1, "7 days": 7, "30 days": 30, "90 days": 90}
LONG_ERROR_BYTES = 2000  # gateway errors up to this long are kept in the failure-reasons index


def utc_today() -> date:
    return datetime.now(UTC).date()


@dataclass(frozen=True)
class Period:
    """A range of whole UTC days, both ends included (as the overview's from/to filter)."""

    first: date
    last: date

    def __post_init__(self):
        if self.last < self.first:
            raise InvalidInput("The period's last day is before its first day.", field="period")

    @classmethod
    def preset(cls, name: str, today: date | None = None) -> Period:
        """ "7 days" is today and the six days before it, so "Today" is the one-day case."""
        today = today or utc_today()
        return cls(today - timedelta(days=PRESETS[name] - 1), today)

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    @property
    def previous(self) -> Period:
        """The period of the same length just before, for the change figures."""
        return Period(self.first - timedelta(days=self.days), self.first - timedelta(days=1))

    def bounds(self) -> tuple[datetime, datetime]:
        """[start, end) in UTC: a half-open range keeps the last second of the last day in."""
        start = datetime.combine(self.first, time.min, tzinfo=UTC)
        return start, start + timedelta(days=self.days)

    def each_day(self) -> list[date]:
        return [self.first + timedelta(days=i) for i in range(self.days)]


@dataclass(frozen=True)
class Figures:
    """Message counts by status (and SMS segments handed to the gateway) for some messages."""

    by_status: Mapping[SmsStatus, int] = field(default_factory=dict)
    segments: int = 0

    def count(self, statuses: Iterable[SmsStatus]) -> int:
        return sum(self.by_status.get(s, 0) for s in statuses)

    @property
    def attempts(self) -> int:
        return sum(self.by_status.values())

    @property
    def sent(self) -> int:
        return self.count(HANDED_TO_GATEWAY)

    @property
    def delivered(self) -> int:
        return self.count(DELIVERED)

    @property
    def failed(self) -> int:
        return self.count(FAILED)

    @property
    def final(self) -> int:
        return self.count(GATEWAY_FINAL)

    @property
    def pending(self) -> int:
        return self.count(PENDING)

    @property
    def not_sent(self) -> int:
        return self.count(NOT_SENT)

    @property
    def delivered_share(self) -> float | None:
        """Received over messages that reached a final gateway state; None before any did."""
        return self.delivered / self.final if self.final else None

    @property
    def failed_share(self) -> float | None:
        return self.failed / self.final if self.final else None


@dataclass(frozen=True)
class Headline:
    """One headline figure with its value in the previous period and the statuses behind it."""

    title: str
    value: float | None
    previous: float | None
    statuses: frozenset[SmsStatus]
    is_share: bool = False
    higher_is_better: bool = True
    help: str = ""

    @property
    def change(self) -> float | None:
        if self.value is None or self.previous is None:
            return None
        return self.value - self.previous


@dataclass(frozen=True)
class DayCount:
    day: date
    status: SmsStatus
    count: int


@dataclass(frozen=True)
class DayShare:
    day: date
    delivered: int
    final: int

    @property
    def share(self) -> float | None:
        return self.delivered / self.final if self.final else None


@dataclass(frozen=True)
class UnitFigures:
    org_unit_id: int
    name: str
    figures: Figures


@dataclass(frozen=True)
class FailureReason:
    """A status with the gateway's error text (None for pre-send refusals, which have none)."""

    status: SmsStatus
    error: str | None
    count: int

    @property
    def reason(self) -> str:
        """Short enough for a chart axis: the status, and the gateway's words when it gave any."""
        return f"{self.status.label}: {self.error}" if self.error else self.status.label


@dataclass(frozen=True)
class DeliveryReport:
    period: Period
    org_unit_ids: frozenset[int]
    current: Figures
    previous: Figures
    daily: list[DayCount]
    units: list[UnitFigures]
    reasons: list[FailureReason]
    stuck: dict[SmsStatus, int]

    def headlines(self) -> list[Headline]:
        cur, prev = self.current, self.previous
        return [
            Headline(
                "Messages sent",
                cur.sent,
                prev.sent,
                HANDED_TO_GATEWAY,
                help="SMS handed to the gateway (pre-send refusals not included).",
            ),
            Headline(
                "SMS segments",
                cur.segments,
                prev.segments,
                HANDED_TO_GATEWAY,
                help="Long texts take several SMS; this is what the gateway is asked to deliver.",
            ),
            Headline(
                "Delivered",
                cur.delivered_share,
                prev.delivered_share,
                DELIVERED,
                is_share=True,
                help="Received, out of the messages the gateway has given a final answer for.",
            ),
            Headline(
                "Failed",
                cur.failed_share,
                prev.failed_share,
                FAILED,
                is_share=True,
                higher_is_better=False,
                help="Rejected or Sending failed, out of the messages with a final answer.",
            ),
            Headline(
                "Still pending",
                cur.pending,
                prev.pending,
                PENDING,
                higher_is_better=False,
                help="Waiting for the gateway's final status.",
            ),
            Headline(
                "Not sent",
                cur.not_sent,
                prev.not_sent,
                NOT_SENT,
                higher_is_better=False,
                help="Stopped by a pre-send check: consent, phone number, settings or representative.",
            ),
        ]

    def daily_shares(self) -> list[DayShare]:
        delivered: dict[date, int] = defaultdict(int)
        final: dict[date, int] = defaultdict(int)
        for row in self.daily:
            if row.status in GATEWAY_FINAL:
                final[row.day] += row.count
                delivered[row.day] += row.count if row.status in DELIVERED else 0
        return [DayShare(day, delivered[day], final[day]) for day in self.period.each_day() if final[day]]

    @property
    def stuck_total(self) -> int:
        return sum(self.stuck.values())


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

    def read(query, *args):
        with db.session() as session:
            return query(session, units, *args)

    # Independent reads, each on its own connection, so PostgreSQL answers them on several cores
    # at once: at ten million messages that halves the page's wait.  Each read is consistent in
    # itself; between them a status may move, as it may between two clicks.
    per_unit = _READERS.submit(read, _per_unit_rows, period)
    stuck = _READERS.submit(read, _stuck, period, moment - timedelta(seconds=status_check_timeout))
    errors = _READERS.submit(read, _gateway_errors, period)
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
    )


_READERS = ThreadPoolExecutor(max_workers=4, thread_name_prefix="delivery-report")


def _unit_names(session: Session, units: frozenset[int]) -> dict[int, str]:
    return dict(session.execute(select(OrgUnit.id, OrgUnit.name).where(OrgUnit.id.in_(units))).all())


@dataclass(frozen=True)
class _Counted:
    """Messages and segments of one status, for one day or one org unit (``key``)."""

    key: date | int
    status: SmsStatus
    count: int
    segments: int


def _in_period(units: frozenset[int], period: Period):
    start, end = period.bounds()
    return (SmsMessage.org_unit_id.in_(units), SmsMessage.sent_on >= start, SmsMessage.sent_on < end)


def _rollup(units: frozenset[int], period: Period, key) -> Select:
    """Messages and segments per ``key`` and status from the trigger-kept daily roll-up.

    The database adds the roll-up's rows up (units × days × statuses: tens of thousands for
    all 50 units over two 90-day periods); Python gets a few hundred sums, whatever the period,
    the number of units or the number of messages.
    """
    d = DailyCount
    return (
        select(key, d.status, func.sum(d.messages), func.sum(d.segments))
        .where(d.org_unit_id.in_(units), d.day >= period.first, d.day <= period.last, d.messages != 0)
        .group_by(key, d.status)
        .order_by(key, d.status)
    )


def _per_day(session: Session, units: frozenset[int], period: Period) -> list[_Counted]:
    rows = session.execute(_rollup(units, period, DailyCount.day))
    return [_Counted(_as_date(day), status, int(n), int(seg or 0)) for day, status, n, seg in rows]


def _per_unit_rows(session: Session, units: frozenset[int], period: Period) -> list[_Counted]:
    rows = session.execute(_rollup(units, period, DailyCount.org_unit_id))
    return [_Counted(unit, status, int(n), int(seg or 0)) for unit, status, n, seg in rows]


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


def _gateway_errors(session: Session, units: frozenset[int], period: Period) -> dict[tuple[SmsStatus, str], int]:
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
            .where(*_in_period(units, period), failing, m.gateway_error.is_not(None), error_length)
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


def _stuck(session: Session, units: frozenset[int], period: Period, settled_before: datetime) -> dict[SmsStatus, int]:
    """Resendable messages still without a final answer after the status-check window.

    A message that has already been resent is not counted: the article lets a lead resend only
    the newest message of a chain, and that one is counted instead if it is stuck too.

    The candidates come from the partial index of stuck statuses (migration 0004).  A resend is
    always sent after its original, so whether a candidate was resent is asked only of the
    resends sent since the period began (a day earlier, for servers whose clocks disagree):
    migration 0006 indexes exactly those by sent-on, so PostgreSQL hashes a few thousand resends
    instead of looking every candidate up, or reading every resend ever made.
    """
    m = SmsMessage
    resend = aliased(SmsMessage)
    since, _ = period.bounds()
    recent_resends = (
        select(resend.original_id)
        .where(resend.original_id.is_not(None), resend.sent_on >= since - timedelta(days=1))
        .subquery("recent_resends")
    )
    resent = exists().where(recent_resends.c.original_id == m.id)
    stmt = (
        select(m.status, func.count())
        .where(*_in_period(units, period), _statuses_in(m.status, STUCK), m.sent_on < settled_before, ~resent)
        .group_by(m.status)
    )
    return {status: n for status, n in session.execute(stmt)}
