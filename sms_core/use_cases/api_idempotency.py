"""Idempotency-Key for the HTTP API: a repeat within 24 hours gets the first answer, the same key
with another body is refused, and concurrent repeats create one message.

The first request claims the key in a committed row of its own (unique per API key and
Idempotency-Key), so every concurrent repeat meets that constraint and waits for the first one's
answer instead of sending.  The message itself is recorded under an idempotency key derived from
the claim, so even a request that takes over a claim left by a crashed process finds the message
the crashed one may have recorded, rather than sending a second.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from datetime import timedelta

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from sms_core.domain.errors import Conflict, InvalidInput
from sms_core.domain.permissions import Actor
from sms_core.storage.api_models import ApiIdempotency
from sms_core.storage.database import Database
from sms_core.storage.models import SmsMessage, utcnow

KEEP_FOR = timedelta(hours=24)
TAKE_OVER_AFTER = timedelta(seconds=30)  # a claim this old without an answer was left by a crash
WAIT_FOR_FIRST = 15.0  # seconds a repeat waits for the first request's answer
MAX_LENGTH = 80
FIELD = "Idempotency-Key"

# (HTTP status, JSON body, message id) of the request, made with the idempotency key to record under
Answer = tuple[int, str, int | None]


def request_hash(method: str, path: str, body: bytes) -> str:
    return hashlib.sha256(method.encode() + b" " + path.encode() + b"\n" + body).hexdigest()


def check_key(key: str) -> str:
    if not key or len(key) > MAX_LENGTH or not key.isascii() or not key.isprintable():
        raise InvalidInput(
            f"The Idempotency-Key header must be 1 to {MAX_LENGTH} printable ASCII characters, for example a UUID.",
            field=FIELD,
        )
    return key


def once(db: Database, actor: Actor, key: str, fingerprint: str, make: Callable[[str], Answer]) -> tuple[Answer, bool]:
    """(the answer, whether it is a replay): ``make`` runs at most once per key and body."""
    check_key(key)
    deadline = time.monotonic() + WAIT_FOR_FIRST
    while True:
        claim_id, answer = _claim_or_answer(db, actor.api_key_id, key, fingerprint)
        if answer is not None:
            return answer, True
        if claim_id is not None:
            break
        if time.monotonic() > deadline:
            raise Conflict("A request with this Idempotency-Key is still being processed; repeat it in a moment.")
        time.sleep(0.02)
    try:
        answer = make(f"idem:{claim_id}")
    except BaseException:
        _release(db, actor, claim_id)
        raise
    with db.session() as session:
        row = session.get(ApiIdempotency, claim_id)
        if row is not None:
            row.status_code, row.response_body, row.message_id = answer
    return answer, False


def _release(db: Database, actor: Actor, claim_id: int) -> None:
    """After a refusal nothing was recorded, and the key may be used again.  If the message was
    recorded and only the answer failed, the claim stays: a repeat takes it over and is answered
    with that message (send_sms finds it by the key derived from the claim)."""
    recorded = f"api:{actor.api_key_id}:idem:{claim_id}"  # _send_keys.scoped_key's form
    with db.session() as session:
        if session.scalar(select(SmsMessage.id).where(SmsMessage.idempotency_key == recorded)) is None:
            session.execute(delete(ApiIdempotency).where(ApiIdempotency.id == claim_id))


def _claim_or_answer(db: Database, api_key_id: int, key: str, fingerprint: str) -> tuple[int | None, Answer | None]:
    """(our claim's id, None) when this request is first; (None, answer) for a repeat that has
    its answer; (None, None) while the first request is still running."""
    now = utcnow()
    with db.session() as session:
        row = session.scalar(
            select(ApiIdempotency).where(ApiIdempotency.api_key_id == api_key_id, ApiIdempotency.idempotency_key == key)
        )
        if row is not None and now - row.created_at > KEEP_FOR:
            session.delete(row)
            session.flush()
            row = None
        if row is not None:
            if row.request_hash != fingerprint:
                raise InvalidInput(
                    "This Idempotency-Key was used with a different request body in the last 24 hours; "
                    "use a new key for a new request.",
                    field=FIELD,
                )
            if row.status_code is not None:
                return None, (row.status_code, row.response_body, row.message_id)
            if now - row.created_at > TAKE_OVER_AFTER:
                row.created_at = now
                return row.id, None
            return None, None
    try:
        with db.session() as session:
            row = ApiIdempotency(api_key_id=api_key_id, idempotency_key=key, request_hash=fingerprint, created_at=now)
            session.add(row)
            session.flush()
            return row.id, None
    except IntegrityError:  # a concurrent repeat claimed it first
        return None, None


def forget_old_keys(db: Database, limit: int = 1000) -> int:
    """Keys older than 24 hours may be used again; the worker drops their rows."""
    cutoff = utcnow() - KEEP_FOR
    with db.session() as session:
        old = select(ApiIdempotency.id).where(ApiIdempotency.created_at < cutoff).limit(limit).scalar_subquery()
        return session.execute(delete(ApiIdempotency).where(ApiIdempotency.id.in_(old))).rowcount
