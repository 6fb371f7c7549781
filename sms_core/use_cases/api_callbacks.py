"""Status callbacks: the outbox rows written when a key's message changes status, and the worker's
bookkeeping of delivering them.

The row is written in the transaction that changes the status (``transition``, and the first
status when a message is recorded), so a status change and its callback commit together or not
at all.  The worker delivers them (``sms_core.delivery.callbacks``): per message strictly in
order — a message's next event waits until the one before it is delivered or given up — retried
with exponential backoff for up to 24 hours.  A claim is a lease (``next_attempt_at`` moved on
before the call), so a worker killed mid-delivery leaves the event to be sent again: at least
once, and the event id lets the receiver drop the repeat.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, exists, func, select
from sqlalchemy.orm import Session, aliased

from sms_core.domain.errors import NotFound
from sms_core.domain.permissions import Actor, Permission
from sms_core.read_models.api_messages import message_summary
from sms_core.storage.api_models import ApiCallback, ApiKey
from sms_core.storage.database import Database
from sms_core.storage.models import SmsMessage, utcnow

RETRY_FOR = timedelta(hours=24)
FIRST_RETRY = 5.0  # seconds; doubled after each failure …
LONGEST_WAIT = 3600.0  # … up to an hour between attempts
LEASE = 60.0  # seconds a claimed callback is left to its worker before another may send it


def enqueue_status_callback(session: Session, message: SmsMessage) -> None:
    """An outbox row for the message's current status, if a key with a callback URL sent it."""
    if message.sent_by_api_key_id is None:
        return
    key = session.get(ApiKey, message.sent_by_api_key_id)
    if key is None or not key.callback_url:
        return
    now = utcnow()
    payload = {"type": "sms.status", "occurred_at": now.isoformat(), "message": message_summary(message)}
    session.add(
        ApiCallback(
            api_key_id=key.id,
            message_id=message.id,
            payload=json.dumps(payload, ensure_ascii=False),
            created_at=now,
            next_attempt_at=now,
        )
    )


@dataclass(frozen=True)
class DueCallback:
    id: int
    url: str
    secret: str
    body: bytes  # the JSON sent, with the event id


def claim_due_callbacks(db: Database, limit: int = 100, lease: float = LEASE) -> list[DueCallback]:
    """The callbacks to send now — each message's oldest open event only — leased to this worker."""
    now = utcnow()
    earlier = aliased(ApiCallback)
    open_before = exists().where(
        earlier.message_id == ApiCallback.message_id,
        earlier.id < ApiCallback.id,
        earlier.delivered_at.is_(None),
        earlier.gave_up_at.is_(None),
    )
    query = (
        select(ApiCallback, ApiKey)
        .join(ApiKey, ApiKey.id == ApiCallback.api_key_id)
        .where(
            ApiCallback.delivered_at.is_(None),
            ApiCallback.gave_up_at.is_(None),
            ApiCallback.next_attempt_at <= now,
            ~open_before,
        )
        .order_by(ApiCallback.id)
        .limit(limit)
        .with_for_update(skip_locked=True, of=ApiCallback)
    )
    due = []
    with db.session() as session:
        for callback, key in session.execute(query):
            if key.revoked_at is not None or not key.callback_url:
                callback.gave_up_at, callback.last_error = now, "The API key was revoked or has no callback URL."
                continue
            callback.next_attempt_at = now + timedelta(seconds=lease)
            body = json.dumps({"event_id": callback.id, **json.loads(callback.payload)}, ensure_ascii=False)
            due.append(DueCallback(callback.id, key.callback_url, key.callback_secret, body.encode()))
    return due


def backoff(attempts: int) -> float:
    """Seconds until the next attempt after ``attempts`` failed ones."""
    return min(LONGEST_WAIT, FIRST_RETRY * 2 ** max(0, attempts - 1))


def record_callback_attempt(db: Database, callback_id: int, error: str | None) -> None:
    """What the receiver answered: None is a 2xx; otherwise retry later, or give up after 24 h."""
    now = utcnow()
    with db.session() as session:
        callback = session.get(ApiCallback, callback_id, with_for_update=True)
        if callback is None or callback.delivered_at is not None:
            return
        callback.attempts += 1
        callback.last_attempt_at = now
        if error is None:
            callback.delivered_at, callback.last_error = now, None
            return
        callback.last_error = error[:500]
        retry_at = now + timedelta(seconds=backoff(callback.attempts))
        if retry_at - callback.created_at > RETRY_FOR:
            callback.gave_up_at = now
        else:
            callback.next_attempt_at = retry_at


@dataclass(frozen=True)
class CallbackLogEntry:
    id: int
    message_id: int
    key_name: str
    status: str  # what the payload reported
    created_at: datetime
    attempts: int
    state: str  # Delivered, Waiting, Gave up
    next_attempt_at: datetime | None
    last_error: str | None


def callback_log(db: Database, actor: Actor, api_key_id: int | None = None, limit: int = 200) -> list[CallbackLogEntry]:
    """The newest callbacks of the keys of the administrator's units, with their last error."""
    actor.require(Permission.MANAGE_USERS)
    query = (
        select(ApiCallback, ApiKey.name)
        .join(ApiKey, ApiKey.id == ApiCallback.api_key_id)
        .where(ApiKey.org_unit_id.in_(sorted(actor.org_unit_ids)))
        .order_by(ApiCallback.id.desc())
        .limit(limit)
    )
    if api_key_id is not None:
        query = query.where(ApiKey.id == api_key_id)
    with db.session() as session:
        rows = session.execute(query).all()
        if api_key_id is not None and not rows and not _key_visible(session, actor, api_key_id):
            raise NotFound("There is no API key with that id that you can see.")
        return [_log_entry(callback, name) for callback, name in rows]


def _key_visible(session: Session, actor: Actor, api_key_id: int) -> bool:
    key = session.get(ApiKey, api_key_id)
    return key is not None and key.org_unit_id in actor.org_unit_ids


def _log_entry(callback: ApiCallback, key_name: str) -> CallbackLogEntry:
    if callback.delivered_at is not None:
        state, next_at = "Delivered", None
    elif callback.gave_up_at is not None:
        state, next_at = "Gave up", None
    else:
        state, next_at = "Waiting", callback.next_attempt_at
    status = json.loads(callback.payload)["message"]["status_label"]
    return CallbackLogEntry(
        callback.id,
        callback.message_id,
        key_name,
        status,
        callback.created_at,
        callback.attempts,
        state,
        next_at,
        callback.last_error,
    )


def pending_callbacks(db: Database) -> int:
    """Callbacks not yet delivered nor given up (for tests and the bench)."""
    with db.session() as session:
        return session.scalar(
            select(func.count()).where(and_(ApiCallback.delivered_at.is_(None), ApiCallback.gave_up_at.is_(None)))
        )
