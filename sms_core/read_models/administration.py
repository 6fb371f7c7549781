"""What the administration page lists: users with their role and units, org units, and the audit
trail in time order (the newest first), each entry as field: before → after."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from sms_core.domain.permissions import Actor, Permission
from sms_core.storage.audit_models import AuditEvent
from sms_core.storage.database import Database
from sms_core.storage.models import Contact, OrgUnit, Role, User, UserOrgUnit

AUDIT_LIMIT = 200


@dataclass(frozen=True)
class UserRow:
    id: int
    username: str
    name: str
    email: str | None
    role: str
    role_label: str
    unit_ids: tuple[int, ...]
    unit_codes: tuple[str, ...]
    active: bool


@dataclass(frozen=True)
class UnitRow:
    id: int
    code: str
    name: str
    active: bool
    users: int  # active users associated with it


@dataclass(frozen=True)
class AuditLine:
    at: datetime
    who: str
    entity: str  # "user", "org unit", "contact"
    entity_id: int
    subject: str  # the user's, unit's or contact's name now
    action: str
    changes: tuple[tuple[str, object, object], ...]  # (field, before, after)


def list_roles(db: Database) -> list[tuple[str, str]]:
    """(name, label) of the roles, in the order of their rights: staff, team lead, administrator."""
    order = {"staff": 0, "team_lead": 1, "administrator": 2}
    with db.session() as session:
        rows = session.execute(select(Role.name, Role.label)).all()
    return sorted(((r.name, r.label) for r in rows), key=lambda r: (order.get(r[0], 9), r[1]))


def list_users(db: Database, actor: Actor) -> list[UserRow]:
    actor.require(Permission.MANAGE_USERS)
    with db.session() as session:
        labels = dict(session.execute(select(Role.name, Role.label)).all())
        codes = dict(session.execute(select(OrgUnit.id, OrgUnit.code)).all())
        units: dict[int, list[int]] = {}
        for user_id, unit_id in session.execute(select(UserOrgUnit.user_id, UserOrgUnit.org_unit_id)):
            units.setdefault(user_id, []).append(unit_id)
        users = session.scalars(select(User).order_by(User.active.desc(), User.display_name, User.id)).all()
        return [
            UserRow(
                u.id,
                u.username,
                u.display_name,
                u.email,
                u.role,
                labels.get(u.role, u.role),
                tuple(sorted(units.get(u.id, []), key=codes.get)),
                tuple(sorted(codes[x] for x in units.get(u.id, []))),
                u.active,
            )
            for u in users
        ]


def list_units(db: Database, actor: Actor, active_only: bool = False) -> list[UnitRow]:
    actor.require(Permission.MANAGE_USERS)
    with db.session() as session:
        members = dict(
            session.execute(
                select(UserOrgUnit.org_unit_id, func.count())
                .join(User, User.id == UserOrgUnit.user_id)
                .where(User.active.is_(True))
                .group_by(UserOrgUnit.org_unit_id)
            ).all()
        )
        query = select(OrgUnit).order_by(OrgUnit.active.desc(), OrgUnit.name)
        if active_only:
            query = query.where(OrgUnit.active.is_(True))
        return [UnitRow(u.id, u.code, u.name, u.active, members.get(u.id, 0)) for u in session.scalars(query)]


_ENTITY_LABELS = {"user": "user", "org_unit": "org. unit", "contact": "contact"}
_SUBJECTS = {"user": (User, User.display_name), "org_unit": (OrgUnit, OrgUnit.name), "contact": (Contact, Contact.name)}


def list_audit(
    db: Database, actor: Actor, entity: str | None = None, entity_id: int | None = None, limit: int = AUDIT_LIMIT
) -> list[AuditLine]:
    """The newest changes first; of one kind of record, or of one record, when asked.

    A contact's history may be read by anyone who may view SMS (contacts are organisation-wide);
    the whole trail only by those who manage users."""
    if entity == "contact" and entity_id is not None:
        actor.require(Permission.VIEW_SMS)
    else:
        actor.require(Permission.MANAGE_USERS)
    query = select(AuditEvent).order_by(AuditEvent.id.desc()).limit(limit)
    if entity is not None:
        query = query.where(AuditEvent.entity == entity)
    if entity_id is not None:
        query = query.where(AuditEvent.entity_id == entity_id)
    with db.session() as session:
        events = session.scalars(query).all()
        names: dict[tuple[str, int], str] = {}
        for kind, (model, column) in _SUBJECTS.items():
            ids = {e.entity_id for e in events if e.entity == kind}
            if ids:
                rows = session.execute(select(model.id, column).where(model.id.in_(ids))).all()
                names.update({(kind, i): n for i, n in rows})
    return [
        AuditLine(
            e.at,
            e.actor_name,
            _ENTITY_LABELS.get(e.entity, e.entity),
            e.entity_id,
            names.get((e.entity, e.entity_id), f"#{e.entity_id}"),
            e.action,
            _changes(e.before, e.after),
        )
        for e in events
    ]


def _changes(before: str | None, after: str | None) -> tuple[tuple[str, object, object], ...]:
    old, new = json.loads(before or "{}"), json.loads(after or "{}")
    return tuple((k, old.get(k), new.get(k)) for k in sorted(set(old) | set(new)))
