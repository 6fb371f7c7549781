"""The Send SMS dialog (the article's "Send SMS" part): phone, consent check, SMS text with a live
counter, standard texts, Keep window open, Send.

Why it is built this way:
- Nothing typed is ever lost: the text lives in session state (``pages.sms_text_input``) and the
  number in its widget; only a send the gateway accepted clears the text (the number stays, for a
  follow-up to the same person).
- Send runs in two steps: the click stores a snapshot of what was composed and reruns the
  dialog, which draws Send disabled and sends the snapshot; the outcome is drawn by one more rerun,
  so every message lands next to the field it concerns.
- Each composed message gets one idempotency key, kept until a send is recorded, so a double
  click, a retry after an error or an interrupted run sends it once.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass

import streamlit as st
from streamlit.errors import StreamlitAPIException

from pages._shared import current_actor, database, plain, runtime
from pages.sms_text_input import insert_sms_text, set_sms_text, sms_text_input
from sms_core.domain.errors import SmsError
from sms_core.domain.permissions import Actor, Permission
from sms_core.domain.phones import InvalidPhoneNumber, PhoneProblem, parse_phone
from sms_core.read_models.contacts import contact_name, get_contact
from sms_core.storage.database import Database
from sms_core.use_cases.consent import consent_for_number
from sms_core.use_cases.sending import send_sms
from sms_core.use_cases.standard_texts import active_standard_texts

log = logging.getLogger(__name__)

TEXT_KEY = "send_sms_text"
PHONE_KEY = "send_sms_phone"  # the free-text number (no contact in context)
KEEP_OPEN_KEY = "send_sms_keep_open"
SENDING_KEY = "send_sms_sending"  # (Composed, idempotency key) while a send is under way
OUTCOME_KEY = "send_sms_outcome"  # (ok, sentence) of the last send
ERRORS_KEY = "send_sms_errors"  # (Composed, {field: sentence}) of the last failed send
IDEMPOTENCY_KEY = "send_sms_idempotency"  # (Composed, key) of the message being composed
STANDARD_TEXTS_KEY = "send_sms_standard_texts"  # the popover's open state
NOTICE_KEY = "send_sms_notice"  # the confirmation of a send that closed the dialog


@dataclass(frozen=True)
class Composed:
    """What Send would send right now; a change of any part is a new message."""

    phone: str | None  # E.164
    text: str
    contact_id: int | None


@dataclass(frozen=True)
class PhoneChoice:
    e164: str | None
    blocked: str | None = None  # why Send is not allowed for this number


def contact_phone_key(contact_id: int) -> str:
    return f"send_sms_phone_of_{contact_id}"


def show_send_notice() -> None:
    """Toast the confirmation of a send that closed the dialog.

    A toast drawn just before the rerun that closes the dialog is lost with that run, so the
    sentence waits in session state: every page that opens the dialog calls this near its top.
    """
    if notice := st.session_state.pop(NOTICE_KEY, None):
        st.toast(notice, icon=":material/check_circle:")


def _dismissed() -> None:
    """Closing the dialog forgets the last outcome; the draft text is kept for next time."""
    st.session_state.pop(OUTCOME_KEY, None)
    st.session_state.pop(ERRORS_KEY, None)


@st.dialog("Send SMS", width="medium", on_dismiss=_dismissed)
def send_sms_dialog(contact_id: int | None = None) -> None:
    """Compose and send one SMS; ``contact_id`` offers that contact's numbers instead of free text."""
    actor = current_actor()
    if not actor.can(Permission.SEND_SMS):
        st.error(f"You do not have permission to {Permission.SEND_SMS.label}.", icon=":material/block:")
        return
    db = database()
    phone = _contact_phone(db, actor, contact_id) if contact_id is not None else _typed_phone(db, actor)
    phone_errors = st.container()
    _standard_texts(db, actor)
    text = sms_text_input(TEXT_KEY, label="SMS text", placeholder="Write the SMS here")
    text_errors = st.container()
    composed = Composed(phone.e164, text, contact_id)
    errors = _errors_for(composed)
    _show(phone_errors, errors.get("phone"))
    _show(text_errors, errors.get("text"))
    st.session_state.setdefault(KEEP_OPEN_KEY, True)
    st.checkbox("Keep window open", key=KEEP_OPEN_KEY, help="Stay in this window after sending, ready for a new SMS.")
    _show(st.container(), errors.get("send"))
    sending = st.session_state.pop(SENDING_KEY, None)
    if st.button(
        "Send",
        type="primary",
        icon=":material/send:",
        disabled=bool(phone.blocked or sending),
        help=phone.blocked,
        key="send_sms_send",
    ):
        _start(composed, phone)
    if sending:
        _send(db, actor, *sending)
    _show_outcome()


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


