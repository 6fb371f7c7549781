"""Incoming SMS on SQLite and PostgreSQL: a reply is linked to the newest message sent to that
number and belongs to its unit; a keyword withdraws (or registers) consent for the number; a
gateway's retry is stored and acted on once."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from support import accepting, consented_number

from sms_core.domain.setting_definitions import (
    OPT_IN_ENABLED,
    OPT_OUT_CONFIRMATION,
    OPT_OUT_CONFIRMATION_TEXT,
    REPLY_DEFAULT_UNIT,
)
from sms_core.domain.statuses import SmsStatus as S
from sms_core.gateways.base import IncomingMessage
from sms_core.read_models.contacts import get_contact
from sms_core.storage.models import ContactPhone, DispatchState, OrgUnit, SmsConsent, SmsMessage, utcnow
from sms_core.storage.reply_models import OPT_IN, OPT_OUT, IncomingSms
from sms_core.use_cases.accounts import load_actor
from sms_core.use_cases.replies import receive_replies, receive_reply
from sms_core.use_cases.sending import send_sms
from sms_core.use_cases.settings import change_setting

UNKNOWN = "+4741555999"


@pytest.fixture
def consented(demo_base_db) -> tuple[int, str]:
    return consented_number(demo_base_db)


def send(db, user: str, number: str, contact_id: int | None = None, unit: str | None = None, text: str = "Hei"):
    actor = load_actor(db, user)
    unit_id = None
    if unit:
        with db.session() as s:
            unit_id = s.scalar(select(OrgUnit.id).where(OrgUnit.code == unit))
    return send_sms(
        db, actor, text=text, phone=number, contact_id=contact_id, org_unit_id=unit_id, gateway=accepting()
    ).message


def replies(db) -> list[IncomingSms]:
    with db.session() as s:
        return list(s.scalars(select(IncomingSms).order_by(IncomingSms.id)))


def reply(number: str, text: str, gateway_id: str = "k-1", receiver: str | None = None) -> IncomingMessage:
    return IncomingMessage(number, text, receiver, gateway_id, utcnow().replace(microsecond=0))


def test_a_reply_answers_the_newest_message_to_that_number(demo_base_db, consented):
    contact_id, number = consented
    send(demo_base_db, "staff", number, contact_id, unit="BGN", text="older")
    newest = send(demo_base_db, "staff", number, contact_id, unit="OSL", text="newest")
    verdict = receive_reply(demo_base_db, "kannel", reply(number, "Takk, det passer"))
    assert (verdict.http_status, verdict.text) == (200, "received")
    [stored] = replies(demo_base_db)
    assert (stored.message_id, stored.org_unit_id, stored.contact_id) == (newest.id, newest.org_unit_id, contact_id)
    assert stored.text == "Takk, det passer" and stored.keyword is None


def test_the_receiving_number_picks_the_unit_it_was_sent_from(demo_base_db, consented):
    contact_id, number = consented
    bergen = send(demo_base_db, "staff", number, contact_id, unit="BGN", text="from Bergen")
    send(demo_base_db, "staff", number, contact_id, unit="OSL", text="from Oslo, newer")
    receive_reply(demo_base_db, "kannel", reply(number, "Svar til Bergen", receiver="BergenHlse"))
    assert replies(demo_base_db)[0].message_id == bergen.id


def test_stop_withdraws_consent_and_the_next_send_is_refused(demo_base_db, consented):
    contact_id, number = consented
    send(demo_base_db, "staff", number, contact_id)
    receive_reply(demo_base_db, "kannel", reply(number, "  stopp \n"))
    assert replies(demo_base_db)[0].keyword == OPT_OUT
    [phone] = [
        p for p in get_contact(demo_base_db, load_actor(demo_base_db, "staff"), contact_id).phones if p.number == number
    ]
    assert not phone.consent.active and phone.consent.withdrawn_source == "SMS reply"
    assert phone.consent.withdrawn_at is not None and phone.consent.withdrawn_by is None
    assert send(demo_base_db, "staff", number, contact_id).status is S.CONSENT_NOT_REGISTERED
    assert send(demo_base_db, "staff", number).status is S.CONSENT_NOT_REGISTERED, "typing the number does not help"


@pytest.mark.parametrize("text", ["Stop sending me the wrong time", "STOP!", "ikke stopp", ""])
def test_only_the_whole_message_is_a_keyword(demo_base_db, consented, text):
    contact_id, number = consented
    send(demo_base_db, "staff", number, contact_id)
    receive_reply(demo_base_db, "kannel", reply(number, text))
    assert replies(demo_base_db)[0].keyword is None
    assert send(demo_base_db, "staff", number, contact_id).status is S.ACCEPTED


def test_a_retry_is_stored_and_acted_on_once(demo_base_db, consented):
    contact_id, number = consented
    send(demo_base_db, "staff", number, contact_id)
    stop = reply(number, "STOP", gateway_id="kannel-uuid-1")
    assert receive_reply(demo_base_db, "kannel", stop).text == "received"
    assert receive_reply(demo_base_db, "kannel", stop).text == "already received"
    verdicts = receive_replies(demo_base_db, "kannel", [stop, stop, reply(number, "STOP", gateway_id="kannel-uuid-2")])
    assert [v.text for v in verdicts] == ["already received", "already received", "received"]
    assert len(replies(demo_base_db)) == 2, "a second STOP of its own is a reply of its own"


def test_start_registers_consent_again_only_when_the_setting_allows(demo_base_db, consented):
    contact_id, number = consented
    admin = load_actor(demo_base_db, "admin")
    send(demo_base_db, "staff", number, contact_id)
    receive_reply(demo_base_db, "kannel", reply(number, "STOP", "1"))
    receive_reply(demo_base_db, "kannel", reply(number, "START", "2"))
    assert send(demo_base_db, "staff", number, contact_id).status is S.CONSENT_NOT_REGISTERED
    change_setting(demo_base_db, admin, OPT_IN_ENABLED, True)
    receive_reply(demo_base_db, "kannel", reply(number, "start", "3"))
    assert [r.keyword for r in replies(demo_base_db)] == [OPT_OUT, None, OPT_IN]
    assert send(demo_base_db, "staff", number, contact_id).status is S.ACCEPTED


def test_an_opt_out_is_confirmed_by_an_ordinary_message_of_the_unit(demo_base_db, consented):
    contact_id, number = consented
    admin = load_actor(demo_base_db, "admin")
    change_setting(demo_base_db, admin, OPT_OUT_CONFIRMATION, True)
    change_setting(demo_base_db, admin, OPT_OUT_CONFIRMATION_TEXT, "Du er avmeldt.")
    sent = send(demo_base_db, "staff", number, contact_id)
    receive_reply(demo_base_db, "kannel", reply(number, "AVMELD"))
    with demo_base_db.session() as s:
        confirmation = s.scalar(select(SmsMessage).where(SmsMessage.text == "Du er avmeldt."))
    assert confirmation.org_unit_id == sent.org_unit_id and confirmation.phone == number
    assert confirmation.status is S.UNKNOWN and confirmation.dispatch_state == DispatchState.QUEUED


def test_a_reply_to_no_message_goes_to_the_default_unit_or_to_none(demo_base_db):
    admin = load_actor(demo_base_db, "admin")
    receive_reply(demo_base_db, "kannel", reply(UNKNOWN, "Hvem er dette?", "a"))
    change_setting(demo_base_db, admin, REPLY_DEFAULT_UNIT, "TRD")
    receive_reply(demo_base_db, "kannel", reply(UNKNOWN, "Hallo?", "b"))
    with demo_base_db.session() as s:
        trondheim = s.scalar(select(OrgUnit.id).where(OrgUnit.code == "TRD"))
    assert [(r.message_id, r.org_unit_id) for r in replies(demo_base_db)] == [(None, None), (None, trondheim)]


def test_what_a_gateway_sends_is_stored_safely(demo_base_db):
    """A NUL (PostgreSQL refuses it), a huge text and a sender that is no phone number: stored."""
    odd = IncomingMessage(
        "Telenor Info" * 10, "Hei\x00 der\r\n" + "x" * 5000, None, "odd", utcnow() - timedelta(hours=1)
    )
    assert receive_reply(demo_base_db, "kannel", odd).text == "received"
    [stored] = replies(demo_base_db)
    assert stored.text.startswith("Hei der\nxxx") and len(stored.text) == 1600 and len(stored.sender) == 40


def test_keywords_in_one_burst_act_in_the_order_they_came(demo_base_db, consented):
    contact_id, number = consented
    change_setting(demo_base_db, load_actor(demo_base_db, "admin"), OPT_IN_ENABLED, True)
    send(demo_base_db, "staff", number, contact_id)
    receive_replies(demo_base_db, "kannel", [reply(number, "STOP", "b1"), reply(number, "START", "b2")])
    assert send(demo_base_db, "staff", number, contact_id).status is S.ACCEPTED
    receive_replies(demo_base_db, "kannel", [reply(number, "START", "b3"), reply(number, "STOP", "b4")])
    assert send(demo_base_db, "staff", number, contact_id).status is S.CONSENT_NOT_REGISTERED
    with demo_base_db.session() as s:
        consents = s.execute(
            select(SmsConsent.source, SmsConsent.withdrawn_source)
            .join(ContactPhone, ContactPhone.id == SmsConsent.phone_id)
            .where(ContactPhone.number == number)
            .order_by(SmsConsent.id)
        ).all()
    assert [withdrawn for _, withdrawn in consents] == ["SMS reply", "SMS reply"], "b3's START found it active"
    assert consents[1].source == "SMS reply"
