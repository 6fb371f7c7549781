"""What the pages show of alerts: a unit's rules, the open incidents (the banner) and the history
(the Alerts page), each cut down to the org units the user is associated with."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from sms_core.domain.alert_rules import DEFAULT_RULES, AlertRule, RuleKind
from sms_core.domain.permissions import Actor, Permission
from sms_core.read_models.overview import OverviewFilter
from sms_core.storage.alert_models import AlertIncident, AlertRuleRow, MailOutbox
from sms_core.storage.database import Database
from sms_core.storage.models import OrgUnit

RuleSet = dict[RuleKind, AlertRule]


def rules_of_units(session: Session, unit_ids: Iterable[int]) -> dict[int, RuleSet]:
    """Every rule of each unit: the unit's own setting where it has one, the default otherwise."""
    units = sorted(set(unit_ids))
    rules = {unit: dict(DEFAULT_RULES) for unit in units}
    if not units:
        return rules
    for row in session.scalars(select(AlertRuleRow).where(AlertRuleRow.org_unit_id.in_(units))):
        if row.kind in RuleKind.__members__.values():
            kind = RuleKind(row.kind)
            rules[row.org_unit_id][kind] = AlertRule(kind, row.enabled, row.minutes, row.percent, row.min_messages)
    return rules


def unit_rules(db: Database, actor: Actor, org_unit_id: int) -> RuleSet:
    """The rules of one of the administrator's units, for the rule editor."""
    actor.require(Permission.MANAGE_SETTINGS, org_unit_id)
    with db.session() as session:
        return rules_of_units(session, [org_unit_id])[org_unit_id]


@dataclass(frozen=True)
class IncidentView:
    id: int
    org_unit_id: int
    unit_name: str
    kind: RuleKind
    opened_at: datetime
    updated_at: datetime
    resolved_at: datetime | None
    since: datetime
    messages: int
    affected: int
    peak_affected: int
    summary: str

    @property
    def is_open(self) -> bool:
        return self.resolved_at is None

    def messages_filter(self, time_zone: str = "UTC") -> OverviewFilter:
        """The overview's filter for the messages this incident is about: its unit and statuses,
        from the day its window began (in ``time_zone``, the reader's)."""
        return incident_filter(self.org_unit_id, self.kind, self.since, time_zone)


def incident_filter(org_unit_id: int, kind: RuleKind, since: datetime, time_zone: str = "UTC") -> OverviewFilter:
    f = OverviewFilter(time_zone=time_zone, statuses=kind.statuses, org_unit_ids={org_unit_id})
    return replace(f, sent_from=since.astimezone(f.zone).date())


def _views(session: Session, stmt) -> list[IncidentView]:
    rows = session.execute(stmt.join(OrgUnit, OrgUnit.id == AlertIncident.org_unit_id).add_columns(OrgUnit.name))
    return [
        IncidentView(
            i.id,
            i.org_unit_id,
            name,
            RuleKind(i.kind),
            i.opened_at,
            i.updated_at,
            i.resolved_at,
            i.since,
            i.messages,
            i.affected,
            i.peak_affected,
            i.summary,
        )
        for i, name in rows
    ]


def open_incidents(db: Database, actor: Actor) -> list[IncidentView]:
    """The open incidents of the user's units, newest first: what the banner shows."""
    units = actor.visible_units()
    if not units:
        return []
    stmt = (
        select(AlertIncident)
        .where(AlertIncident.resolved_at.is_(None), AlertIncident.org_unit_id.in_(units))
        .order_by(AlertIncident.opened_at.desc(), AlertIncident.id.desc())
    )
    with db.session() as session:
        return _views(session, stmt)


def incident_history(db: Database, actor: Actor, limit: int = 200) -> tuple[list[IncidentView], list[IncidentView]]:
    """(open, past) incidents of the user's units, newest first; the past ones at most ``limit``."""
    actor.require(Permission.VIEW_DELIVERY_REPORTS)
    units = actor.visible_units()
    if not units:
        return [], []
    past = (
        select(AlertIncident)
        .where(AlertIncident.resolved_at.is_not(None), AlertIncident.org_unit_id.in_(units))
        .order_by(AlertIncident.opened_at.desc(), AlertIncident.id.desc())
        .limit(limit)
    )
    with db.session() as session:
        return open_incidents(db, actor), _views(session, past)


@dataclass(frozen=True)
class MailStatus:
    waiting: int  # alert mails not sent yet
    last_error: str | None  # why the oldest of them is not sent, in the mail server's words


def mail_status(db: Database, actor: Actor) -> MailStatus:
    """How the alert mails fare, for administrators: a mail server that is down shows here
    rather than only in the worker's log."""
    actor.require(Permission.MANAGE_SETTINGS)
    with db.session() as session:
        waiting = session.scalar(select(func.count()).select_from(MailOutbox).where(MailOutbox.sent_at.is_(None)))
        last_error = session.scalar(
            select(MailOutbox.last_error)
            .where(MailOutbox.sent_at.is_(None), MailOutbox.last_error.is_not(None))
            .order_by(MailOutbox.id)
            .limit(1)
        )
    return MailStatus(waiting or 0, last_error)
