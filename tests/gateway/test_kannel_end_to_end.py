"""The sending core against a real Kannel: our services submit, Kannel's fake SMSC delivers, and
Kannel's delivery reports come back through our own webhook."""

import threading
import time
import urllib.error
import urllib.request
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from sms_core import config as config_module
from sms_core.delivery.worker import webhook_server
from sms_core.domain.statuses import SmsStatus as S
from sms_core.gateways.kannel import KannelGateway
from sms_core.read_models.message_detail import get_message, get_message_detail
from sms_core.storage.models import SmsMessage, utcnow
from sms_core.use_cases.accounts import load_actor
from sms_core.use_cases.message_lifecycle import sweep_status_checks
from sms_core.use_cases.sending import send_sms

pytestmark = pytest.mark.kannel
NUMBER = "+4741555123"


@pytest.fixture
def webhook(demo_db, monkeypatch):
    """Our webhook on a free port; callback URLs handed to Kannel point at it."""
    server = webhook_server(demo_db, 0, "127.0.0.1")
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setenv("SMS_PUBLIC_WEBHOOK_URL", f"http://127.0.0.1:{server.server_address[1]}/dlr")
    config_module.get_config.cache_clear()
    yield f"http://127.0.0.1:{server.server_address[1]}/dlr"
    server.shutdown()
    config_module.get_config.cache_clear()


@pytest.fixture
def gateway(kannel):
    return KannelGateway(kannel.sendsms_url, kannel.username, kannel.password, timeout=5)


def wait_for_status(db, actor, message_id, wanted, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if (status := get_message(db, actor, message_id).status) is wanted:
            return status
        time.sleep(0.1)
    return get_message(db, actor, message_id).status


def test_message_reaches_received_through_kannel_reports(demo_db, webhook, gateway, kannel):
    staff = load_actor(demo_db, "staff")
    result = send_sms(demo_db, staff, text="Hei Åse, timen din er i morgen 😊", phone=NUMBER, gateway=gateway)
    # Kannel's delivery report can outrun its answer to the submission: either is seen first
    assert result.message.status in (S.ACCEPTED, S.RECEIVED)
    assert wait_for_status(demo_db, staff, result.message.id, S.RECEIVED) is S.RECEIVED
    delivered = kannel.wait_received(1)
    assert delivered[0].text == "Hei Åse, timen din er i morgen 😊"
    detail = get_message_detail(demo_db, staff, result.message.id)
    seen = {(h.status, h.source) for h in detail.history}
    assert {(S.ACCEPTED, "gateway"), (S.RECEIVED, "delivery-report")} <= seen, "the history is whole in either order"


def test_with_the_smsc_disconnected_it_times_out(demo_db, webhook, gateway, kannel):
    kannel.stop_fakesmsc()
    staff = load_actor(demo_db, "staff")
    message = send_sms(demo_db, staff, text="nobody home", phone=NUMBER, gateway=gateway).message
    assert message.status is S.ACCEPTED  # Kannel queued it for later delivery
    time.sleep(1)
    assert get_message(demo_db, staff, message.id).status is S.ACCEPTED
    with demo_db.session() as s:  # the status-check window passes
        s.execute(
            update(SmsMessage).where(SmsMessage.id == message.id).values(submitted_at=utcnow() - timedelta(minutes=5))
        )
    assert sweep_status_checks(demo_db, timeout_seconds=60) == 1
    assert get_message(demo_db, staff, message.id).status is S.STATUS_CHECK_TIMEOUT


def test_with_the_gateway_down_sending_fails(demo_db, webhook, gateway, kannel):
    kannel.stop()
    staff = load_actor(demo_db, "staff")
    message = send_sms(demo_db, staff, text="into the void", phone=NUMBER, gateway=gateway).message
    assert message.status is S.SENDING_FAILED and "connection refused" in message.gateway_error.lower()
    assert message.status.resendable


def test_forged_and_replayed_callbacks_change_nothing(demo_db, webhook, gateway, kannel):
    staff = load_actor(demo_db, "staff")
    message = send_sms(demo_db, staff, text="check me", phone=NUMBER, gateway=gateway).message
    assert wait_for_status(demo_db, staff, message.id, S.RECEIVED) is S.RECEIVED
    with demo_db.session() as s:
        token = s.scalar(select(SmsMessage.dlr_token).where(SmsMessage.id == message.id))
    events_before = len(get_message_detail(demo_db, staff, message.id).history)

    def call(query):
        try:
            with urllib.request.urlopen(f"{webhook}?{query}", timeout=5) as response:
                return response.status
        except urllib.error.HTTPError as exc:
            return exc.code

    assert call(f"id={message.id}&token=forged&type=2") == 403
    assert call(f"id={message.id}&token={token}&type=2&answer=late") == 200  # replay/out of order: ignored
    assert call(f"id={message.id}&token={token}&type=1") == 200
    detail = get_message_detail(demo_db, staff, message.id)
    assert detail.message.status is S.RECEIVED and len(detail.history) == events_before
