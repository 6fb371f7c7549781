"""The Send SMS dialog's Python behaviour with AppTest (the live counter is JavaScript: browser tests).

AppTest runs the whole script on every interaction, so a tiny script opens the dialog on every
run, as the overview does after its Send SMS button.  The text box is a browser component; the
tests type into it by setting Python's copy of the text, which is what the component reports.
The gateway is the simulated one, answering at once.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select
from streamlit.testing.v1 import AppTest

from pages import _send_dialog_fields as fields
from pages import send_dialog as dialog
from pages._shared import runtime
from sms_core.domain.errors import GatewayUnavailable
from sms_core.domain.statuses import SmsStatus
from sms_core.gateways.simulated import OutcomeMix, SimulatedGateway
from sms_core.storage.models import ContactPhone, SmsConsent, SmsMessage, StandardText
from sms_core.use_cases.accounts import load_actor
from sms_core.use_cases.consent import withdraw_consent

TEXT = "send_sms_text__text"  # Python's copy of what is typed in the SMS text box
UNKNOWN_NUMBER = "+47 415 55 123"


def dialog_script(contact_id, username):
    import streamlit as st

    from pages._flash import show_flash
    from pages._shared import database
    from pages.send_dialog import send_sms_dialog
    from sms_core.use_cases.accounts import load_actor

    if "actor" not in st.session_state:  # once, as app.py would: later runs may find the database down
        st.session_state["actor"] = load_actor(database(), username)
    show_flash()  # as the pages that open the dialog do
    send_sms_dialog(contact_id)


@pytest.fixture
def gateway(app_env, monkeypatch):
    accepting = SimulatedGateway(OutcomeMix(0, 0, 0, 0), latency=0)
    monkeypatch.setattr(runtime(), "gateway", accepting)
    return accepting


def open_dialog(contact_id: int | None = None, username: str = "staff") -> AppTest:
    at = AppTest.from_function(dialog_script, args=(contact_id, username), default_timeout=30)
    at.run()
    assert not at.exception, at.exception
    return at


def type_number(at: AppTest, number: str) -> AppTest:
    at.text_input(key=fields.PHONE_KEY).input(number).run()
    assert not at.exception, at.exception
    return at


def click_send(at: AppTest) -> AppTest:
    at.button(key="send_sms_send").click().run()
    assert not at.exception, at.exception
    return at


def send_button(at: AppTest):
    return at.button(key="send_sms_send")


def texts(elements) -> list[str]:
    return [e.value for e in elements]


def messages_with(db, text: str) -> list[SmsMessage]:
    with db.session() as s:
        return list(s.scalars(select(SmsMessage).where(SmsMessage.text == text)))


def phone_of(db, *, consent: bool, single: bool = True) -> ContactPhone:
    """A mobile number of a contact (with exactly one number, if ``single``) with/without consent."""
    with db.session() as s:
        active = select(SmsConsent.phone_id).where(SmsConsent.withdrawn_at.is_(None))
        query = select(ContactPhone).where(
            ContactPhone.id.in_(active) if consent else ContactPhone.id.not_in(active),
            ContactPhone.number.like("+474%") | ContactPhone.number.like("+479%"),
        )
        if single:
            counts = select(ContactPhone.contact_id).group_by(ContactPhone.contact_id).having(func.count() == 1)
            query = query.where(ContactPhone.contact_id.in_(counts))
        return s.scalars(query.order_by(ContactPhone.id)).first()


# ---- phone and consent -------------------------------------------------------------------


@pytest.mark.parametrize(
    "typed, sentence",
    [
        ("12", "The phone number is too short"),
        ("call me", "This is not a phone number"),
        ("+999 1234 5678", "Country code not found"),
    ],
)
def test_a_number_that_cannot_be_used_gets_its_sentence_at_the_field_and_blocks_send(app_env, typed, sentence):
    at = type_number(open_dialog(), typed)
    assert any(sentence in e for e in texts(at.error))
    assert send_button(at).disabled


def test_a_fixed_line_gets_a_warning_but_may_be_sent_to(app_env):
    at = type_number(open_dialog(), "+47 22 12 34 56")
    assert any("looks like a fixed line" in w for w in texts(at.warning))
    assert not send_button(at).disabled


def test_send_without_a_number_asks_for_one_and_records_nothing(app_env, gateway):
    at = open_dialog()
    at.session_state[TEXT] = "No number yet"
    click_send(at)
    assert "Enter a phone number." in texts(at.error)
    assert messages_with(app_env, "No number yet") == [] and at.session_state[TEXT] == "No number yet"


def test_contact_without_consent_is_warned_at_the_phone_field_and_send_is_disabled(app_env):
    phone = phone_of(app_env, consent=False)
    at = open_dialog(phone.contact_id)
    assert at.selectbox(key=fields.contact_phone_key(phone.contact_id)).value == phone.number  # the only one
    assert any("Consent for SMS is not registered" in w for w in texts(at.warning))
    assert send_button(at).disabled


def test_typed_number_of_a_contact_with_withdrawn_consent_is_blocked(app_env):
    phone = phone_of(app_env, consent=True)
    withdraw_consent(app_env, load_actor(app_env, "staff"), phone.id)
    at = type_number(open_dialog(), phone.number)
    assert any("Consent for SMS is not registered" in w for w in texts(at.warning))
    assert send_button(at).disabled


def test_contact_with_several_numbers_makes_the_user_choose(app_env, gateway):
    with app_env.session() as s:
        contact_id = s.scalar(
            select(ContactPhone.contact_id).group_by(ContactPhone.contact_id).having(func.count() > 1)
        )
        numbers = s.scalars(select(ContactPhone.number).where(ContactPhone.contact_id == contact_id)).all()
    at = open_dialog(contact_id)
    box = at.selectbox(key=fields.contact_phone_key(contact_id))
    assert box.value is None and len(box.options) == len(numbers)
    box.select(numbers[-1]).run()
    assert at.selectbox(key=fields.contact_phone_key(contact_id)).value == numbers[-1]


# ---- sending -----------------------------------------------------------------------------


def test_sending_to_a_contact_confirms_and_keeps_the_window_open_for_a_new_message(app_env, gateway):
    phone = phone_of(app_env, consent=True)
    at = open_dialog(phone.contact_id)
    at.session_state[TEXT] = "Hi, see you tomorrow."
    click_send(at)
    assert any("accepted by the SMS gateway" in s for s in texts(at.success))
    [message] = messages_with(app_env, "Hi, see you tomorrow.")
    assert (message.contact_id, message.phone, message.status) == (phone.contact_id, phone.number, SmsStatus.ACCEPTED)
    assert at.session_state[TEXT] == ""  # ready for a new message …
    assert at.selectbox(key=fields.contact_phone_key(phone.contact_id)).value == phone.number  # … to the same number


def test_with_keep_window_open_cleared_the_dialog_closes_and_the_page_confirms(app_env, gateway):
    at = type_number(open_dialog(), UNKNOWN_NUMBER)
    at.checkbox(key=dialog.KEEP_OPEN_KEY).uncheck().run()
    at.session_state[TEXT] = "Closing after this one"
    click_send(at)
    assert len(messages_with(app_env, "Closing after this one")) == 1
    assert any("accepted by the SMS gateway" in t for t in texts(at.toast))  # shown by the page after closing
    assert not at.success  # nothing left in the dialog: it was closed by a full rerun


def test_a_refused_send_is_shown_as_refused_and_keeps_the_text(app_env, monkeypatch):
    monkeypatch.setattr(runtime(), "gateway", SimulatedGateway(OutcomeMix(1, 0, 0, 0), latency=0))
    at = type_number(open_dialog(), UNKNOWN_NUMBER)
    at.session_state[TEXT] = "Will be rejected"
    click_send(at)
    assert any("The SMS was not sent: rejected" in e for e in texts(at.error))
    assert at.session_state[TEXT] == "Will be rejected"


@pytest.mark.parametrize("text, sentence", [("   ", "Write the SMS text."), ("x" * 1001, "at most 1000 characters")])
def test_bad_text_is_refused_at_the_text_field_and_kept(app_env, gateway, text, sentence):
    at = type_number(open_dialog(), UNKNOWN_NUMBER)
    at.session_state[TEXT] = text
    click_send(at)
    assert any(sentence in e for e in texts(at.error))
    assert at.session_state[TEXT] == text and gateway.submitted == []


class LosesFirstAnswer(SimulatedGateway):
    """Accepts every SMS, but the answer to the first one never reaches us (connection drops)."""

    def __init__(self):
        super().__init__(OutcomeMix(0, 0, 0, 0), latency=0)
        self.calls = 0

    def submit(self, sms):
        self.calls += 1
        result = super().submit(sms)
        if self.calls == 1:
            raise GatewayUnavailable("The connection to the SMS gateway was lost. Try again.")
        return result


def test_submitting_the_same_message_twice_sends_it_once(app_env, monkeypatch):
    gateway = LosesFirstAnswer()
    monkeypatch.setattr(runtime(), "gateway", gateway)
    at = type_number(open_dialog(), UNKNOWN_NUMBER)
    at.session_state[TEXT] = "Only once, please"
    click_send(at)
    assert any("connection to the SMS gateway was lost" in e for e in texts(at.error))
    assert at.session_state[TEXT] == "Only once, please"
    click_send(at)  # the user tries again: same composed message, same idempotency key
    assert len(messages_with(app_env, "Only once, please")) == 1 and gateway.calls == 1
    assert at.success and at.session_state[TEXT] == ""


def test_a_new_message_after_a_send_gets_a_new_key(app_env, gateway):
    at = type_number(open_dialog(), UNKNOWN_NUMBER)
    for _ in range(2):
        at.session_state[TEXT] = "Same words, sent on purpose twice"
        click_send(at)
    rows = messages_with(app_env, "Same words, sent on purpose twice")
    assert len(rows) == 2 and rows[0].idempotency_key != rows[1].idempotency_key


def sqlite_path(db) -> Path:
    return Path(db.url.database)


def take_database_away(db) -> list[Path]:
    """Make the SQLite file really unreachable: move it (and its WAL files) and put a folder there."""
    db.dispose()
    path = sqlite_path(db)
    moved = []
    for part in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        if part.exists():
            part.rename(part.with_name(part.name + ".away"))
            moved.append(part)
    path.mkdir()
    return moved


def bring_database_back(db, moved: list[Path]) -> None:
    sqlite_path(db).rmdir()
    for part in moved:
        part.with_name(part.name + ".away").rename(part)
    db.dispose()


def test_text_and_number_survive_the_database_being_down(app_env, gateway):
    at = type_number(open_dialog(), UNKNOWN_NUMBER)
    at.session_state[TEXT] = "Typed while the database was down"
    moved = take_database_away(app_env)
    try:
        click_send(at)
        assert any("cannot be reached" in e for e in texts(at.error))
        assert at.session_state[TEXT] == "Typed while the database was down"
        assert at.text_input(key=fields.PHONE_KEY).value == UNKNOWN_NUMBER
    finally:
        bring_database_back(app_env, moved)
    click_send(at)
    assert at.success and len(messages_with(app_env, "Typed while the database was down")) == 1


# ---- standard texts ----------------------------------------------------------------------


def test_standard_texts_offer_global_and_own_unit_texts_and_insert_the_chosen_one(app_env):
    at = open_dialog()
    at.session_state[fields.STANDARD_TEXTS_KEY] = True  # open the popover
    at.run()
    offered = {b.label for b in at.button if b.key and b.key.startswith("send_sms_standard_")}
    assert {"Appointment reminder", "Call us back", "Results ready", "Oslo: new address"} <= offered
    assert not offered & {"Bergen: parking", "Old opening hours"}  # another unit's; inactive
    with app_env.session() as s:
        body = s.scalar(select(StandardText.body).where(StandardText.title == "Call us back"))
    next(b for b in at.button if b.label == "Call us back").click().run()
    assert at.session_state["send_sms_text__insert"]["text"] == body  # goes to the browser, at the cursor
    assert at.session_state[fields.STANDARD_TEXTS_KEY] is False  # the popover closes


def test_a_user_who_may_not_send_is_told_so(app_env):
    from sms_core.storage.models import RolePermission

    with app_env.session() as s:
        s.query(RolePermission).filter_by(role="staff", permission="send_sms").delete()
    at = open_dialog()
    assert any("do not have permission to send and resend SMS" in e for e in texts(at.error))


def test_a_message_made_from_a_standard_text_records_which_and_the_next_one_does_not(app_env, gateway):
    at = open_dialog()
    at.session_state[fields.STANDARD_TEXTS_KEY] = True
    at.run()
    next(b for b in at.button if b.label == "Call us back").click().run()
    with app_env.session() as s:
        chosen = s.scalar(select(StandardText).where(StandardText.title == "Call us back"))
    at.session_state[TEXT] = chosen.body + " Ask for Kari."  # edited after it went in
    type_number(at, phone_of(app_env, consent=True).number)
    click_send(at)
    at.session_state[TEXT] = "Typed from scratch"
    click_send(at)
    (made_from,) = messages_with(app_env, chosen.body + " Ask for Kari.")
    (typed,) = messages_with(app_env, "Typed from scratch")
    assert made_from.standard_text_id == chosen.id and typed.standard_text_id is None
