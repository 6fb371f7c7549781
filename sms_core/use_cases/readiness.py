"""Whether an SMS sent from a unit right now could leave at all: the pre-send checks of DESIGN.md
that do not depend on the recipient (SMS sending switched on; the unit's representative and sender).

Sending and resending record a refused message with the check's status; the Send SMS dialog asks
the same question as soon as it opens, so the user learns it before writing, not after Send.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from sms_core.config import DEFAULTS, Config
from sms_core.domain.permissions import Actor
from sms_core.domain.senders import sender_problem
from sms_core.domain.statuses import SmsStatus
from sms_core.storage.database import Database
from sms_core.storage.models import OrgUnit
from sms_core.use_cases.settings import read_settings


def unit_refusal(session: Session, unit: OrgUnit, region: str) -> tuple[SmsStatus | None, str | None]:
    """The first of those checks that fails, as (status, detail); (None, None) when both pass."""
    if not read_settings(session).sending_enabled:
        return SmsStatus.SENDING_NOT_ALLOWED, None
    if not unit.active:
        return SmsStatus.INVALID_REPRESENTATIVE, "The org. unit is deactivated, so it cannot send SMS."
    if problem := sender_problem(unit.sms_sender, unit.representative_name, region):
        return SmsStatus.INVALID_REPRESENTATIVE, problem
    return None, None


def send_readiness(db: Database, actor: Actor, org_unit_id: int | None = None, config: Config = DEFAULTS) -> str | None:
    """Why an SMS sent now from ``org_unit_id`` (the user's current unit) would not go out, as a
    sentence for the user; None when nothing stands in the way before the recipient is known."""
    unit_id = org_unit_id if org_unit_id is not None else actor.current_org_unit_id
    if unit_id is None:
        return None
    with db.session() as session:
        unit = session.get(OrgUnit, unit_id)
        if unit is None:
            return None
        status, detail = unit_refusal(session, unit, config.default_region)
    if status is None:
        return None
    because = f" {detail}" if detail else ""
    return (
        f"{status.explanation}{because} An SMS sent now is recorded with the status “{status.label}” and does not "
        f"go out. {status.next_step}"
    )
