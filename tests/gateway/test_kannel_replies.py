"""Replies through a real Kannel: fakesmsc (interactive) answers a message we just sent, Kannel's
sms-service — configured with exactly what ``kannel-config`` prints — calls our incoming-SMS
route, and the reply shows under that message; a STOP withdraws consent, so the next SMS to the
number is "Consent is not registered"; Kannel's retry of an MO whose answer was lost is stored once."""

from __future__ import annotations

import os
import time

import pytest
from kannel_harness import BEARERBOX, FAKESMSC, SMSBOX
from kannel_replies import AnswerLosingProxy, KannelWithReplies
from sqlalchemy import func, select
from support import ReportServer, consented_number, require

from sms_core.config import Config
from sms_core.delivery.incoming import INCOMING_PATH
from sms_core.domain.statuses import SmsStatus as S
from sms_core.gateways.kannel import KannelGateway
from sms_core.read_models.message_detail import get_message, get_message_detail
from sms_core.storage.reply_models import OPT_OUT, IncomingSms
from sms_core.use_cases.accounts import load_actor
from sms_core.use_cases.sending import send_sms

pytestmark = pytest.mark.kannel
SECRET = "kannel-calls-with-this"
OUR_SENDER = "OsloHelse"  # Oslo Sentrum's sender in the demo


@pytest.fixture
def setup(demo_base_db, tmp_path):
    """Our routes served as the worker serves them, behind a proxy that can lose answers, and a
    Kannel told to deliver incoming SMS there."""
    missing = [p for p in (BEARERBOX, SMSBOX, FAKESMSC) if not os.access(p, os.X_OK)]
    require(not missing, f"Kannel is not installed (no {', '.join(missing)}): apt-get install kannel kannel-extras")
    gateway = KannelGateway("http://127.0.0.1:1/cgi-bin/sendsms", "", "", timeout=5)
    server = ReportServer(demo_base_db, gateway, Config(incoming_secret=SECRET, incoming_allowed=("127.0.0.1",)))
    proxy = AnswerLosingProxy(server.base)
    (tmp_path / "kannel").mkdir()
    kannel = KannelWithReplies(tmp_path / "kannel", f"{proxy.url}{INCOMING_PATH}?secret={SECRET}")
    gateway.__init__(kannel.sendsms_url, kannel.username, kannel.password, timeout=5, report_url=server.url)
    try:
        kannel.start()
        yield demo_base_db, gateway, kannel, proxy
    finally:
        kannel.stop()
        proxy.close()
        server.close()


def wait_until(check, timeout=15.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if result := check():
            return result
        time.sleep(0.1)
    return check()


def test_a_reply_and_a_stop_through_kannel(setup):
    db, gateway, kannel, proxy = setup
    staff = load_actor(db, "staff")
    contact_id, number = consented_number(db)
    sent = send_sms(
        db, staff, text="Timen din er i morgen kl 10", contact_id=contact_id, phone=number, gateway=gateway
    ).message
    assert wait_until(lambda: get_message(db, staff, sent.id).status is S.RECEIVED)

    kannel.send_mo(number, OUR_SENDER, "Kan vi flytte timen til 11? 😊")
    replies = wait_until(lambda: get_message_detail(db, staff, sent.id).replies)
    assert [r.text for r in replies] == ["Kan vi flytte timen til 11? 😊"], kannel.directory
    assert replies[0].sender == number and replies[0].keyword is None

    kannel.send_mo(number, OUR_SENDER, "Stopp")
    replies = wait_until(
        lambda: (
            len(get_message_detail(db, staff, sent.id).replies) == 2 and get_message_detail(db, staff, sent.id).replies
        )
    )
    assert replies[1].keyword == OPT_OUT
    again = send_sms(db, staff, text="Påminnelse", contact_id=contact_id, phone=number, gateway=gateway).message
    assert again.status is S.CONSENT_NOT_REGISTERED
    assert len(kannel.fakesmsc_received()) == 1, "nothing more went to the phone"


def test_kannels_retry_of_the_same_mo_is_stored_once(setup):
    db, gateway, kannel, proxy = setup
    staff = load_actor(db, "staff")
    contact_id, number = consented_number(db)
    send_sms(db, staff, text="Hei", contact_id=contact_id, phone=number, gateway=gateway)
    proxy.lose = 1  # our answer to the first call is lost: smsbox calls again
    kannel.send_mo(number, OUR_SENDER, "Takk")
    calls = wait_until(lambda: len(proxy.calls) >= 2 and proxy.calls)
    assert [status for _, status in calls] == [None, 200], kannel.directory
    assert calls[0][0] == calls[1][0], "the retry is the same call, Kannel's id and all"
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(IncomingSms)) == 1
