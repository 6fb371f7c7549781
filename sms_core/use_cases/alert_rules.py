"""Administrators change a unit's alert rules; the worker's next evaluation uses them."""

from __future__ import annotations

from sqlalchemy import select

from sms_core.domain.alert_rules import AlertRule
from sms_core.domain.permissions import Actor, Permission
from sms_core.storage.alert_models import AlertRuleRow
from sms_core.storage.database import Database
from sms_core.storage.models import utcnow


def save_alert_rule(db: Database, actor: Actor, org_unit_id: int, rule: AlertRule) -> AlertRule:
    """Validate and store one rule of one of the administrator's units (a unit's own row, created
    on its first change); InvalidInput names the field to fix."""
    actor.require(Permission.MANAGE_SETTINGS, org_unit_id)
    rule = rule.validated()
    with db.session() as session:
        row = session.scalars(
            select(AlertRuleRow)
            .where(AlertRuleRow.org_unit_id == org_unit_id, AlertRuleRow.kind == rule.kind.value)
            .with_for_update()
        ).first()
        if row is None:
            row = AlertRuleRow(org_unit_id=org_unit_id, kind=rule.kind.value)
            session.add(row)
        row.enabled, row.minutes, row.percent, row.min_messages = (
            rule.enabled,
            rule.minutes,
            rule.percent,
            rule.min_messages,
        )
        row.updated_at, row.updated_by_user_id = utcnow(), actor.id
    return rule