def _standard_texts(db: Database, actor: Actor) -> None:
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
                args=(text.body,),
            )


def _insert_standard_text(body: str) -> None:
    insert_sms_text(TEXT_KEY, body)
    st.session_state[STANDARD_TEXTS_KEY] = False  # close the popover: the text is in


# ---- sending -----------------------------------------------------------------------------


def _start(composed: Composed, phone: PhoneChoice) -> None:
    """The click: check what the dialog itself can check, then hand a snapshot to the next run."""
    st.session_state.pop(OUTCOME_KEY, None)
    st.session_state.pop(ERRORS_KEY, None)
    if composed.phone is None and not phone.blocked:
        st.session_state[ERRORS_KEY] = (composed, {"phone": InvalidPhoneNumber(PhoneProblem.EMPTY).message})
    else:
        st.session_state[SENDING_KEY] = (composed, _idempotency_key(composed))
    _rerun_dialog()


def _idempotency_key(composed: Composed) -> str:
    """The key of this composed message: the same until a send of it is recorded."""
    earlier = st.session_state.get(IDEMPOTENCY_KEY)
    if earlier and earlier[0] == composed:
        return earlier[1]
    key = f"dialog-{uuid.uuid4()}"
    st.session_state[IDEMPOTENCY_KEY] = (composed, key)
    return key


UNEXPECTED = "The SMS could not be sent because of an unexpected error. Try again; your text is kept."


def _send(db: Database, actor: Actor, composed: Composed, key: str) -> None:
    """Send the snapshot, then draw the outcome in a fresh run of the dialog (or close it)."""
    with st.spinner("Sending…"):
        close = _send_and_remember(db, actor, composed, key)
    if close:
        st.rerun()  # a full rerun closes the dialog
    _rerun_dialog()


def _send_and_remember(db: Database, actor: Actor, composed: Composed, key: str) -> bool:
    """Call the service and store its outcome with no Streamlit call in between, so a rerun
    that interrupts the script cannot lose it.  True when the dialog should close."""
    try:
        result = send_sms(
            db,
            actor,
            text=composed.text,
            phone=composed.phone,
            contact_id=composed.contact_id,
            idempotency_key=key,
            gateway=runtime().gateway,
            config=runtime().config,
        )
    except SmsError as exc:  # nothing recorded (or not known to be): the same key on the next try
        field = exc.field if exc.field in ("phone", "text") else "send"
        st.session_state[ERRORS_KEY] = (composed, {field: exc.message})
        return False
    except Exception:  # a bug or an unexpected gateway error: still keep what was typed
        log.exception("sending from the dialog failed")
        st.session_state[ERRORS_KEY] = (composed, {"send": UNEXPECTED})
        return False
    st.session_state.pop(IDEMPOTENCY_KEY, None)  # recorded: a new send is a new message
    if not result.ok:  # refused: keep the text so it can be corrected or sent elsewhere
        st.session_state[OUTCOME_KEY] = (False, result.summary)
        return False
    set_sms_text(TEXT_KEY, "")
    if st.session_state.get(KEEP_OPEN_KEY, True):
        st.session_state[OUTCOME_KEY] = (True, result.summary)
        return False
    st.session_state[NOTICE_KEY] = result.summary  # for the page, once the dialog is closed
    return True


def _rerun_dialog() -> None:
    """Rerun only the dialog (it stays open); a full run (first opening, tests) reruns the app."""
    try:
        st.rerun(scope="fragment")
    except StreamlitAPIException:
        st.rerun()


# ---- messages at their fields ------------------------------------------------------------


def _errors_for(composed: Composed) -> dict[str, str]:
    """The last send's errors, while the message is still the one they were about."""
    errors = st.session_state.get(ERRORS_KEY)
    return errors[1] if errors and errors[0] == composed else {}


def _show(container, message: str | None) -> None:
    if message:
        container.error(message, icon=":material/error:")


def _show_outcome() -> None:
    outcome = st.session_state.get(OUTCOME_KEY)
    if outcome:
        ok, sentence = outcome
        if ok:
            st.success(sentence, icon=":material/check_circle:")
        else:
            st.error(sentence, icon=":material/block:")
