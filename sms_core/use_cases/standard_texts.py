"""Standard texts: predefined SMS texts, for all org units (global) or for one.

Anyone who may send SMS sees the active ones of the unit they send from (global ones and that
unit's); only holders of "manage standard texts" create, edit and deactivate them — checked here,
not only by hiding the page.  A unit's text needs a manager associated with that unit; a text for
all org. units changes what every unit offers, so it needs a manager associated with every org.
unit (an administrator of one unit sees the global texts but cannot change them).  A text is deactivated rather than deleted, so what was offered
yesterday can still be found.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from sms_core.domain.errors import InvalidInput, NotFound, PermissionDenied
from sms_core.domain.permissions import Actor, Permission
from sms_core.domain.sms_text import validate_text
from sms_core.storage.database import Database
from sms_core.storage.models import OrgUnit, StandardText, User, utcnow

MAX_TITLE = 200
ALL_UNITS = "All org. units"


@dataclass(frozen=True)
class StandardTextView:
    id: int
    title: str
    body: str
    org_unit_id: int | None  # None: offered in every org unit
    org_unit_name: str
    active: bool
    updated_at: datetime
    updated_by: str | None


def active_standard_texts(db: Database, actor: Actor, org_unit_id: int | None = None) -> list[StandardTextView]:
    """What the Standard texts button offers: active global texts and the sending unit's."""
    unit_id = org_unit_id if org_unit_id is not None else actor.current_org_unit_id
    actor.require(Permission.SEND_SMS, unit_id)
    units = [unit_id] if unit_id is not None else []
    with db.session() as session:
        rows = session.scalars(
            select(StandardText)
            .where(
                StandardText.active.is_(True),
                or_(StandardText.org_unit_id.is_(None), StandardText.org_unit_id.in_(units)),
            )
            .order_by(StandardText.title, StandardText.id)
        ).all()
        return _views(session, rows)


def usable_standard_text(session: Session, text_id: int | None, unit_id: int) -> int | None:
    """The standard text a message sent from ``unit_id`` was made from, if the sender could use it
    (active, global or the unit's); otherwise none is recorded — it only attributes the message."""
    if text_id is None:
        return None
    return session.scalar(
        select(StandardText.id).where(
            StandardText.id == text_id,
            StandardText.active.is_(True),
            or_(StandardText.org_unit_id.is_(None), StandardText.org_unit_id == unit_id),
        )
    )


def list_standard_texts(db: Database, actor: Actor, *, include_inactive: bool = True) -> list[StandardTextView]:
    """For the Standard texts page: global texts and those of the administrator's units."""
    actor.require(Permission.MANAGE_STANDARD_TEXTS)
    with db.session() as session:
        query = select(StandardText).where(
            or_(StandardText.org_unit_id.is_(None), StandardText.org_unit_id.in_(actor.org_unit_ids))
        )
        if not include_inactive:
            query = query.where(StandardText.active.is_(True))
        rows = session.scalars(query.order_by(StandardText.active.desc(), StandardText.title, StandardText.id)).all()
        return _views(session, rows)


def create_standard_text(
    db: Database, actor: Actor, *, title: str, body: str, org_unit_id: int | None
) -> StandardTextView:
    with db.session() as session:
        _may_change(session, actor, org_unit_id)
        title, body = _checked(title, body)
        row = StandardText(
            title=title,
            body=body,
            org_unit_id=org_unit_id,
            active=True,
            updated_at=utcnow(),
            updated_by_user_id=actor.id,
        )
        session.add(row)
        session.flush()
        return _views(session, [row])[0]


def update_standard_text(
    db: Database, actor: Actor, text_id: int, *, title: str, body: str, org_unit_id: int | None
) -> StandardTextView:
    with db.session() as session:
        _may_change(session, actor, org_unit_id)
        row = _editable(session, actor, text_id)
        title, body = _checked(title, body)
        row.title, row.body, row.org_unit_id = title, body, org_unit_id
        _touch(row, actor)
        session.flush()
        return _views(session, [row])[0]


def set_standard_text_active(db: Database, actor: Actor, text_id: int, active: bool) -> StandardTextView:
    """Deactivate (no longer offered in the dialog) or activate again."""
    actor.require(Permission.MANAGE_STANDARD_TEXTS)
    with db.session() as session:
        row = _editable(session, actor, text_id)
        row.active = active
        _touch(row, actor)
        session.flush()
        return _views(session, [row])[0]


def deactivate_standard_text(db: Database, actor: Actor, text_id: int) -> StandardTextView:
    return set_standard_text_active(db, actor, text_id, False)


# ---- the steps -------------------------------------------------------------------------


def _may_change(session: Session, actor: Actor, org_unit_id: int | None) -> None:
    """A unit's text: a manager of that unit.  A text for all org. units: a manager associated
    with every org. unit, since it is offered in units the manager does not belong to."""
    actor.require(Permission.MANAGE_STANDARD_TEXTS, org_unit_id)
    if org_unit_id is None and not set(session.scalars(select(OrgUnit.id))) <= actor.org_unit_ids:
        raise PermissionDenied(
            f"Only a manager associated with every org. unit can change texts for {ALL_UNITS.lower()}; "
            "choose one of your own units for this text."
        )


def _checked(title: str, body: str) -> tuple[str, str]:
    """The fields, each refused at its own field."""
    title = (title or "").strip()
    if not title:
        raise InvalidInput("Give the standard text a title.", field="title")
    if len(title) > MAX_TITLE:
        raise InvalidInput(f"The title can have at most {MAX_TITLE} characters.", field="title")
    try:
        return title, validate_text(body)
    except InvalidInput as exc:
        raise InvalidInput(exc.message.replace("SMS text", "standard text"), field="body") from None


def _editable(session: Session, actor: Actor, text_id: int) -> StandardText:
    row = session.get(StandardText, text_id)
    if row is None or (row.org_unit_id is not None and row.org_unit_id not in actor.org_unit_ids):
        raise NotFound("That standard text does not exist.")
    _may_change(session, actor, row.org_unit_id)  # moving or switching off a text needs its present scope too
    return row


def _touch(row: StandardText, actor: Actor) -> None:
    row.updated_at = utcnow()
    row.updated_by_user_id = actor.id


def _views(session: Session, rows: list[StandardText]) -> list[StandardTextView]:
    unit_ids = {r.org_unit_id for r in rows if r.org_unit_id is not None}
    user_ids = {r.updated_by_user_id for r in rows if r.updated_by_user_id is not None}
    units = (
        dict(session.execute(select(OrgUnit.id, OrgUnit.name).where(OrgUnit.id.in_(unit_ids))).all())
        if unit_ids
        else {}
    )
    users = (
        dict(session.execute(select(User.id, User.display_name).where(User.id.in_(user_ids))).all()) if user_ids else {}
    )
    return [
        StandardTextView(
            r.id,
            r.title,
            r.body,
            r.org_unit_id,
            units.get(r.org_unit_id, ALL_UNITS),
            r.active,
            r.updated_at,
            users.get(r.updated_by_user_id),
        )
        for r in rows
    ]
