"""Retention's own tables (migration 0011): how far it got, and what each run did.

Kept apart from ``models`` so that the messages' model file stays about the messages.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from sms_core.storage.models import Base, BigId, UtcDateTime


class RetentionProgress(Base):
    """Everything of ``target`` up to (position_at, position_id) is anonymised.  Moved in the
    same transaction as each batch, so a crash loses no more than the batch it interrupted."""

    __tablename__ = "retention_progress"
    target: Mapped[str] = mapped_column(String(40), primary_key=True)
    position_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    position_id: Mapped[int] = mapped_column(BigInteger, default=0)


class RetentionRun(Base):
    """One run of retention over one kind of data: the audit trail of what was removed."""

    __tablename__ = "retention_runs"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    target: Mapped[str] = mapped_column(String(40))
    days: Mapped[int] = mapped_column(Integer)
    cutoff: Mapped[datetime] = mapped_column(UtcDateTime)  # older than this was anonymised
    started_at: Mapped[datetime] = mapped_column(UtcDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime)  # None: interrupted, or still running
    rows: Mapped[int] = mapped_column(BigInteger, default=0)
    oldest: Mapped[datetime | None] = mapped_column(UtcDateTime)  # the oldest row anonymised
