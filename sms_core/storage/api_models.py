"""The HTTP API's tables: API keys, the Idempotency-Key answers, and the status callbacks' outbox.

Kept apart from models.py so each stays readable whole; sms_core.storage imports both, so the
metadata is always complete (sms_messages.sent_by_api_key_id refers to api_keys).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, SmallInteger, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from sms_core.storage.models import Base, BigId, UtcDateTime, utcnow


class ApiKey(Base):
    """A key acts as a sender of one org unit.  Only the SHA-256 of its secret is kept; the prefix
    (shown in lists) finds the row, so checking a key is one indexed read and one constant-time
    comparison.  The callback secret signs status callbacks, so it must be kept as it is."""

    __tablename__ = "api_keys"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    org_unit_id: Mapped[int] = mapped_column(ForeignKey("org_units.id"))
    prefix: Mapped[str] = mapped_column(String(20), unique=True)
    secret_hash: Mapped[str] = mapped_column(String(64))
    callback_url: Mapped[str | None] = mapped_column(String(500))
    callback_secret: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    created_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    last_used_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    revoked_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class ApiIdempotency(Base):
    """One Idempotency-Key of one API key: the unique pair makes concurrent repeats wait for the
    first request's answer instead of creating a second message."""

    __tablename__ = "api_idempotency_keys"
    __table_args__ = (UniqueConstraint("api_key_id", "idempotency_key"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    api_key_id: Mapped[int] = mapped_column(ForeignKey("api_keys.id", ondelete="CASCADE"))
    idempotency_key: Mapped[str] = mapped_column(String(100))
    request_hash: Mapped[str] = mapped_column(String(64))  # SHA-256 of method, path and body
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, index=True)
    message_id: Mapped[int | None] = mapped_column(ForeignKey("sms_messages.id", ondelete="SET NULL"))
    status_code: Mapped[int | None] = mapped_column(SmallInteger)  # None: the first request is still running
    response_body: Mapped[str | None] = mapped_column(Text)


class ApiCallback(Base):
    """The outbox of status callbacks: one row per status change of a message sent by a key with a
    callback URL, written in the transaction that changes the status, so none is lost; its id is
    the event id the receiver de-duplicates by."""

    __tablename__ = "api_callbacks"
    __table_args__ = (
        Index("ix_api_callbacks_due", "delivered_at", "next_attempt_at"),
        Index("ix_api_callbacks_message", "message_id", "id"),
        Index("ix_api_callbacks_key", "api_key_id", "id"),
    )
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    api_key_id: Mapped[int] = mapped_column(ForeignKey("api_keys.id", ondelete="CASCADE"))
    message_id: Mapped[int] = mapped_column(ForeignKey("sms_messages.id", ondelete="CASCADE"))
    payload: Mapped[str] = mapped_column(Text)  # the JSON body, as it was when the status changed
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    next_attempt_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    delivered_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    gave_up_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    last_error: Mapped[str | None] = mapped_column(String(500))
    last_attempt_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
