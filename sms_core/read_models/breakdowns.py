"""Delivery rates by sender and by standard text, for the delivery-rates page.

Counted from the breakdowns' roll-up (storage/rollup_breakdowns.py), each status's column summed in
SQL per sender or standard text: the database adds up units × days × keys, Python names a few
dozen rows.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from sms_core.domain.permissions import Actor, Permission
from sms_core.domain.statuses import SmsStatus
from sms_core.read_models.delivery_rate_figures import Figures, Period
from sms_core.storage.database import Database
from sms_core.storage.models import StandardText, User, UserOrgUnit
from sms_core.storage.rollup_breakdowns import COUNTS, SENDER, STANDARD_TEXT
from sms_core.storage.rollup_models import DailyBreakdown
from sms_core.storage.rollups import whole_sum

NO_SENDER = "No user (sent by a system)"
NO_STANDARD_TEXT = "Typed, no standard text"


@dataclass(frozen=True)
class Breakdown:
    """One sender or standard text: ``key`` None for the messages without one."""

    key: int | None
    name: str
    figures: Figures


@dataclass(frozen=True)
class Breakdowns:
    senders: list[Breakdown]
    standard_texts: list[Breakdown]


def breakdowns(session: Session, units: frozenset[int], period: Period) -> Breakdowns:
    b = DailyBreakdown.__table__.c
    stmt = (
        select(b.dimension, b.key, *(whole_sum(b[name]) for name in COUNTS.values()))
        .where(b.org_unit_id.in_(units), b.day >= period.first, b.day <= period.last)
        .group_by(b.dimension, b.key)
    )
    counts: dict[int, dict[int, dict[SmsStatus, int]]] = {SENDER: {}, STANDARD_TEXT: {}}
    for dimension, key, *sums in session.connection().execute(stmt).all():
        by_status = {status: n for status, n in zip(COUNTS, sums, strict=True) if n}
        if by_status:  # a key whose messages all moved away keeps its rows, at zero
            counts[dimension][key] = by_status
    users = _names(session, User.id, User.display_name, counts[SENDER])
    texts = _names(session, StandardText.id, StandardText.title, counts[STANDARD_TEXT])
    return Breakdowns(
        _ranked(counts[SENDER], users, NO_SENDER),
        _ranked(counts[STANDARD_TEXT], texts, NO_STANDARD_TEXT),
    )


def _names(session: Session, id_column, name_column, keys) -> dict[int, str]:
    wanted = [k for k in keys if k]
    if not wanted:
        return {}
    return dict(session.execute(select(id_column, name_column).where(id_column.in_(wanted))).all())


def _ranked(counts: dict[int, dict[SmsStatus, int]], names: dict[int, str], nobody: str) -> list[Breakdown]:
    """Most messages sent first, so the senders and texts that matter most are on top."""
    rows = [
        Breakdown(key or None, names.get(key, f"#{key}") if key else nobody, Figures(by_status))
        for key, by_status in counts.items()
    ]
    return sorted(rows, key=lambda r: (-r.figures.attempts, r.name))


def senders_of(db: Database, actor: Actor) -> dict[int, str]:
    """The people the overview's "Sent by" offers: everyone associated with one of the actor's
    units (also those deactivated since: their messages stay), by name."""
    actor.require(Permission.VIEW_SMS)
    stmt = (
        select(User.id, User.display_name)
        .where(User.id.in_(select(UserOrgUnit.user_id).where(UserOrgUnit.org_unit_id.in_(actor.org_unit_ids))))
        .order_by(User.display_name, User.id)
    )
    with db.session() as session:
        return dict(session.execute(stmt).all())


def standard_texts_of(db: Database, actor: Actor) -> dict[int, str]:
    """The standard texts the overview's filter offers: global ones and those of the actor's units,
    also inactive ones (messages were made from them), by title."""
    actor.require(Permission.VIEW_SMS)
    t = StandardText
    stmt = (
        select(t.id, t.title)
        .where(or_(t.org_unit_id.is_(None), t.org_unit_id.in_(actor.org_unit_ids)))
        .order_by(t.title, t.id)
    )
    with db.session() as session:
        return dict(session.execute(stmt).all())
