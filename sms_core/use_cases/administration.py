"""Administration of users and org units: add, edit, deactivate and reactivate — never delete,
so that sent messages keep their sender's name and their unit.  Every change is audited.

Holders of "manage users" administer the whole organisation (users and units of every unit), as
the first administrator made by the command line must.  The last active administrator cannot be
deactivated or demoted: the check locks the administrator roles' rows first, so two such changes
at once on PostgreSQL run one after the other and the second sees the first.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from sms_core.domain.errors import Conflict, InvalidInput, NotFound
from sms_core.domain.permissions import Actor, Permission
from sms_core.storage.database import Database
from sms_core.storage.models import OrgUnit, Role, RolePermission, User, UserOrgUnit, get_by_id
from sms_core.use_cases.audit import changes, record
from sms_core.use_cases.people import clean_code, clean_email, clean_name


@dataclass(frozen=True)
class UserInput:
    name: str
    email: str
    role: str
    unit_ids: tuple[int, ...]


def add_user(db: Database, actor: Actor, data: UserInput) -> int:
    """A new active user; their username is made from the e-mail address (sign-in matches the
    e-mail, the username is what the command line's --user and the demo picker use)."""
    actor.require(Permission.MANAGE_USERS)
    name, email = clean_name(data.name), clean_email(data.email)
    with db.session() as session:
        _check_role(session, data.role)
        units = _check_units(session, data.unit_ids, keep=())
        _check_email_free(session, email)
        user = User(
            username=_free_username(session, email),
            display_name=name,
            email=email,
            role=data.role,
            current_org_unit_id=units[0],
            active=True,
        )
        session.add(user)
        _flush(session, email)
        session.add_all(UserOrgUnit(user_id=user.id, org_unit_id=u) for u in units)
        record(session, actor, "user", user.id, "added", None, _user_fields(session, user, units))
        return user.id


def update_user(db: Database, actor: Actor, user_id: int, data: UserInput) -> None:
    actor.require(Permission.MANAGE_USERS)
    name, email = clean_name(data.name), clean_email(data.email)
    with db.session() as session:
        user = _user(session, user_id)
        _check_role(session, data.role)
        old_units = _unit_ids(session, user.id)
        units = _check_units(session, data.unit_ids, keep=old_units)
        if email != (user.email or "").lower():
            _check_email_free(session, email, user.id)
        if user.active and data.role != user.role and data.role not in _admin_roles(session):
            _keep_an_administrator(session, user, f"change {user.display_name}'s role")
        before = _user_fields(session, user, old_units)
        user.display_name, user.email, user.role = name, email, data.role
        if user.current_org_unit_id not in units:
            user.current_org_unit_id = units[0]
        for unit in set(old_units) - set(units):
            session.delete(session.get(UserOrgUnit, (user.id, unit)))
        session.add_all(UserOrgUnit(user_id=user.id, org_unit_id=u) for u in units if u not in old_units)
        _flush(session, email)
        old, new = changes(before, _user_fields(session, user, units))
        if new:
            record(session, actor, "user", user.id, "changed", old, new)


def set_user_active(db: Database, actor: Actor, user_id: int, active: bool) -> None:
    actor.require(Permission.MANAGE_USERS)
    with db.session() as session:
        user = _user(session, user_id)
        if user.active == active:
            return
        if not active:
            _keep_an_administrator(session, user, f"deactivate {user.display_name}")
        user.active = active
        record(session, actor, "user", user.id, "reactivated" if active else "deactivated")


def deactivate_user_by_email(db: Database, actor: Actor, email: str) -> str:
    """For the command line: returns the user's name."""
    actor.require(Permission.MANAGE_USERS)
    wanted = clean_email(email)
    with db.session() as session:
        found = session.scalar(select(User.id).where(func.lower(User.email) == wanted))
    if found is None:
        raise NotFound(f"No user is registered with the e-mail address {wanted}.")
    set_user_active(db, actor, found, False)
    with db.session() as session:
        return session.get(User, found).display_name


def add_unit(db: Database, actor: Actor, code: str, name: str) -> int:
    actor.require(Permission.MANAGE_USERS)
    code, name = clean_code(code), clean_name(name, what="the org. unit's name")
    with db.session() as session:
        if session.scalar(select(OrgUnit.id).where(func.upper(OrgUnit.code) == code)) is not None:
            raise Conflict(f"There is already an org. unit with the code {code}.", field="code")
        unit = OrgUnit(code=code, name=name, active=True)
        session.add(unit)
        try:
            session.flush()
        except IntegrityError:
            raise Conflict(f"There is already an org. unit with the code {code}.", field="code") from None
        record(session, actor, "org_unit", unit.id, "added", None, {"code": code, "name": name})
        return unit.id


def rename_unit(db: Database, actor: Actor, unit_id: int, name: str) -> None:
    actor.require(Permission.MANAGE_USERS)
    name = clean_name(name, what="the org. unit's name")
    with db.session() as session:
        unit = _unit(session, unit_id)
        if unit.name != name:
            record(session, actor, "org_unit", unit.id, "changed", {"name": unit.name}, {"name": name})
            unit.name = name


def set_unit_active(db: Database, actor: Actor, unit_id: int, active: bool) -> None:
    """A deactivated unit keeps its messages and users; it cannot send and is not offered for new users."""
    actor.require(Permission.MANAGE_USERS)
    with db.session() as session:
        unit = _unit(session, unit_id)
        if unit.active != active:
            unit.active = active
            record(session, actor, "org_unit", unit.id, "reactivated" if active else "deactivated")


def _user(session: Session, user_id: int) -> User:
    user = get_by_id(session, User, user_id)
    if user is None:
        raise NotFound("That user does not exist.")
    return user


def _unit(session: Session, unit_id: int) -> OrgUnit:
    unit = get_by_id(session, OrgUnit, unit_id)
    if unit is None:
        raise NotFound("That org. unit does not exist.")
    return unit


def _check_role(session: Session, role: str) -> None:
    if session.get(Role, role) is None:
        raise InvalidInput("Choose one of the roles: staff, team lead or administrator.", field="role")


def _check_units(session: Session, unit_ids, keep) -> list[int]:
    """The units, in the order given; newly given ones must be active (a user may keep a
    deactivated unit they already had, to read its messages)."""
    wanted = list(dict.fromkeys(unit_ids))
    if not wanted:
        raise InvalidInput("Choose at least one org. unit: a user sees messages only of their units.", field="units")
    active = dict(session.execute(select(OrgUnit.id, OrgUnit.active).where(OrgUnit.id.in_(wanted))).all())
    for unit in wanted:
        if unit not in active:
            raise InvalidInput("One of the chosen org. units does not exist.", field="units")
        if not active[unit] and unit not in keep:
            raise InvalidInput("A deactivated org. unit cannot be given to a user.", field="units")
    return wanted


def _check_email_free(session: Session, email: str, user_id: int | None = None) -> None:
    taken = session.scalar(select(User.id).where(func.lower(User.email) == email, User.id != (user_id or 0)))
    if taken is not None:
        raise Conflict(f"Another user is already registered with {email}.", field="email")


def _flush(session: Session, email: str) -> None:
    try:
        session.flush()
    except IntegrityError:  # the same e-mail added at the same moment
        raise Conflict(f"Another user is already registered with {email}.", field="email") from None


def _free_username(session: Session, email: str) -> str:
    base = re.sub(r"[^a-z0-9._-]", "", email.split("@")[0].lower())[:70] or "user"
    taken = set(session.scalars(select(User.username).where(User.username.like(f"{base}%"))))
    return next(c for c in (base, *(f"{base}-{n}" for n in range(2, len(taken) + 3))) if c not in taken)


def _unit_ids(session: Session, user_id: int) -> list[int]:
    return list(session.scalars(select(UserOrgUnit.org_unit_id).where(UserOrgUnit.user_id == user_id)))


def _user_fields(session: Session, user: User, unit_ids) -> dict:
    codes = dict(session.execute(select(OrgUnit.id, OrgUnit.code).where(OrgUnit.id.in_(unit_ids))).all())
    return {
        "name": user.display_name,
        "email": user.email,
        "role": user.role,
        "units": sorted(codes[u] for u in unit_ids),
    }


def _admin_roles(session: Session) -> list[str]:
    return list(
        session.scalars(select(RolePermission.role).where(RolePermission.permission == Permission.MANAGE_USERS))
    )


def _keep_an_administrator(session: Session, user: User, what: str) -> None:
    """Refuse when ``user`` is the last active user who may manage users.  The administrator
    roles' rows are locked first (FOR UPDATE on PostgreSQL; SQLite writes one at a time anyway)."""
    roles = _admin_roles(session)
    if user.role not in roles:
        return
    session.execute(select(Role.name).where(Role.name.in_(roles)).with_for_update())
    others = session.scalar(
        select(func.count()).select_from(User).where(User.role.in_(roles), User.active.is_(True), User.id != user.id)
    )
    if not others:
        raise Conflict(
            f"You cannot {what}: they are the last active administrator. Make another user administrator first."
        )
