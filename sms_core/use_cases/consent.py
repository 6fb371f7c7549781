"""SMS consent: per contact and per number, registered and withdrawn with who and when.

A number typed freely that belongs to a contact is held to that contact's consent, so a
withdrawn consent cannot be bypassed by typing the number instead of choosing the contact.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from sms_core.domain.errors import InvalidInput, NotFound
from sms_core.domain.permissions import Actor, Permission
from sms_core.storage.database import Database
from sms_core.storage.models import Contact, ContactPhone, SmsConsent, get_by_id, utcnow
from sms_core.use_cases.audit import record
from sms_core.use_cases.settings import read_settings

_HELD = "sms_consent_phones"  # session.info: number -> its phones, read for a batch of sends


@dataclass(frozen=True)
class ConsentCheck:
    allowed: bool
    contact_id: int | None  # the contact the number belongs to (None: unknown number)
    message: str  # what to tell the person at the phone field ("" when allowed without remark)


def check_consent(session: Session, number: str, contact_id: int | None = None) -> ConsentCheck:
    """May an SMS go to this E.164 number (of this contact, when one is chosen)?"""
    held = session.info.get(_HELD, {}).get(number)
    phones = held if held is not None else _phones(session, [number])[number]
    if contact_id is not None:
        phones = [p for p in phones if p.contact_id == contact_id]
    if not phones:
        if contact_id is not None:
            return ConsentCheck(False, contact_id, "This number is not registered for the contact.")
        if read_settings(session).require_consent_for_unknown_numbers:
            return ConsentCheck(
                False,
                None,
                "This number belongs to no contact, and consent is required for unknown numbers. "
                "Register the contact and their consent first.",
            )
        return ConsentCheck(True, None, "This number belongs to no contact; it will be recorded without one.")
    owners = {p.contact_id for p in phones}
    owner = contact_id if contact_id is not None else (owners.pop() if len(owners) == 1 else None)
    if all(p.consented for p in phones):
        return ConsentCheck(True, owner, "")
    return ConsentCheck(False, owner, "Consent for SMS is not registered for this number. The SMS will not be sent.")


def hold_consents(session: Session, numbers: Iterable[str]) -> None:
    """Read the phones and consents of all these numbers at once, for the rest of this session:
    a batch of sends would otherwise ask a query a send (``check_consent`` still reads a number
    not held itself, such as the number of a send that named only its contact)."""
    session.info[_HELD] = _phones(session, set(numbers))


@dataclass(frozen=True)
class _Phone:
    contact_id: int
    consented: bool  # an active (not withdrawn) consent is registered for it


def _phones(session: Session, numbers: Iterable[str]) -> dict[str, list[_Phone]]:
    """Every contact phone with one of the numbers, and whether it has an active consent."""
    found: dict[str, list[_Phone]] = {number: [] for number in numbers}
    if not found:
        return found
    consented = (
        select(SmsConsent.id).where(SmsConsent.phone_id == ContactPhone.id, SmsConsent.withdrawn_at.is_(None)).exists()
    )
    rows = session.execute(
        select(ContactPhone.number, ContactPhone.contact_id, consented).where(ContactPhone.number.in_(list(found)))
    )
    for number, contact_id, active in rows:
        found[number].append(_Phone(contact_id, bool(active)))
    return found


def consent_for_number(db: Database, actor: Actor, number: str, contact_id: int | None = None) -> ConsentCheck:
    """The dialog's check as soon as a number is chosen or typed."""
    actor.require(Permission.SEND_SMS)
    with db.session() as session:
        return check_consent(session, number, contact_id)


def register_consent(db: Database, actor: Actor, phone_id: int, source: str) -> None:
    actor.require(Permission.SEND_SMS)
    if not source.strip():
        raise InvalidInput("Say where the consent comes from (for example: signed form, phone call).", field="source")
    with db.session() as session:
        phone = session.get(ContactPhone, phone_id)
        if phone is None:
            raise NotFound("That phone number no longer exists.")
        if _active(session, phone_id):
            return
        key = f"phone {phone.number} consent"
        record(
            session, actor, "contact", phone.contact_id, "changed", {key: "no"}, {key: f"yes ({source.strip()[:200]})"}
        )
        session.add(
            SmsConsent(
                contact_id=phone.contact_id,
                phone_id=phone_id,
                source=source.strip()[:200],
                registered_at=utcnow(),
                registered_by_user_id=actor.user_id,
            )
        )


def withdraw_consent(db: Database, actor: Actor, phone_id: int, source: str | None = None) -> None:
    actor.require(Permission.SEND_SMS)
    with db.session() as session:
        active = _active(session, phone_id)
        if active:
            phone = session.get(ContactPhone, phone_id)
            key = f"phone {phone.number} consent"
            record(session, actor, "contact", phone.contact_id, "changed", {key: "yes"}, {key: "withdrawn"})
        for consent in active:
            consent.withdrawn_at = utcnow()
            consent.withdrawn_by_user_id = actor.user_id
            consent.withdrawn_source = source.strip()[:200] if source and source.strip() else None


def _active(session: Session, phone_id: int) -> list[SmsConsent]:
    return list(
        session.scalars(select(SmsConsent).where(SmsConsent.phone_id == phone_id, SmsConsent.withdrawn_at.is_(None)))
    )


def contact_numbers(session: Session, contact_id: int) -> list[ContactPhone]:
    contact = get_by_id(session, Contact, contact_id)
    if contact is None:
        raise NotFound("That contact does not exist.")
    return list(contact.phones)
