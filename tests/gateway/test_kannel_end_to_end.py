"""The sending core against a real Kannel: our services submit, Kannel's fake SMSC delivers, and
Kannel's delivery reports come back through our own webhook — also to the app started as
``make run`` starts it, with nothing but SMS_GATEWAY and KANNEL_* set."""

import time
import urllib.error
import urllib.request
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update
from support import ReportServer, SmsProcess, environment, free_ports

from sms_core.demo.seed import seed_demo
from sms_core.domain.statuses import SmsStatus as S
from sms_core.gateways.kannel import KannelGateway
from sms_core.read_models.message_detail import get_message, get_message_detail
from sms_core.storage.database import Database
from sms_core.storage.models import SmsMessage, utcnow
from sms_core.use_cases.accounts import load_actor
from sms_core.use_cases.message_lifecycle import sweep_status_checks
from sms_core.use_cases.sending import send_sms

pytestmark = pytest.mark.kannel
NUMBER = "+4741555123"


@pytest.fixture
def gateway(kannel):
    return KannelGateway(kannel.sendsms_url, kannel.username, kannel.password, timeout=5)


@pytest.fixture
def webhook(demo_db, gateway):
    """Our delivery-report route on a free port, served as the worker serves it; the gateway is
    told to call it."""
    server = ReportServer(demo_db, gateway)
    gateway.report_url = server.url
    yield server.url
    server.close()


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


def test_the_app_as_make_run_starts_it_gets_kannels_reports(sqlite_url, kannel, tmp_path):
    """Embedded worker, callback URL derived from the app's own port: messages reach Received."""
    db = Database(sqlite_url)
    seed_demo(db, messages=0)
    staff = load_actor(db, "staff")
    port = free_ports()[0]
    env = environment(
        DATABASE_URL=sqlite_url,
        SMS_DEMO_TRAFFIC="0.5",  # `make run` sets it: the organisation's systems send by themselves
        SMS_GATEWAY="kannel",
        KANNEL_SENDSMS_URL=kannel.sendsms_url,
        KANNEL_USERNAME=kannel.username,
        KANNEL_PASSWORD=kannel.password,
    )
    app = SmsProcess(
        ["serve", "--port", str(port)], env, tmp_path / "app.log", f"http://127.0.0.1:{port}/_stcore/health"
    )
    try:
        queued = [send_sms(db, staff, text=f"for the worker {i}", phone=NUMBER, submit=False).message for i in range(3)]
        for message in queued:
            assert wait_for_status(db, staff, message.id, S.RECEIVED, timeout=30) is S.RECEIVED, app.log()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not _received_demo_traffic(db):
            time.sleep(0.5)
        assert _received_demo_traffic(db), "the demo traffic's messages reached Received too"
        told = app.wait_for_line("Delivery reports: the kannel gateway is told to call")
        assert told and f"http://127.0.0.1:{port}/api/dlr" in told
        assert app.wait_for_line(f"Delivery reports: http://127.0.0.1:{port}/api/dlr answers.")
        assert "will not arrive" not in app.log()
    finally:
        app.stop()
        db.dispose()
    assert {m.text for m in kannel.fakesmsc_received()} >= {m.text for m in queued}


def _received_demo_traffic(db) -> int:
    with db.session() as s:
        return s.scalar(
            select(func.count())
            .select_from(SmsMessage)
            .where(~SmsMessage.text.like("for the worker %"), SmsMessage.status == S.RECEIVED)
        )
