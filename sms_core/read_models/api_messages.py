"""Messages as the HTTP API shows them: one with its history, and lists paged by a cursor.

The list is keyset-paged on (sent on, id), newest first — the unit's (org unit, sent on, id) index
hands each page over without counting or skipping rows, however deep the caller pages.  Only the
key's own unit is ever read; another unit's message looks exactly like one that does not exist.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, or_, select

from sms_core.domain.errors import InvalidInput
from sms_core.domain.permissions import Actor, Permission
from sms_core.domain.phones import InvalidPhoneNumber, parse_phone
from sms_core.domain.statuses import SmsStatus
from sms_core.read_models.message_detail import visible_message
from sms_core.storage.database import Database
from sms_core.storage.models import SmsMessage, StatusEvent

MAX_PAGE = 200


def status_code(status: SmsStatus) -> str:
    """The status as the API names it: ``consent_not_registered`` for "Consent is not registered"."""
    return status.name.lower()


STATUS_CODES = {status_code(s): s for s in SmsStatus}


def message_summary(message: SmsMessage) -> dict:
    """The message as answers and callbacks show it."""
    return {
        "id": message.id,
        "status": status_code(message.status),
        "status_label": message.status.label,
        "explanation": message.status.explanation,
        "to": message.phone,
        "reference": message.reference,
        "segments": message.segments,
        "resent": message.resent,
        "original_id": message.original_id,
        "sent_on": message.sent_on.isoformat(),
        "gateway_error": message.gateway_error,
    }


def message_with_history(db: Database, actor: Actor, message_id: int) -> dict:
    with db.session() as session:
        message = visible_message(session, actor, message_id)
        events = session.scalars(
            select(StatusEvent).where(StatusEvent.message_id == message.id).order_by(StatusEvent.at, StatusEvent.id)
        )
        resend_id = session.scalar(select(SmsMessage.id).where(SmsMessage.original_id == message.id))
        return {
            **message_summary(message),
            "text": message.text,
            "next_step": message.status.next_step,
            "resend_id": resend_id,
            "history": [
                {"at": e.at.isoformat(), "status": status_code(e.status), "source": e.source, "detail": e.detail}
                for e in events
            ],
        }


@dataclass(frozen=True)
class ApiFilter:
    status: SmsStatus | None = None
    phone: str | None = None  # E.164
    reference: str | None = None
    sent_from: datetime | None = None  # included
    sent_to: datetime | None = None  # excluded


def api_filter(
    status: str | None, phone: str | None, reference: str | None, sent_from, sent_to, region: str
) -> ApiFilter:
    """The list's query parameters as a filter, each refusal naming its parameter."""
    wanted = None
    if status:
        wanted = STATUS_CODES.get(status.strip().lower())
        if wanted is None:
            raise InvalidInput(f"status must be one of: {', '.join(STATUS_CODES)}.", field="status")
    number = None
    if phone:
        try:
            number = parse_phone(phone, region).e164
        except InvalidPhoneNumber as exc:
            raise InvalidInput(exc.message, field="phone") from None
    if sent_from and sent_to and sent_to <= sent_from:
        raise InvalidInput("sent_to must be later than sent_from.", field="sent_to")
    return ApiFilter(wanted, number, reference or None, sent_from, sent_to)


def encode_cursor(sent_on: datetime, message_id: int) -> str:
    return base64.urlsafe_b64encode(f"{sent_on.isoformat()}|{message_id}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, int]:
    try:
        sent_on, _, message_id = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode().partition("|")
        return datetime.fromisoformat(sent_on), int(message_id)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise InvalidInput("cursor is not one this API handed out; use next_cursor as given.", "cursor") from None


def list_api_messages(
    db: Database, actor: Actor, f: ApiFilter, cursor: str | None = None, limit: int = 50
) -> tuple[list[dict], str | None]:
    """One page, newest first, and the cursor of the next (None on the last page)."""
    actor.require(Permission.VIEW_SMS)
    if not 1 <= limit <= MAX_PAGE:
        raise InvalidInput(f"limit must be between 1 and {MAX_PAGE}.", field="limit")
    where = [SmsMessage.org_unit_id.in_(sorted(actor.org_unit_ids))]
    if f.status is not None:
        where.append(SmsMessage.status == f.status)
    if f.phone:
        where.append(SmsMessage.phone == f.phone)
    if f.reference:
        where.append(SmsMessage.reference == f.reference)
    if f.sent_from:
        where.append(SmsMessage.sent_on >= f.sent_from)
    if f.sent_to:
        where.append(SmsMessage.sent_on < f.sent_to)
    if cursor:
        sent_on, last_id = decode_cursor(cursor)
        where.append(or_(SmsMessage.sent_on < sent_on, and_(SmsMessage.sent_on == sent_on, SmsMessage.id < last_id)))
    query = select(SmsMessage).where(*where).order_by(SmsMessage.sent_on.desc(), SmsMessage.id.desc())
    with db.session() as session:
        rows = session.scalars(query.limit(limit + 1)).all()
        page = [message_summary(m) for m in rows[:limit]]
        following = encode_cursor(rows[limit - 1].sent_on, rows[limit - 1].id) if len(rows) > limit else None
        return page, following
