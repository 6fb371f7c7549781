"""The Replies page as queries, and the opt-outs the delivery rates count.

The page has the overview's filters (text, phone, date range, unit), so it takes the overview's
filter object and reads the fields that apply to a reply: the same "contains" and phone rules, the
days in the browser's time zone, and the units cut down to the user's own (``Actor.visible_units``)
— a reply is seen exactly where the message it answers is.  Counts stop at the overview's cap.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, Select, false, func, select
from sqlalchemy.orm import aliased

from sms_core.domain.permissions import Actor, Permission
from sms_core.domain.phones import format_international
from sms_core.read_models.delivery_rate_figures import Period
from sms_core.read_models.overview import (
    COUNT_CAP,
    PAGE_SIZE,
    MessageCount,
    OverviewFilter,
    contains_pattern,
    phone_condition,
)
from sms_core.storage.database import Database
from sms_core.storage.models import Contact, OrgUnit, SmsMessage
from sms_core.storage.reply_models import OPT_OUT, IncomingSms
from sms_core.storage.rollups import organisation_zone
from sms_core.storage.text_search import text_contains


@dataclass(frozen=True)
class ReplyRow:
    id: int
    received_at: datetime
    sender: str
    text: str
    org_unit_id: int
    org_unit_name: str
    message_id: int | None  # the message it answers
    message_text: str | None
    message_sent_on: datetime | None
    contact_id: int | None
    contact_name: str | None
    keyword: str | None

    @property
    def sender_display(self) -> str:
        return format_international(self.sender) if self.sender.startswith("+") else self.sender


def reply_conditions(actor: Actor, f: OverviewFilter) -> list[ColumnElement[bool]]:
    """The WHERE clause of every Replies statement; refuses a user who may not view SMS."""
    actor.require(Permission.VIEW_SMS)
    units = actor.visible_units(f.org_unit_ids)
    if not units or "\x00" in f.text:
        return [false()]
    where: list[ColumnElement[bool]] = [IncomingSms.org_unit_id.in_(sorted(units))]
    if f.text.strip():
        where.append(text_contains(IncomingSms.text, contains_pattern(f.text.strip())))
    if f.phone.strip():
        where.append(phone_condition(f.phone, f.region, IncomingSms.sender))
    start, end = f.sent_on_bounds()
    if start is not None:
        where.append(IncomingSms.received_at >= start)
    if end is not None:
        where.append(IncomingSms.received_at < end)
    if f.contact_id is not None:
        where.append(IncomingSms.contact_id == f.contact_id)
    return where


def replies_statement(actor: Actor, f: OverviewFilter) -> Select:
    answered = aliased(SmsMessage)
    return (
        select(
            IncomingSms.id,
            IncomingSms.received_at,
            IncomingSms.sender,
            IncomingSms.text,
            IncomingSms.org_unit_id,
            OrgUnit.name,
            IncomingSms.message_id,
            answered.text,
            answered.sent_on,
            IncomingSms.contact_id,
            Contact.name,
            IncomingSms.keyword,
        )
        .join(OrgUnit, OrgUnit.id == IncomingSms.org_unit_id)
        .outerjoin(answered, answered.id == IncomingSms.message_id)
        .outerjoin(Contact, Contact.id == IncomingSms.contact_id)
        .where(*reply_conditions(actor, f))
        .order_by(IncomingSms.received_at.desc(), IncomingSms.id.desc())
    )


def list_replies(
    db: Database, actor: Actor, f: OverviewFilter, page: int = 1, page_size: int = PAGE_SIZE
) -> list[ReplyRow]:
    statement = replies_statement(actor, f).limit(page_size).offset((max(page, 1) - 1) * page_size)
    with db.session() as session:
        return [ReplyRow(*row) for row in session.execute(statement)]


def count_replies(db: Database, actor: Actor, f: OverviewFilter, cap: int = COUNT_CAP) -> MessageCount:
    matching = select(IncomingSms.id).where(*reply_conditions(actor, f)).limit(cap + 1).subquery()
    with db.session() as session:
        n = session.scalar(select(func.count()).select_from(matching))
    return MessageCount(min(n, cap), capped=n > cap)


@dataclass(frozen=True)
class OptOuts:
    """Opt-outs by SMS reply in a period and the one before it, and per unit in the period."""

    count: int
    previous: int
    per_unit: dict[int, int]


def opt_outs(db: Database, actor: Actor, period: Period, unit_ids) -> OptOuts:
    """For the delivery rates: how many replies withdrew consent, per unit, in ``period``."""
    actor.require(Permission.VIEW_DELIVERY_REPORTS)
    units = sorted(actor.visible_units(set(unit_ids)))
    with db.session() as session:
        if not units:
            return OptOuts(0, 0, {})
        zone = organisation_zone(session.connection())  # days as the other delivery-rate figures count them
        start, end = period.bounds(zone)
        before, _ = period.previous.bounds(zone)
        rows = session.execute(_opt_outs_statement(units, before, start, end)).all()
    per_unit = {unit: n for unit, now, n in rows if now}
    return OptOuts(sum(per_unit.values()), sum(n for _, now, n in rows if not now), per_unit)


def _opt_outs_statement(units: list[int], before, start, end) -> Select:
    return (
        select(IncomingSms.org_unit_id, (IncomingSms.received_at >= start).label("now"), func.count())
        .where(IncomingSms.org_unit_id.in_(units), IncomingSms.keyword == OPT_OUT)
        .where(IncomingSms.received_at >= before, IncomingSms.received_at < end)
        .group_by(IncomingSms.org_unit_id, "now")
    )
