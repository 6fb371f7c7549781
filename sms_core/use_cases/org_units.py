"""Org units' SMS configuration: each unit's representative and the SMS sender they send as.

A unit whose configuration is missing or invalid cannot send (its attempts are recorded as
"Invalid representative for unit"), so administrators see those units first and can only save a
configuration that ``sms_core.domain.senders`` accepts.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from sms_core.domain.errors import InvalidInput, NotFound
from sms_core.domain.permissions import Actor, Permission
from sms_core.domain.phones import DEFAULT_REGION
from sms_core.domain.senders import normalise_sender, sender_problem
from sms_core.storage.database import Database
from sms_core.storage.models import OrgUnit

REPRESENTATIVE_MAX = 200


@dataclass(frozen=True)
class UnitSender:
    id: int
    code: str
    name: str
    representative_name: str | None
    sms_sender: str | None

    @property
    def problem(self) -> str | None:
        """Why this unit cannot send SMS, as a sentence; None when it can."""
        return sender_problem(self.sms_sender, self.representative_name)


def list_unit_senders(db: Database, actor: Actor) -> list[UnitSender]:
    """The administrator's units, those that cannot send first (then by name)."""
    actor.require(Permission.MANAGE_SETTINGS)
    with db.session() as session:
        units = [_unit_sender(u) for u in session.scalars(select(OrgUnit).where(OrgUnit.id.in_(actor.visible_units())))]
    return sorted(units, key=lambda u: (u.problem is None, u.name.casefold()))


def configuration_problem(
    representative_name: str | None, sms_sender: str | None, region: str = DEFAULT_REGION
) -> InvalidInput | None:
    """The refusal a save would meet, naming the field to fix — also used while the user types."""
    representative = (representative_name or "").strip()
    if len(representative) > REPRESENTATIVE_MAX:
        return InvalidInput(
            f"The representative's name can have at most {REPRESENTATIVE_MAX} characters.", field="representative_name"
        )
    problem = sender_problem(sms_sender, representative, region)
    if problem is None:
        return None
    return InvalidInput(problem, field="sms_sender" if representative else "representative_name")


def update_unit_sender(
    db: Database,
    actor: Actor,
    org_unit_id: int,
    representative_name: str,
    sms_sender: str,
    region: str = DEFAULT_REGION,
) -> UnitSender:
    """Save a unit's representative and sender; refuse a configuration that could not send.

    ``region`` reads a sender number written without its country code (SMS_DEFAULT_REGION)."""
    actor.require(Permission.MANAGE_SETTINGS, org_unit_id)
    refusal = configuration_problem(representative_name, sms_sender, region)
    if refusal is not None:
        raise refusal
    with db.session() as session:
        unit = session.get(OrgUnit, org_unit_id)
        if unit is None:
            raise NotFound("That org. unit does not exist.")
        unit.representative_name = representative_name.strip()
        unit.sms_sender = normalise_sender(sms_sender, region)
        return _unit_sender(unit)


def _unit_sender(unit: OrgUnit) -> UnitSender:
    return UnitSender(unit.id, unit.code, unit.name, unit.representative_name, unit.sms_sender)
