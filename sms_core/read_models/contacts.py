"""Contacts as the pages see them: find them by name or number, and show one with its numbers
and the SMS consent state of each (registered when, by whom, from what source; withdrawn when).

Registering and withdrawing consent are ``sms_core.use_cases.consent``'s; this module only reads.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, and_, false, func, select
from sqlalchemy.orm import Session, selectinload

from sms_core.domain.errors import NotFound
from sms_core.domain.permissions import Actor, Permission
from sms_core.domain.phones import (
    DEFAULT_REGION,
    InvalidPhoneNumber,
    digits_only,
    format_international,
    parse_phone,
)
from sms_core.storage.database import Database
from sms_core.storage.models import Contact, ContactPhone, SmsConsent, User, get_by_id

SEARCH_LIMIT = 50


@dataclass(frozen=True)
class ConsentState:
    """The latest consent registration of one number (all None: never registered)."""

    registered_at: datetime | None = None
    registered_by: str | None = None
    source: str | None = None
    withdrawn_at: datetime | None = None
    withdrawn_by: str | None = None
    withdrawn_source: str | None = None  # "SMS reply" when the contact answered STOP

    @property
    def active(self) -> bool:
        return self.registered_at is not None and self.withdrawn_at is None

    @property
    def label(self) -> str:
        if self.active:
            return "Registered"
        return "Withdrawn" if self.withdrawn_at else "Not registered"


@dataclass(frozen=True)
class PhoneView:
    id: int
    number: str  # E.164
    label: str  # Mobile, Work, Home …
    consent: ConsentState

    @property
    def international(self) -> str:
        return format_international(self.number)

    @property
    def display(self) -> str:
        """How the number is offered in the Send SMS dialog: '+47 912 34 567 (Mobile)'."""
        return f"{self.international} ({self.label})"


@dataclass(frozen=True)
class ContactView:
    id: int
    name: str
    email: str | None
    phones: tuple[PhoneView, ...]
    external_id: str | None = None  # the organisation's own id, which an import matches on


@dataclass(frozen=True)
class ContactHit:
    """One search result: enough to recognise the contact and open it."""

    id: int
    name: str
    numbers: tuple[str, ...]  # international format


def search_contacts(
    db: Database, actor: Actor, query: str, limit: int = SEARCH_LIMIT, region: str = DEFAULT_REGION
) -> list[ContactHit]:
    """Contacts whose name contains every word of ``query``, or whose number contains its digits
    (a whole number without its country code is read in ``region``)."""
    actor.require(Permission.VIEW_SMS)
    with db.session() as session:
        contacts = session.scalars(_search_statement(query, _folded_name(session), region).limit(limit)).all()
        return [ContactHit(c.id, c.name, tuple(format_international(p.number) for p in c.phones)) for c in contacts]


def get_contact(db: Database, actor: Actor, contact_id: int) -> ContactView:
    """One contact with every number and that number's consent state."""
    actor.require(Permission.VIEW_SMS)
    with db.session() as session:
        contact = get_by_id(session, Contact, contact_id)
        if contact is None:
            raise NotFound("That contact does not exist.")
        consents = _latest_consents(session, [p.id for p in contact.phones])
        phones = tuple(PhoneView(p.id, p.number, p.label, consents.get(p.id, ConsentState())) for p in contact.phones)
        return ContactView(contact.id, contact.name, contact.email, phones, contact.external_id)


def contact_name(db: Database, actor: Actor, contact_id: int) -> str:
    actor.require(Permission.VIEW_SMS)
    with db.session() as session:
        contact = get_by_id(session, Contact, contact_id)
        if contact is None:
            raise NotFound("That contact does not exist.")
        return contact.name


def _folded_name(session: Session):
    """The contact name in lower case, also for Æ, Ø and Å.

    PostgreSQL's lower() follows the database's Unicode locale; SQLite's only knows ASCII, so on
    SQLite the connection gets Python's ``str.casefold`` as a function for this query.
    """
    if session.get_bind().dialect.name != "sqlite":
        return func.lower(Contact.name)
    session.connection().connection.driver_connection.create_function("casefold", 1, _casefold, deterministic=True)
    return func.casefold(Contact.name)


def _casefold(value: str | None) -> str | None:
    return value.casefold() if value is not None else None


def _search_statement(query: str, folded_name, region: str) -> Select:
    """Name words match anywhere in the name (case-insensitive); digits match the stored number."""
    statement = select(Contact).options(selectinload(Contact.phones)).order_by(Contact.name, Contact.id)
    query = query.strip()
    if not query:
        return statement
    if "\x00" in query:  # no stored name or number holds a NUL (PostgreSQL cannot even be asked for one)
        return statement.where(false())
    number = _number_pattern(query, region)
    if number is not None:
        has_number = select(ContactPhone.id).where(
            ContactPhone.contact_id == Contact.id, ContactPhone.number.like(number)
        )
        return statement.where(has_number.exists())
    words = [w for w in query.split() if w]
    return statement.where(and_(*(folded_name.contains(w.casefold(), autoescape=True) for w in words)))


def _number_pattern(query: str, region: str) -> str | None:
    """A LIKE pattern for a query that looks like a (part of a) phone number, else None."""
    if any(ch.isalpha() for ch in query):
        return None
    digits = digits_only(query)
    if len(digits) < 3:
        return None
    try:
        return parse_phone(query, region).e164  # a whole number: match it exactly, whatever the notation
    except InvalidPhoneNumber:
        return f"%{digits.removeprefix('00')}%"


def _latest_consents(session: Session, phone_ids: list[int]) -> dict[int, ConsentState]:
    """Per number, its active consent if it has one, else its latest registration."""
    if not phone_ids:
        return {}
    rows = session.scalars(
        select(SmsConsent)
        .where(SmsConsent.phone_id.in_(phone_ids))
        .order_by(SmsConsent.withdrawn_at.is_(None), SmsConsent.registered_at, SmsConsent.id)
    ).all()
    user_ids = {u for r in rows for u in (r.registered_by_user_id, r.withdrawn_by_user_id) if u}
    names = (
        dict(session.execute(select(User.id, User.display_name).where(User.id.in_(user_ids))).all()) if user_ids else {}
    )
    latest: dict[int, ConsentState] = {}
    for r in rows:  # ordered so that the one that counts comes last
        latest[r.phone_id] = ConsentState(
            r.registered_at,
            names.get(r.registered_by_user_id),
            r.source,
            r.withdrawn_at,
            names.get(r.withdrawn_by_user_id),
            r.withdrawn_source,
        )
    return latest
