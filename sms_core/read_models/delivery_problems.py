"""What went wrong on the delivery-rates page: the failures by gateway error and the stuck messages.

Unlike the page's other figures these are not kept in a roll-up: they are read from partial
indexes of the messages that hold just the failures with a gateway error and just the stuck
statuses (migration 0004), and the resends by unit (0019), so they grow with the failures and the
stuck messages, not with all messages.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, exists, func, literal_column, select, true
from sqlalchemy.orm import Session, aliased

from sms_core.domain.statuses import SmsStatus
from sms_core.read_models.delivery_rate_figures import (
    FAILURES_AND_REFUSALS,
    LONG_ERROR_BYTES,
    STUCK,
    FailureReason,
    Period,
)
from sms_core.storage.models import SmsMessage


def _in_period(units: frozenset[int], period: Period, zone: str):
    start, end = period.bounds(zone)
    return (SmsMessage.org_unit_id.in_(units), SmsMessage.sent_on >= start, SmsMessage.sent_on < end)


def _statuses_in(column, statuses: Iterable[SmsStatus]) -> ColumnElement[bool]:
    """``column IN (…)`` with the statuses written into the SQL, not bound as parameters, so
    PostgreSQL can match it to a partial index's predicate also in a prepared statement."""
    return column.in_([literal_column(str(int(s))) for s in sorted(statuses)])


def gateway_errors(
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


def failure_reasons(
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


def stuck_messages(
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
