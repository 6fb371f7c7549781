"""Writing the administration audit trail: every change to a user, an org unit or a contact, with
who made it and the fields before and after, in the same transaction as the change itself (so a
change without its audit line, or the other way round, cannot be committed)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from sqlalchemy import insert
from sqlalchemy.orm import Session

from sms_core.domain.permissions import Actor, Permission
from sms_core.storage.audit_models import AuditEvent
from sms_core.storage.models import utcnow

CLI_NAME = "CLI"


def cli_actor() -> Actor:
    """The command line acts as the system: it is how the first administrator of a new
    installation is made, before any user exists.  Id 0 is no user; the audit says "CLI"."""
    return Actor(0, "cli", CLI_NAME, "administrator", frozenset(Permission), frozenset(), None)


def actor_user_id(actor: Actor) -> int | None:
    """The user id to store as who did it; None for the command line and for an API key (whose
    name is the audit's "who")."""
    return actor.user_id or None


def changes(before: Mapping[str, Any], after: Mapping[str, Any]) -> tuple[dict, dict]:
    """Only the fields that differ, before and after."""
    changed = [k for k in after if before.get(k) != after[k]]
    return {k: before.get(k) for k in changed}, {k: after[k] for k in changed}


def audit_row(
    actor: Actor, entity: str, entity_id: int, action: str, before: Mapping | None, after: Mapping | None, at=None
) -> dict:
    return dict(
        at=at or utcnow(),
        actor_user_id=actor_user_id(actor),
        actor_name=actor.display_name[:200],
        entity=entity,
        entity_id=entity_id,
        action=action,
        before=None if before is None else json.dumps(before, ensure_ascii=False, sort_keys=True),
        after=None if after is None else json.dumps(after, ensure_ascii=False, sort_keys=True),
    )


def record(
    session: Session,
    actor: Actor,
    entity: str,
    entity_id: int,
    action: str,
    before: Mapping | None = None,
    after: Mapping | None = None,
) -> None:
    session.execute(insert(AuditEvent), [audit_row(actor, entity, entity_id, action, before, after)])


def record_many(session: Session, rows: list[dict]) -> None:
    """Audit rows of a bulk change (an import), in one executemany."""
    if rows:
        session.execute(insert(AuditEvent), rows)
