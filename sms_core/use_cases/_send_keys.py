"""The idempotency keys of send_sms: scoped to whoever sent, so two senders' keys never collide."""

from __future__ import annotations

from sqlalchemy import select

from sms_core.domain.errors import InvalidInput
from sms_core.domain.permissions import Actor
from sms_core.read_models.message_detail import MessageView
from sms_core.storage.database import Database
from sms_core.storage.models import SmsMessage

MAX_KEY = 80  # an idempotency key as given; the column holds 100, with room for the scope in front


def scoped_key(actor: Actor, key: str | None) -> str | None:
    """The key as stored: scoped to the user (or API key) who sent, so another sender's key (in any
    unit) is simply a different key, never "already recorded"."""
    if key and len(key) > MAX_KEY:
        raise InvalidInput(f"The idempotency key can have at most {MAX_KEY} characters.", field="idempotency_key")
    scope = f"user:{actor.id}" if actor.api_key_id is None else f"api:{actor.api_key_id}"
    return f"{scope}:{key}" if key else None


def earlier_submission(db: Database, actor: Actor, key: str | None) -> MessageView | None:
    if not key:
        return None
    with db.session() as session:
        message = session.scalar(select(SmsMessage).where(SmsMessage.idempotency_key == key))
        if message is None or message.org_unit_id not in actor.org_unit_ids:
            return None
        return MessageView.of(message)
