"""The stored alerts: rules per org unit, the incidents they open, and the mail outbox.

Own module, so models.py stays readable.  The migrations' env.py imports it beside models.py,
so Alembic's metadata holds the whole schema; the services import it where they use it.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, SmallInteger, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from sms_core.storage.models import Base, BigId, UtcDateTime, utcnow

OPEN = text("resolved_at IS NULL")
UNSENT = text("sent_at IS NULL")


class AlertRuleRow(Base):
    """A unit's own setting of one rule; a rule without a row has its default (domain.alert_rules)."""

    __tablename__ = "alert_rules"
    __table_args__ = (UniqueConstraint("org_unit_id", "kind"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    org_unit_id: Mapped[int] = mapped_column(ForeignKey("org_units.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    minutes: Mapped[int] = mapped_column(Integer)
    percent: Mapped[int] = mapped_column(SmallInteger)
    min_messages: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class AlertIncident(Base):
    """One incident of one rule in one unit, from the evaluation that opened it to the one that
    resolved it.  At most one is open per rule and unit: the database holds that, so several
    workers evaluating at once cannot open two."""

    __tablename__ = "alert_incidents"
    __table_args__ = (
        Index(
            "uq_alert_incidents_open",
            "org_unit_id",
            "kind",
            unique=True,
            postgresql_where=OPEN,
            sqlite_where=OPEN,
        ),
        Index("ix_alert_incidents_unit_opened", "org_unit_id", "opened_at"),
    )
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    org_unit_id: Mapped[int] = mapped_column(ForeignKey("org_units.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20))
    opened_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)  # the last evaluation that saw it
    resolved_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    since: Mapped[datetime] = mapped_column(UtcDateTime)  # the first message it is about: the link's start
    messages: Mapped[int] = mapped_column(Integer, default=0)
    affected: Mapped[int] = mapped_column(Integer, default=0)
    peak_affected: Mapped[int] = mapped_column(Integer, default=0)
    calm_evaluations: Mapped[int] = mapped_column(Integer, default=0)  # in a row, without the rule holding
    summary: Mapped[str] = mapped_column(String(500))


class MailOutbox(Base):
    """A mail to send: written in the transaction that opened or resolved the incident, sent by
    the worker's alert loop and marked sent in the transaction that claimed it."""

    __tablename__ = "mail_outbox"
    __table_args__ = (Index("ix_mail_outbox_due", "next_attempt_at", postgresql_where=UNSENT, sqlite_where=UNSENT),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    incident_id: Mapped[int | None] = mapped_column(ForeignKey("alert_incidents.id", ondelete="SET NULL"))
    recipient: Mapped[str] = mapped_column(String(200))
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    next_attempt_at: Mapped[datetime] = mapped_column(UtcDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    last_error: Mapped[str | None] = mapped_column(String(500))
