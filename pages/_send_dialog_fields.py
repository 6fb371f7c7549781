"""The Send SMS dialog's fields above the text: the phone (a contact's numbers, or a number typed
freely) with its consent check, and the Standard texts button.

Consent is checked as soon as there is a number, so a missing consent is a warning at the phone
field and Send is not offered, before anything is typed; ``pages.send_dialog`` draws the rest.
"""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from pages._shared import plain, runtime
from pages.sms_text_input import insert_sms_text
from sms_core.domain.errors import SmsError
from sms_core.domain.permissions import Actor
from sms_core.domain.phones import InvalidPhoneNumber, parse_phone
from sms_core.read_models.contacts import contact_name, get_contact
from sms_core.storage.database import Database
from sms_core.use_cases.consent import consent_for_number
from sms_core.use_cases.standard_texts import active_standard_texts

PHONE_KEY = "send_sms_phone"  # the free-text number (no contact in context)
STANDARD_TEXTS_KEY = "send_sms_standard_texts"  # the popover's open state
MADE_FROM_KEY = "send_sms_made_from"  # the standard text last put in, recorded on the message sent


@dataclass(frozen=True)
class PhoneChoice:
    e164: str | None
    blocked: str | None = None  # why Send is not allowed for this number


def contact_phone_key(contact_id: int) -> str:
    return f"send_sms_phone_of_{contact_id}"


def phone_field(db: Database, actor: Actor, contact_id: int | None) -> PhoneChoice:
    """The contact's numbers when the dialog was opened for a contact, otherwise a free-text number."""
    return _contact_phone(db, actor, contact_id) if contact_id is not None else _typed_phone(db, actor)


# ---- the phone field ---------------------------------------------------------------------


def _contact_phone(db: Database, actor: Actor, contact_id: int) -> PhoneChoice:
    """The contact's numbers, pre-selected when there is exactly one; consent checked at once."""
    try:
        contact = get_contact(db, actor, contact_id)
    except SmsError as exc:
        st.error(exc.message, icon=":material/error:")
        return PhoneChoice(None, exc.message)
    st.caption(f"To **{plain(contact.name)}**")
    if not contact.phones:
        reason = "No phone number is registered for this contact. Register one before sending an SMS."
        st.warning(reason, icon=":material/warning:")
        return PhoneChoice(None, reason)
    labels = {p.number: p.display for p in contact.phones}
    number = st.selectbox(
        "Phone",
        list(labels),
        index=0 if len(labels) == 1 else None,
        format_func=labels.__getitem__,
        placeholder="Choose one of the contact's numbers",
        key=contact_phone_key(contact_id),
    )
    if number is None:
        return PhoneChoice(None)
    return _consent(db, actor, number, contact_id)


def _typed_phone(db: Database, actor: Actor) -> PhoneChoice:
    """A free-text number: an error for one that cannot be used, a warning for a fixed line."""
    typed = st.text_input(
        "Phone",
        key=PHONE_KEY,
        placeholder="+47 912 34 567",
        help="The number with country code; without one, a Norwegian number is assumed.",
    )
    if not typed.strip():
        return PhoneChoice(None)
    try:
        phone = parse_phone(typed, runtime().config.default_region)
    except InvalidPhoneNumber as exc:
        st.error(exc.message, icon=":material/error:")
        return PhoneChoice(None, exc.message)
    if phone.warning:
        st.warning(phone.warning, icon=":material/phone_disabled:")
    return _consent(db, actor, phone.e164, None)


def _consent(db: Database, actor: Actor, number: str, contact_id: int | None) -> PhoneChoice:
    """Check consent as soon as there is a number; without it, warn at the field and block Send."""
    try:
        check = consent_for_number(db, actor, number, contact_id)
    except SmsError as exc:
        st.error(exc.message, icon=":material/error:")
        return PhoneChoice(number)  # Send stays possible: it will say the same, and keeps the text
    if not check.allowed:
        st.warning(check.message, icon=":material/do_not_disturb_on:")
        return PhoneChoice(number, check.message)
    if contact_id is None and check.contact_id is not None:
        st.caption(_owner_note(db, actor, check.contact_id))
    elif check.message:
        st.caption(check.message)
    return PhoneChoice(number)


def _owner_note(db: Database, actor: Actor, contact_id: int) -> str:
    try:
        name = plain(contact_name(db, actor, contact_id))
        return f"This number belongs to {name}; the SMS is recorded on that contact."
    except SmsError:
        return "This number belongs to a contact; the SMS is recorded on that contact."


# ---- standard texts ----------------------------------------------------------------------


def standard_texts_button(db: Database, actor: Actor, text_key: str) -> None:
    """The Standard texts button above the text field; a choice goes in at the cursor."""
    popover = st.popover("Standard texts", icon=":material/text_snippet:", key=STANDARD_TEXTS_KEY, on_change="rerun")
    if not popover.open:
        return  # read the texts only when someone looks at them
    with popover:
        try:
            texts = active_standard_texts(db, actor)
        except SmsError as exc:
            st.error(exc.message, icon=":material/error:")
            return
        if not texts:
            st.caption("There are no standard texts for your org. unit yet.")
        for text in texts:
            st.button(
                plain(text.title),
                key=f"send_sms_standard_{text.id}",
                help=plain(text.body),
                width="stretch",
                on_click=_insert_standard_text,
                args=(text_key, text.body, text.id),
            )


def _insert_standard_text(text_key: str, body: str, text_id: int) -> None:
    insert_sms_text(text_key, body)
    st.session_state[MADE_FROM_KEY] = text_id
    st.session_state[STANDARD_TEXTS_KEY] = False  # close the popover: the text is in
