"""The audit trail of administration: who changed which user, org unit or contact, when, and
what it was before and after.  One table for all three, so the page reads one list in time order.

Settings keep their own trail (``SettingChange``), which predates this one.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from sms_core.storage.models import Base, BigId, UtcDateTime, utcnow


class AuditEvent(Base):
    __tablename__ = "audit_events"
    __table_args__ = (
        Index("ix_audit_events_entity", "entity", "entity_id", "id"),
        Index("ix_audit_events_at", "at", "id"),
    )
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    # None: the command line (``actor_name`` "CLI"), which is how the first administrator is made.
    actor_user_id: Mapped[int | None] = mapped_column(Integer, ForeignKey("users.id"))
    actor_name: Mapped[str] = mapped_column(String(200))
    entity: Mapped[str] = mapped_column(String(20))  # "user", "org_unit", "contact"
    entity_id: Mapped[int] = mapped_column(BigId)
    action: Mapped[str] = mapped_column(String(40))  # "added", "changed", "deactivated", …
    before: Mapped[str | None] = mapped_column(Text)  # JSON of the fields that changed; None when added
    after: Mapped[str | None] = mapped_column(Text)
