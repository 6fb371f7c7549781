"""The stored data: typed SQLAlchemy models.  The schema itself is made by Alembic migrations."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import IntEnum
from typing import TypeVar

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

from sms_core.domain.statuses import SmsStatus

# SQLite only auto-increments INTEGER PRIMARY KEY; PostgreSQL gets BIGINT for the big tables.
BigId = BigInteger().with_variant(Integer(), "sqlite")
ID_LIMIT = 2**63  # ids are signed 64-bit integers on both databases
RowT = TypeVar("RowT")


def get_by_id(session: Session, model: type[RowT], row_id: int) -> RowT | None:
    """``session.get`` for an id that came from outside (a link, the command line): an id no id
    column can hold does not exist, and asking the database for it would fail, not find nothing."""
    return session.get(model, row_id) if 0 < row_id < ID_LIMIT else None


def utcnow() -> datetime:
    return datetime.now(UTC)


class UtcDateTime(TypeDecorator):
    """Stored as naive UTC on both databases, always returned timezone-aware (UTC)."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use timezone-aware UTC times")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if isinstance(value, str):  # raw SQLite text from a bulk insert
            value = datetime.fromisoformat(value)
        return value.replace(tzinfo=UTC)


class StatusType(TypeDecorator):
    impl = SmallInteger
    cache_ok = True

    def process_bind_param(self, value, dialect):
        return None if value is None else int(value)

    def process_result_value(self, value, dialect):
        return None if value is None else SmsStatus(value)


class DispatchState(IntEnum):
    """Where a message is on its way to the gateway (the worker's bookkeeping, not shown)."""

    NOT_SENT = 0  # refused by a pre-send check: never goes to the gateway
    QUEUED = 1  # recorded, waiting to be submitted
    SUBMITTING = 2  # the call to the gateway may have started: never submitted again by itself
    CLAIMED = 5  # a worker took it from the queue; no call yet, so safe to queue again after a crash
    SUBMITTED = 3  # the gateway answered; waiting for a delivery report
    SETTLED = 4  # final status reached, or status check timed out


class Base(DeclarativeBase):
    pass


class Role(Base):
    __tablename__ = "roles"
    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    label: Mapped[str] = mapped_column(String(80))


class RolePermission(Base):
    __tablename__ = "role_permissions"
    role: Mapped[str] = mapped_column(ForeignKey("roles.name", ondelete="CASCADE"), primary_key=True)
    permission: Mapped[str] = mapped_column(String(40), primary_key=True)


class OrgUnit(Base):
    __tablename__ = "org_units"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    representative_name: Mapped[str | None] = mapped_column(String(200))
    sms_sender: Mapped[str | None] = mapped_column(String(40))
    active: Mapped[bool] = mapped_column(Boolean, default=True)  # deactivated, never deleted: messages keep it


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(200), unique=True)
    role: Mapped[str] = mapped_column(ForeignKey("roles.name"))
    current_org_unit_id: Mapped[int | None] = mapped_column(ForeignKey("org_units.id"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    org_units: Mapped[list[OrgUnit]] = relationship(secondary="user_org_units", order_by="OrgUnit.name")


class UserOrgUnit(Base):
    __tablename__ = "user_org_units"
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    org_unit_id: Mapped[int] = mapped_column(ForeignKey("org_units.id", ondelete="CASCADE"), primary_key=True)


class Contact(Base):
    __tablename__ = "contacts"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), index=True)
    email: Mapped[str | None] = mapped_column(String(200))
    external_id: Mapped[str | None] = mapped_column(String(100), unique=True)  # what an import matches on
    phones: Mapped[list[ContactPhone]] = relationship(back_populates="contact", order_by="ContactPhone.id")


