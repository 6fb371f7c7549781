"""The figures the alert rules are judged on, measured for every unit at once.

Each rule reads only the last minutes (or, for stuck messages, the last day) of messages,
grouped by unit in one statement per distinct window, through the indexes the overview already
has: (org unit, sent on) for the failure spike and the silent gateway, and (org unit, status,
sent on) for stuck messages.  So evaluating every rule of every unit costs a few index range
scans however long the history is (``make bench``: "alert rules, 50 units").
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from datetime import datetime, timedelta

from sqlalchemy import case, exists, func, select
from sqlalchemy.orm import Session

from sms_core.domain.alert_rules import (
    ACCEPTED_STATUSES,
    FAILED_STATUSES,
    SILENT_GRACE_MINUTES,
    STUCK_LOOKBACK_HOURS,
    WAITING_STATUSES,
    AlertRule,
    Figures,
    RuleKind,
)
from sms_core.domain.statuses import NOT_SENT, SmsStatus
from sms_core.storage.models import SmsMessage, StatusEvent

HANDED_OVER = frozenset(SmsStatus) - NOT_SENT
REPORT_SOURCE = "delivery-report"
Measured = dict[tuple[int, RuleKind], Figures]


def window_start(rule: AlertRule, now: datetime) -> datetime:
    """The first sent-on time the rule looks at: where an incident's link to its messages starts."""
    if rule.kind is RuleKind.STUCK:
        return now - timedelta(hours=STUCK_LOOKBACK_HOURS)
    if rule.kind is RuleKind.UNREACHABLE:
        return now
    return now - timedelta(minutes=rule.minutes)


def measure(
    session: Session, rules: Mapping[int, Mapping[RuleKind, AlertRule]], gateway_problem: str | None, now: datetime
) -> Measured:
    """Figures for every enabled rule of every unit in ``rules`` (unit id → its rules)."""
    groups: dict[tuple[RuleKind, int], list[int]] = defaultdict(list)
    measured: Measured = {}
    for unit_id, by_kind in rules.items():
        for kind, rule in by_kind.items():
            if not rule.enabled:
                continue
            if kind is RuleKind.UNREACHABLE:
                measured[unit_id, kind] = Figures(problem=gateway_problem)
            else:
                groups[kind, rule.minutes].append(unit_id)
    for (kind, minutes), unit_ids in groups.items():
        for unit_id, figures in _MEASURES[kind](session, sorted(unit_ids), minutes, now).items():
            measured[unit_id, kind] = figures
    return measured


def _failed_share(session: Session, unit_ids: list[int], minutes: int, now: datetime) -> dict[int, Figures]:
    failed = func.sum(case((SmsMessage.status.in_(FAILED_STATUSES), 1), else_=0))
    stmt = (
        select(SmsMessage.org_unit_id, func.count(), failed)
        .where(
            SmsMessage.org_unit_id.in_(unit_ids),
            SmsMessage.sent_on >= now - timedelta(minutes=minutes),
            SmsMessage.status.in_(HANDED_OVER),
        )
        .group_by(SmsMessage.org_unit_id)
    )
    return {unit: Figures(messages, int(failures or 0)) for unit, messages, failures in session.execute(stmt)}


def _stuck(session: Session, unit_ids: list[int], minutes: int, now: datetime) -> dict[int, Figures]:
    stmt = (
        select(SmsMessage.org_unit_id, func.count())
        .where(
            SmsMessage.org_unit_id.in_(unit_ids),
            SmsMessage.status.in_(WAITING_STATUSES),
            SmsMessage.sent_on >= now - timedelta(hours=STUCK_LOOKBACK_HOURS),
            SmsMessage.sent_on < now - timedelta(minutes=minutes),
        )
        .group_by(SmsMessage.org_unit_id)
    )
    return {unit: Figures(stuck, stuck) for unit, stuck in session.execute(stmt)}


def _silent(session: Session, unit_ids: list[int], minutes: int, now: datetime) -> dict[int, Figures]:
    """Messages the gateway accepted in the last T minutes (old enough to have had a report),
    and how many of them have had no delivery report at all."""
    events = select(StatusEvent.id).where(StatusEvent.message_id == SmsMessage.id)
    accepted = exists(events.where(StatusEvent.status.in_(ACCEPTED_STATUSES)))
    reported = exists(events.where(StatusEvent.source == REPORT_SOURCE))
    unreported = func.sum(case((~reported, 1), else_=0))
    stmt = (
        select(SmsMessage.org_unit_id, func.count(), unreported)
        .where(
            SmsMessage.org_unit_id.in_(unit_ids),
            SmsMessage.sent_on >= now - timedelta(minutes=minutes),
            SmsMessage.sent_on < now - timedelta(minutes=SILENT_GRACE_MINUTES),
            SmsMessage.status.in_(HANDED_OVER),
            accepted,
        )
        .group_by(SmsMessage.org_unit_id)
    )
    return {unit: Figures(messages, int(waiting or 0)) for unit, messages, waiting in session.execute(stmt)}


_MEASURES = {RuleKind.FAILED_SHARE: _failed_share, RuleKind.STUCK: _stuck, RuleKind.SILENT: _silent}
