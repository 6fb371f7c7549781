"""Reading one message as a person sees it: status in words, history, its resend chain and the
replies that answer it.

Visibility is enforced here: a message of a unit the user does not belong to looks exactly
like a message that does not exist.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from sms_core.domain.errors import NotFound
from sms_core.domain.permissions import Actor, Permission
from sms_core.domain.phones import format_international
from sms_core.domain.statuses import SmsStatus
from sms_core.storage.api_models import ApiKey
from sms_core.storage.database import Database
from sms_core.storage.models import Contact, OrgUnit, SmsMessage, StatusEvent, User, get_by_id
from sms_core.storage.reply_models import IncomingSms

REPLIES_SHOWN = 50  # of one message's replies, the newest


@dataclass(frozen=True)
class MessageView:
    id: int
    text: str
    phone: str | None  # E.164
    contact_id: int | None
    org_unit_id: int
    sent_on: datetime
    status: SmsStatus
    resent: bool
    original_id: int | None
    segments: int
    gateway_error: str | None
    anonymised_at: datetime | None = None  # retention removed its text, number and contact

    @property
    def phone_display(self) -> str:
        return format_international(self.phone)

    @classmethod
    def of(cls, m: SmsMessage) -> MessageView:
        return cls(
            m.id,
            m.text,
            m.phone,
            m.contact_id,
            m.org_unit_id,
            m.sent_on,
            m.status,
            m.resent,
            m.original_id,
            m.segments,
            m.gateway_error,
            m.anonymised_at,
        )


@dataclass(frozen=True)
class HistoryEntry:
    at: datetime
    status: SmsStatus
    source: str
    detail: str | None


@dataclass(frozen=True)
class ReplyEntry:
    """An incoming SMS that answers the message."""

    id: int
    received_at: datetime
    sender: str  # E.164 when it is a number
    text: str
    keyword: str | None  # "opt-out" / "opt-in" when it acted as one

    @property
    def sender_display(self) -> str:
        return format_international(self.sender) if self.sender.startswith("+") else self.sender


@dataclass(frozen=True)
class MessageDetail:
    message: MessageView
    org_unit_name: str
    contact_name: str | None
    history: list[HistoryEntry]
    resend_id: int | None  # the message that resent this one, if any
    sent_by: str | None = None  # a user's name, or "API key Booking system"
    replies: list[ReplyEntry] = field(default_factory=list)  # oldest first


def visible_message(
    session: Session, actor: Actor, message_id: int, permission: Permission = Permission.VIEW_SMS
) -> SmsMessage:
    """Load a message the user may see; otherwise NotFound, whether it exists or not."""
    actor.require(permission)
    message = get_by_id(session, SmsMessage, message_id)
    if message is None or message.org_unit_id not in actor.org_unit_ids:
        raise NotFound(f"There is no SMS message with id {message_id} that you can see.")
    return message


def get_message(db: Database, actor: Actor, message_id: int) -> MessageView:
    with db.session() as session:
        return MessageView.of(visible_message(session, actor, message_id))


def get_message_detail(db: Database, actor: Actor, message_id: int) -> MessageDetail:
    with db.session() as session:
        message = visible_message(session, actor, message_id)
        events = session.scalars(
            select(StatusEvent).where(StatusEvent.message_id == message.id).order_by(StatusEvent.at, StatusEvent.id)
        )
        resend_id = session.scalar(select(SmsMessage.id).where(SmsMessage.original_id == message.id))
        contact = session.get(Contact, message.contact_id) if message.contact_id else None
        return MessageDetail(
            message=MessageView.of(message),
            org_unit_name=session.get(OrgUnit, message.org_unit_id).name,
            contact_name=contact.name if contact else None,
            history=[HistoryEntry(e.at, e.status, e.source, e.detail) for e in events],
            resend_id=resend_id,
            sent_by=_sent_by(session, message),
            replies=_replies(session, actor, message.id),
        )


def _sent_by(session: Session, message: SmsMessage) -> str | None:
    if message.sent_by_api_key_id is not None:
        key = session.get(ApiKey, message.sent_by_api_key_id)
        return f"API key {key.name}" if key else None
    user = session.get(User, message.sent_by_user_id) if message.sent_by_user_id else None
    return user.display_name if user else None


def _replies(session: Session, actor: Actor, message_id: int) -> list[ReplyEntry]:
    """The newest replies to the message, oldest first; only those of the user's units, as always."""
    rows = session.scalars(
        select(IncomingSms)
        .where(IncomingSms.message_id == message_id, IncomingSms.org_unit_id.in_(sorted(actor.org_unit_ids)))
        .order_by(IncomingSms.received_at.desc(), IncomingSms.id.desc())
        .limit(REPLIES_SHOWN)
    )
    return [ReplyEntry(r.id, r.received_at, r.sender, r.text, r.keyword) for r in reversed(rows.all())]
