"""Adding and editing contacts and their numbers by hand, with the consent each number was given.

Contacts are organisation-wide: anyone who may view SMS finds them, while their messages stay
visible per org unit.  Changing them takes "manage users, org units and contacts".  Numbers are
checked as the Send SMS dialog checks them (``sms_core.domain.phones``) and stored in E.164.
Every change is audited; consent given here is part of the contact's audit line, and is kept as
a consent registration (who, when, source) as the Contacts page's own Register consent does.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from sms_core.domain.errors import Conflict, InvalidInput, NotFound
from sms_core.domain.permissions import Actor, Permission
from sms_core.domain.phones import DEFAULT_REGION, InvalidPhoneNumber, parse_phone
from sms_core.storage.database import Database
from sms_core.storage.models import Contact, ContactPhone, SmsConsent, get_by_id, utcnow
from sms_core.use_cases.audit import actor_user_id, changes, record
from sms_core.use_cases.people import clean_email, clean_name

LABEL_MAX = 40
EXTERNAL_ID_MAX = 100
SOURCE_MAX = 200


@dataclass(frozen=True)
class ContactInput:
    name: str
    email: str = ""
    external_id: str = ""


@dataclass(frozen=True)
class PhoneInput:
    number: str
    label: str = "Mobile"
    consent: bool = False
    source: str = ""


def clean_contact(data: ContactInput) -> tuple[str, str | None, str | None]:
    external = (data.external_id or "").strip() or None
    if external is not None and len(external) > EXTERNAL_ID_MAX:
        raise InvalidInput(f"The external id can have at most {EXTERNAL_ID_MAX} characters.", field="external_id")
    return clean_name(data.name), clean_email(data.email, required=False), external


def clean_phone(data: PhoneInput, region: str = DEFAULT_REGION) -> tuple[str, str, bool, str]:
    """(E.164, label, consent, source); each refusal names its field."""
    try:
        number = parse_phone(data.number, region).e164
    except InvalidPhoneNumber as exc:
        raise InvalidInput(exc.message, field="phone") from None
    label = " ".join((data.label or "").split()) or "Mobile"
    if len(label) > LABEL_MAX:
        raise InvalidInput(f"The label can have at most {LABEL_MAX} characters.", field="label")
    source = " ".join((data.source or "").split())
    if data.consent and not source:
        raise InvalidInput(
            "Say where the consent comes from (for example: signed form, phone call).", field="consent_source"
        )
    if len(source) > SOURCE_MAX:
        raise InvalidInput(f"The consent source can have at most {SOURCE_MAX} characters.", field="consent_source")
    return number, label, data.consent, source if data.consent else ""


def add_contact(
    db: Database, actor: Actor, data: ContactInput, phones: list[PhoneInput] = (), region: str = DEFAULT_REGION
) -> int:
    actor.require(Permission.MANAGE_USERS)
    name, email, external = clean_contact(data)
    cleaned = [clean_phone(p, region) for p in phones]
    if len({p[0] for p in cleaned}) < len(cleaned):
        raise InvalidInput("The same number is given twice.", field="phone")
    with db.session() as session:
        _check_external_free(session, external)
        contact = Contact(name=name, email=email, external_id=external)
        session.add(contact)
        _flush(session, external)
        after = {"name": name, "email": email, "external_id": external}
        for number, label, consent, source in cleaned:
            _add_phone(session, actor, contact.id, number, label, consent, source)
            after[f"phone {number}"] = phone_summary(label, consent, source)
        record(session, actor, "contact", contact.id, "added", None, after)
        return contact.id


def update_contact(db: Database, actor: Actor, contact_id: int, data: ContactInput) -> None:
    actor.require(Permission.MANAGE_USERS)
    name, email, external = clean_contact(data)
    with db.session() as session:
        contact = _contact(session, contact_id)
        if external != contact.external_id:
            _check_external_free(session, external)
        before = {"name": contact.name, "email": contact.email, "external_id": contact.external_id}
        old, new = changes(before, {"name": name, "email": email, "external_id": external})
        if new:
            contact.name, contact.email, contact.external_id = name, email, external
            _flush(session, external)
            record(session, actor, "contact", contact.id, "changed", old, new)


def add_phone(db: Database, actor: Actor, contact_id: int, data: PhoneInput, region: str = DEFAULT_REGION) -> int:
    actor.require(Permission.MANAGE_USERS)
    number, label, consent, source = clean_phone(data, region)
    with db.session() as session:
        contact = _contact(session, contact_id)
        if any(p.number == number for p in contact.phones):
            raise Conflict("The contact already has this number.", field="phone")
        phone_id = _add_phone(session, actor, contact.id, number, label, consent, source)
        record(
            session,
            actor,
            "contact",
            contact.id,
            "changed",
            None,
            {f"phone {number}": phone_summary(label, consent, source)},
        )
        return phone_id


def relabel_phone(db: Database, actor: Actor, phone_id: int, label: str) -> None:
    actor.require(Permission.MANAGE_USERS)
    label = " ".join((label or "").split()) or "Mobile"
    if len(label) > LABEL_MAX:
        raise InvalidInput(f"The label can have at most {LABEL_MAX} characters.", field="label")
    with db.session() as session:
        phone = get_by_id(session, ContactPhone, phone_id)
        if phone is None:
            raise NotFound("That phone number no longer exists.")
        if phone.label != label:
            key = f"phone {phone.number} label"
            record(session, actor, "contact", phone.contact_id, "changed", {key: phone.label}, {key: label})
            phone.label = label


def phone_summary(label: str, consent: bool, source: str) -> str:
    """How a number reads in the audit: 'Mobile, consent yes (Signed form)'."""
    return f"{label}, consent yes ({source})" if consent else f"{label}, consent no"


def _add_phone(session: Session, actor: Actor, contact_id: int, number: str, label: str, consent: bool, source: str):
    phone = ContactPhone(contact_id=contact_id, number=number, label=label)
    session.add(phone)
    session.flush()
    if consent:
        session.add(
            SmsConsent(
                contact_id=contact_id,
                phone_id=phone.id,
                source=source,
                registered_at=utcnow(),
                registered_by_user_id=actor_user_id(actor),
            )
        )
    return phone.id


def _contact(session: Session, contact_id: int) -> Contact:
    contact = get_by_id(session, Contact, contact_id)
    if contact is None:
        raise NotFound("That contact does not exist.")
    return contact


def _flush(session: Session, external: str | None) -> None:
    try:
        session.flush()
    except IntegrityError:  # the same external id stored at the same moment
        raise Conflict(f"Another contact already has the external id {external}.", field="external_id") from None


def _check_external_free(session: Session, external: str | None) -> None:
    if external is None:
        return
    if session.scalar(select(func.count()).select_from(Contact).where(Contact.external_id == external)):
        raise Conflict(f"Another contact already has the external id {external}.", field="external_id")
