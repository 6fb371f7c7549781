"""What the delivery-rates page shows, as plain values: the period, the figures, the headlines.

Kept apart from the queries that fill them (``delivery_rates``) so the page, the tests and the
benchmark can build and compare them without a database.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from sms_core.domain.errors import InvalidInput
from sms_core.domain.statuses import FINAL, NOT_SENT, PENDING, RESENDABLE, SmsStatus
from sms_core.read_models.delivery_times import TimeToDelivery

if TYPE_CHECKING:
    from sms_core.read_models.breakdowns import Breakdowns

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


def today_in(zone: str) -> date:
    return datetime.now(ZoneInfo(zone)).date()


@dataclass(frozen=True)
class Period:
    """A range of whole days, both ends included (as the overview's from/to filter); the days
    are the organisation's (``bounds`` takes its time zone)."""

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

    def bounds(self, zone: str = "UTC") -> tuple[datetime, datetime]:
        """[start, end) in UTC from midnight to midnight in ``zone``: a half-open range keeps the
        last second of the last day in; a day with a clock change is 23 or 25 hours long."""
        tz = ZoneInfo(zone)
        start = datetime.combine(self.first, time.min, tzinfo=tz)
        end = datetime.combine(self.last + timedelta(days=1), time.min, tzinfo=tz)
        return start.astimezone(UTC), end.astimezone(UTC)

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
    times: TimeToDelivery = field(default_factory=TimeToDelivery)
    breakdowns: Breakdowns | None = None  # by sender and by standard text
    zone: str = "UTC"  # the time zone whose days the figures count

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
