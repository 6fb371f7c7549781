"""Users as the services see them: who they are, what they may do, and in which org units."""

from __future__ import annotations

from sqlalchemy import select

from sms_core.domain.errors import NotFound, PermissionDenied
from sms_core.domain.permissions import Actor, Permission
from sms_core.storage.database import Database
from sms_core.storage.models import OrgUnit, RolePermission, User, UserOrgUnit


def load_actor(db: Database, username: str) -> Actor:
    with db.session() as session:
        user = session.scalar(select(User).where(User.username == username, User.active.is_(True)))
        if user is None:
            raise NotFound(f"There is no active user called {username!r}.")
        return _actor(session, user)


def _actor(session, user: User) -> Actor:
    granted = session.scalars(select(RolePermission.permission).where(RolePermission.role == user.role))
    permissions = frozenset(Permission(p) for p in granted if p in Permission._value2member_map_)
    units = frozenset(session.scalars(select(UserOrgUnit.org_unit_id).where(UserOrgUnit.user_id == user.id)))
    return actor_of(user, permissions, units)


def actor_of(user: User, permissions: frozenset[Permission], units: frozenset[int]) -> Actor:
    """The user as the services see them; their current unit is the one they chose while they still
    belong to it, otherwise their first."""
    current = user.current_org_unit_id if user.current_org_unit_id in units else min(units, default=None)
    return Actor(
        id=user.id,
        username=user.username,
        display_name=user.display_name,
        role=user.role,
        permissions=permissions,
        org_unit_ids=units,
        current_org_unit_id=current,
    )


def list_usernames(db: Database) -> list[tuple[str, str]]:
    """(username, display name) of active users, for the demo-mode user switcher."""
    with db.session() as session:
        rows = session.execute(
            select(User.username, User.display_name).where(User.active.is_(True)).order_by(User.display_name)
        )
        return [(r.username, r.display_name) for r in rows]


def units_of(db: Database, actor: Actor) -> list[OrgUnit]:
    """The org units the user is associated with, by name."""
    with db.session() as session:
        return list(session.scalars(select(OrgUnit).where(OrgUnit.id.in_(actor.org_unit_ids)).order_by(OrgUnit.name)))


def set_current_org_unit(db: Database, actor: Actor, org_unit_id: int) -> Actor:
    if org_unit_id not in actor.org_unit_ids:
        raise PermissionDenied("You are not associated with that org. unit.")
    with db.session() as session:
        user = session.get(User, actor.id)
        user.current_org_unit_id = org_unit_id
    return load_actor(db, actor.username)


def unit_id_by_code(db: Database, code: str) -> int:
    with db.session() as session:
        unit_id = session.scalar(select(OrgUnit.id).where(OrgUnit.code == code.strip().upper()))
        if unit_id is None:
            raise NotFound(f"There is no org. unit with the code {code!r}.")
        return unit_id
