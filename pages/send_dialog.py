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

from pages._flash import flash
from pages._send_dialog_fields import MADE_FROM_KEY, PhoneChoice, phone_field, standard_texts_button
from pages._shared import current_actor, database, plain, runtime
from pages.sms_text_input import set_sms_text, sms_text_input
from sms_core.domain.errors import SmsError
from sms_core.domain.permissions import Actor, Permission
from sms_core.domain.phones import InvalidPhoneNumber, PhoneProblem
from sms_core.storage.database import Database
from sms_core.use_cases.readiness import send_readiness
from sms_core.use_cases.sending import send_sms

log = logging.getLogger(__name__)

TEXT_KEY = "send_sms_text"
KEEP_OPEN_KEY = "send_sms_keep_open"
SENDING_KEY = "send_sms_sending"  # (Composed, idempotency key) while a send is under way
OUTCOME_KEY = "send_sms_outcome"  # (ok, sentence) of the last send
ERRORS_KEY = "send_sms_errors"  # (Composed, {field: sentence}) of the last failed send
IDEMPOTENCY_KEY = "send_sms_idempotency"  # (Composed, key) of the message being composed


@dataclass(frozen=True)
class Composed:
    """What Send would send right now; a change of any part is a new message."""

    phone: str | None  # E.164
    text: str
    contact_id: int | None


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
    _warn_if_not_ready(db, actor)
    phone = phone_field(db, actor, contact_id)
    phone_errors = st.container()
    standard_texts_button(db, actor, TEXT_KEY)
    text = sms_text_input(
        TEXT_KEY, label="SMS text *", placeholder="Required: write the SMS here (at most 1000 characters)"
    )
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


def _warn_if_not_ready(db: Database, actor: Actor) -> None:
    """Say as the dialog opens what would stop any SMS from this unit (sending off, an invalid
    representative); Send stays possible, and records the attempt with that status."""
    try:
        problem = send_readiness(db, actor, config=runtime().config)
    except SmsError:  # the database is down: Send will say so, and the text is kept meanwhile
        return
    if problem:
        st.warning(plain(problem), icon=":material/warning:")


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
            standard_text_id=st.session_state.get(MADE_FROM_KEY),
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
    st.session_state.pop(MADE_FROM_KEY, None)  # the next message starts from nothing
    if st.session_state.get(KEEP_OPEN_KEY, True):
        st.session_state[OUTCOME_KEY] = (True, result.summary)
        return False
    # For the page, once the dialog is closed: a toast drawn now would be lost with this run, so every
    # page that opens the dialog shows its flash messages near its top.
    flash("toast", result.summary, icon=":material/check_circle:")
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