class ContactPhone(Base):
    __tablename__ = "contact_phones"
    __table_args__ = (UniqueConstraint("contact_id", "number"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"))
    number: Mapped[str] = mapped_column(String(20), index=True)  # E.164
    label: Mapped[str] = mapped_column(String(40), default="Mobile")
    contact: Mapped[Contact] = relationship(back_populates="phones")


class SmsConsent(Base):
    """One registration of consent for one contact and one number; withdrawal closes it."""

    __tablename__ = "sms_consents"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"))
    phone_id: Mapped[int] = mapped_column(ForeignKey("contact_phones.id", ondelete="CASCADE"), index=True)
    registered_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    registered_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    source: Mapped[str] = mapped_column(String(200))
    withdrawn_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    withdrawn_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    withdrawn_source: Mapped[str | None] = mapped_column(String(200))  # e.g. "SMS reply" (migration 0008)


class SmsMessage(Base):
    __tablename__ = "sms_messages"
    __table_args__ = (
        Index("ix_sms_messages_unit_sent", "org_unit_id", "sent_on", "id"),
        Index("ix_sms_messages_unit_status_sent", "org_unit_id", "status", "sent_on", "id"),
        Index("ix_sms_messages_contact_sent", "contact_id", "sent_on"),
        Index("ix_sms_messages_sent", "sent_on", "id"),
        Index("ix_sms_messages_dispatch", "dispatch_state", "submitted_at"),
        Index("ix_sms_messages_phone_sent", "phone", "sent_on"),  # the message a reply answers (0008)
        Index("ix_sms_messages_sender_sent", "sent_by_user_id", "sent_on", "id"),
    )
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    text: Mapped[str] = mapped_column(Text)
    phone: Mapped[str | None] = mapped_column(String(20))  # E.164; empty when none was entered
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id"))
    org_unit_id: Mapped[int] = mapped_column(ForeignKey("org_units.id"))
    sent_on: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    status: Mapped[SmsStatus] = mapped_column(StatusType, default=SmsStatus.UNKNOWN)
    resent: Mapped[bool] = mapped_column(Boolean, default=False)
    # Unique: a message can be resent once — the database, not the page, enforces it.
    original_id: Mapped[int | None] = mapped_column(ForeignKey("sms_messages.id"), unique=True)
    segments: Mapped[int] = mapped_column(SmallInteger, default=1)
    sent_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    standard_text_id: Mapped[int | None] = mapped_column(ForeignKey("standard_texts.id"))  # made from it
    sent_by_api_key_id: Mapped[int | None] = mapped_column(ForeignKey("api_keys.id"))  # storage/api_models.py
    reference: Mapped[str | None] = mapped_column(String(100))  # the API caller's own id for the message
    gateway: Mapped[str | None] = mapped_column(String(40))
    gateway_message_id: Mapped[str | None] = mapped_column(String(100), index=True)
    gateway_error: Mapped[str | None] = mapped_column(Text)
    idempotency_key: Mapped[str | None] = mapped_column(String(100), unique=True)
    dispatch_state: Mapped[int] = mapped_column(SmallInteger, default=DispatchState.NOT_SENT)
    submitted_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    dlr_token: Mapped[str | None] = mapped_column(String(64))  # per-message webhook secret
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)
    anonymised_at: Mapped[datetime | None] = mapped_column(UtcDateTime)  # retention removed text, number, contact


class StatusEvent(Base):
    __tablename__ = "sms_status_events"
    __table_args__ = (Index("ix_sms_status_events_message", "message_id", "id"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("sms_messages.id", ondelete="CASCADE"))
    status: Mapped[SmsStatus] = mapped_column(StatusType)
    at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    source: Mapped[str] = mapped_column(String(40))
    detail: Mapped[str | None] = mapped_column(Text)


class StandardText(Base):
    __tablename__ = "standard_texts"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    org_unit_id: Mapped[int | None] = mapped_column(ForeignKey("org_units.id"))  # None: all units
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)
    updated_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class Setting(Base):
    __tablename__ = "settings"
    key: Mapped[str] = mapped_column(String(80), primary_key=True)
    value: Mapped[str] = mapped_column(String(400))
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class SettingChange(Base):
    """The audit trail of settings: every write, also when two people write at once."""

    __tablename__ = "setting_changes"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    key: Mapped[str] = mapped_column(String(80), index=True)
    old_value: Mapped[str | None] = mapped_column(String(400))
    new_value: Mapped[str] = mapped_column(String(400))
    changed_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    changed_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class ChangeVersion(Base):
    """Bumped whenever a message of the unit is created or changes status."""

    __tablename__ = "sms_change_versions"
    org_unit_id: Mapped[int] = mapped_column(ForeignKey("org_units.id", ondelete="CASCADE"), primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger, default=0)
