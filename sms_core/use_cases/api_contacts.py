"""Contacts and consent by the caller's own ids: the HTTP API's PUT /contacts/{external_id}.

A PUT states the whole contact: its name, e-mail and numbers.  A number no longer listed is
removed with its consent; a number kept keeps its consent.  Consent is then registered or
withdrawn per number, always with where it came from.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from sms_core.domain.errors import InvalidInput, NotFound
from sms_core.domain.permissions import Actor, Permission
from sms_core.domain.phones import InvalidPhoneNumber, parse_phone
from sms_core.storage.database import Database
from sms_core.storage.models import Contact, ContactPhone, SmsConsent
from sms_core.use_cases.consent import register_consent, withdraw_consent

MAX_NUMBERS = 20


@dataclass(frozen=True)
class ContactNumber:
    number: str  # E.164
    label: str
    consent: bool


@dataclass(frozen=True)
class ContactState:
    id: int
    external_id: str
    name: str
    email: str | None
    numbers: list[ContactNumber]


def check_external_id(external_id: str) -> str:
    if not external_id or len(external_id) > 100 or not external_id.isprintable():
        raise InvalidInput("The contact's external id must be 1 to 100 printable characters.", field="external_id")
    return external_id


def put_contact(
    db: Database,
    actor: Actor,
    external_id: str,
    *,
    name: str,
    email: str | None,
    numbers: list[tuple[str, str]],
    region: str,
) -> tuple[ContactState, bool]:
    """Create or update the contact; (its state, whether it was created)."""
    actor.require(Permission.SEND_SMS)
    check_external_id(external_id)
    name = " ".join(name.split())
    if not name:
        raise InvalidInput("The contact needs a name.", field="name")
    if len(numbers) > MAX_NUMBERS:
        raise InvalidInput(f"A contact can have at most {MAX_NUMBERS} numbers.", field="numbers")
    wanted: dict[str, str] = {}
    for index, (typed, label) in enumerate(numbers):
        try:
            wanted[parse_phone(typed, region).e164] = (label or "Mobile").strip()[:40] or "Mobile"
        except InvalidPhoneNumber as exc:
            raise InvalidInput(exc.message, field=f"numbers[{index}].number") from None
    with db.session() as session:
        contact = session.scalar(select(Contact).where(Contact.external_id == external_id))
        created = contact is None
        if created:
            contact = Contact(external_id=external_id, name=name[:200])
            session.add(contact)
            session.flush()
        contact.name, contact.email = name[:200], (email or "").strip()[:200] or None
        for phone in list(contact.phones):
            if phone.number not in wanted:
                session.delete(phone)
            else:
                phone.label = wanted.pop(phone.number)
        for number, label in wanted.items():
            session.add(ContactPhone(contact_id=contact.id, number=number, label=label))
        session.flush()
        session.expire(contact, ["phones"])
        return _state(session, contact), created


def set_consent(
    db: Database, actor: Actor, external_id: str, *, number: str, consent: bool, source: str, region: str
) -> ContactState:
    """Register or withdraw consent for one of the contact's numbers, with its source."""
    actor.require(Permission.SEND_SMS)
    if not source or not source.strip():
        raise InvalidInput("Say where the consent (or its withdrawal) comes from, as source.", field="source")
    try:
        e164 = parse_phone(number, region).e164
    except InvalidPhoneNumber as exc:
        raise InvalidInput(exc.message, field="number") from None
    with db.session() as session:
        contact = _by_external_id(session, external_id)
        phone = next((p for p in contact.phones if p.number == e164), None)
        if phone is None:
            raise InvalidInput("This number is not one of the contact's numbers; PUT the contact first.", "number")
        phone_id = phone.id
    if consent:
        register_consent(db, actor, phone_id, source)
    else:
        withdraw_consent(db, actor, phone_id, source)
    with db.session() as session:
        return _state(session, _by_external_id(session, external_id))


def _by_external_id(session, external_id: str) -> Contact:
    contact = session.scalar(select(Contact).where(Contact.external_id == check_external_id(external_id)))
    if contact is None:
        raise NotFound(f"There is no contact with the external id {external_id!r}.")
    return contact


def contact_id_by_external_id(db: Database, actor: Actor, external_id: str) -> int:
    actor.require(Permission.SEND_SMS)
    with db.session() as session:
        return _by_external_id(session, external_id).id


def _state(session, contact: Contact) -> ContactState:
    active = set(
        session.scalars(
            select(SmsConsent.phone_id).where(SmsConsent.contact_id == contact.id, SmsConsent.withdrawn_at.is_(None))
        )
    )
    numbers = [ContactNumber(p.number, p.label, p.id in active) for p in contact.phones]
    return ContactState(contact.id, contact.external_id, contact.name, contact.email, numbers)
