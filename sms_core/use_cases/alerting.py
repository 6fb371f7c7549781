"""Evaluating the alert rules: one incident per rule and unit while it lasts — opened, updated
with the newest figures, resolved once the rule has not held for a few evaluations in a row — and one mail to each recipient when it opens and when it
resolves, written to the outbox in the same transaction, so an incident never exists without
its mails nor a mail without its incident.

Several workers may evaluate on one PostgreSQL: a transaction-scoped advisory lock lets one of
them evaluate at a time (the others skip that round), and the partial unique index of open
incidents holds even if two got through.  On SQLite the evaluation takes the write lock first,
so it reads what it then writes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlencode

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from sms_core.domain.alert_rules import CALM_EVALUATIONS, AlertRule, Figures, RuleKind, breached, summary
from sms_core.domain.setting_definitions import ALERT_MAIL_TO, mail_addresses
from sms_core.read_models.alert_figures import measure, window_start
from sms_core.read_models.alerts import incident_filter, rules_of_units
from sms_core.read_models.overview_link import link_params
from sms_core.storage.alert_models import AlertIncident, MailOutbox
from sms_core.storage.database import Database
from sms_core.storage.models import OrgUnit, User, UserOrgUnit, utcnow
from sms_core.use_cases.settings import read_settings

ALERTS_PATH = "/sms-alerts"
LOCK_KEY = 0x5A1E47  # the advisory lock of the evaluation (any constant no other code uses)


@dataclass(frozen=True)
class Evaluation:
    opened: int = 0
    updated: int = 0
    resolved: int = 0
    skipped: bool = False  # another worker was evaluating


def evaluate_alerts(
    db: Database, gateway_problem: str | None = None, *, now: datetime | None = None, public_url: str = ""
) -> Evaluation:
    """One evaluation of every rule of every unit (the worker's alert loop calls it each minute).

    ``gateway_problem`` is the gateway's ``problem()``, asked before the transaction opens, so a
    slow gateway never holds a lock.
    """
    now = now or utcnow()
    try:
        with db.session() as session:
            if not _exclusive(session, db):
                return Evaluation(skipped=True)
            units = dict(session.execute(select(OrgUnit.id, OrgUnit.name)).all())
            rules = rules_of_units(session, units)
            measured = measure(session, rules, gateway_problem, now)
            incidents = {
                (i.org_unit_id, i.kind): i
                for i in session.scalars(select(AlertIncident).where(AlertIncident.resolved_at.is_(None)))
            }
            mail = _Mail(session, public_url, now)
            counts = {"opened": 0, "updated": 0, "resolved": 0}
            for unit_id, by_kind in rules.items():
                for kind, rule in by_kind.items():
                    figures = measured.get((unit_id, kind), Figures())
                    incident = incidents.get((unit_id, kind.value))
                    change = _apply(session, rule, figures, incident, unit_id, now)
                    if change:
                        counts[change] += 1
                    if change in ("opened", "resolved"):
                        mail.queue(change, units[unit_id], rule, change_incident(session, unit_id, kind, incident))
            return Evaluation(**counts)
    except IntegrityError:  # another worker opened the same incident a moment before: its round counts
        return Evaluation(skipped=True)


def _exclusive(session: Session, db: Database) -> bool:
    if db.is_postgres:
        return bool(session.scalar(select(func.pg_try_advisory_xact_lock(LOCK_KEY))))
    # SQLite: a write first takes the database's write lock, so nothing changes between the
    # reads below and the writes after them.
    session.execute(update(AlertIncident).where(AlertIncident.id == -1).values(kind=AlertIncident.kind))
    return True


def _apply(
    session: Session,
    rule: AlertRule,
    figures: Figures,
    incident: AlertIncident | None,
    unit_id: int,
    now: datetime,
) -> str | None:
    if breached(rule, figures):
        words = summary(rule, figures)[:500]
        if incident is None:
            session.add(
                AlertIncident(
                    org_unit_id=unit_id,
                    kind=rule.kind.value,
                    opened_at=now,
                    updated_at=now,
                    since=window_start(rule, now),
                    messages=figures.messages,
                    affected=figures.affected,
                    peak_affected=figures.affected,
                    calm_evaluations=0,
                    summary=words,
                )
            )
            session.flush()  # the unique index of open incidents speaks here
            return "opened"
        incident.updated_at, incident.messages, incident.affected = now, figures.messages, figures.affected
        incident.peak_affected = max(incident.peak_affected, figures.affected)
        incident.summary, incident.calm_evaluations = words, 0
        return "updated"
    if incident is None:
        return None
    incident.updated_at, incident.calm_evaluations = now, incident.calm_evaluations + 1
    if incident.calm_evaluations < CALM_EVALUATIONS:
        return "updated"
    incident.resolved_at = now
    return "resolved"


def change_incident(session: Session, unit_id: int, kind: RuleKind, known: AlertIncident | None) -> AlertIncident:
    """The incident that was just opened (``known`` is None) or resolved."""
    if known is not None:
        return known
    return session.scalars(
        select(AlertIncident).where(
            AlertIncident.org_unit_id == unit_id, AlertIncident.kind == kind.value, AlertIncident.resolved_at.is_(None)
        )
    ).one()


class _Mail:
    """The mails of one evaluation: one per recipient and incident change."""

    def __init__(self, session: Session, public_url: str, now: datetime):
        self.session, self.public_url, self.now = session, public_url.rstrip("/"), now
        self.extra = mail_addresses(str(read_settings(session)[ALERT_MAIL_TO]))
        self._leads: dict[int, list[str]] = {}

    def recipients(self, unit_id: int) -> list[str]:
        if unit_id not in self._leads:
            stmt = (
                select(User.email)
                .join(UserOrgUnit, UserOrgUnit.user_id == User.id)
                .where(
                    UserOrgUnit.org_unit_id == unit_id,
                    User.role == "team_lead",
                    User.active.is_(True),
                    User.email.is_not(None),
                )
                .order_by(User.email)
            )
            self._leads[unit_id] = [e for e in self.session.scalars(stmt) if e]
        return list(dict.fromkeys([*self._leads[unit_id], *self.extra]))

    def queue(self, change: str, unit_name: str, rule: AlertRule, incident: AlertIncident) -> None:
        subject, body = compose(change, unit_name, rule, incident, self.public_url)
        for recipient in self.recipients(incident.org_unit_id):
            self.session.add(
                MailOutbox(
                    incident_id=incident.id,
                    recipient=recipient,
                    subject=subject,
                    body=body,
                    created_at=self.now,
                    next_attempt_at=self.now,
                    attempts=0,
                )
            )


def compose(change: str, unit_name: str, rule: AlertRule, incident: AlertIncident, public_url: str) -> tuple[str, str]:
    """The subject and text of the mail saying that ``incident`` opened or resolved."""
    label = rule.kind.label
    messages = incident_filter(incident.org_unit_id, rule.kind, incident.since)
    link = f"{public_url}/sms-messages?{urlencode(link_params(messages), doseq=True)}"
    if change == "opened":
        subject = f"SMS alert: {label} in {unit_name}"
        lines = [f"{label} in {unit_name} since {incident.opened_at:%Y-%m-%d %H:%M} UTC.", "", incident.summary]
    else:
        minutes = max(1, round((incident.resolved_at - incident.opened_at).total_seconds() / 60))
        subject = f"SMS alert resolved: {label} in {unit_name}"
        lines = [
            f"{label} in {unit_name} is resolved ({incident.resolved_at:%Y-%m-%d %H:%M} UTC, after {minutes} minutes).",
            "",
            f"Last seen: {incident.summary}",
            f"At its worst: {incident.peak_affected:,} messages.",
        ]
    lines += ["", f"The rule: {rule.describe()}", "", f"The messages: {link}", f"All alerts: {public_url}{ALERTS_PATH}"]
    return subject, "\n".join(lines) + "\n"
