"""Incoming SMS (replies): what a recipient sent back, linked to the message it answers.

A module of its own so models.py stays readable whole; ``sms_core.storage.models`` imports it at
its end, so whoever loads the models (Alembic, the tests, ``Database``) has these tables too.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from sms_core.storage.models import Base, BigId, UtcDateTime, utcnow

OPT_OUT, OPT_IN = "opt-out", "opt-in"  # what a keyword reply did (IncomingSms.keyword)


class IncomingSms(Base):
    """One incoming SMS, stored once however often the gateway retries it (``dedupe_key``).

    It belongs to the org unit of the message it answers (or the default unit of the settings),
    so the same visibility rules hold for replies as for messages; None: no unit could be found,
    and it is kept, but shown to no one.
    """

    __tablename__ = "sms_incoming"
    __table_args__ = (
        Index("ix_sms_incoming_unit_received", "org_unit_id", "received_at", "id"),
        Index("ix_sms_incoming_message", "message_id", "id"),
        Index("ix_sms_incoming_received", "received_at", "id"),
    )
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    sender: Mapped[str] = mapped_column(String(40))  # E.164 when it is a phone number
    receiver: Mapped[str | None] = mapped_column(String(40))  # our number or sender, when the gateway says
    text: Mapped[str] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    org_unit_id: Mapped[int | None] = mapped_column(Integer, ForeignKey("org_units.id"))
    message_id: Mapped[int | None] = mapped_column(ForeignKey("sms_messages.id", ondelete="SET NULL"))
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id", ondelete="SET NULL"))
    keyword: Mapped[str | None] = mapped_column(String(20))  # OPT_OUT / OPT_IN when it acted as one
    gateway: Mapped[str] = mapped_column(String(40))
    dedupe_key: Mapped[str] = mapped_column(String(64), unique=True)  # sha-256 of what identifies it
