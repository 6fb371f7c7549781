"""After sending: delivery reports, the status-check window, crash recovery, the webhook and
change notifications — on SQLite and PostgreSQL."""

import time
import urllib.error
import urllib.request
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select, update
from support import ReportServer, accepting

from sms_core.bootstrap import bootstrap
from sms_core.config import Config
from sms_core.delivery.worker import Worker
from sms_core.domain.statuses import SmsStatus as S
from sms_core.gateways.base import DeliveryReportKind as K
from sms_core.gateways.simulated import OutcomeMix, SimulatedGateway
from sms_core.read_models.message_detail import get_message, get_message_detail
from sms_core.storage.change_feed import ChangeWatcher
from sms_core.storage.models import DispatchState, SmsMessage, utcnow
from sms_core.use_cases.accounts import load_actor
from sms_core.use_cases.message_lifecycle import (
    BUFFERED_EVENTS,
    DETAIL_LENGTH,
    NOT_OURS,
    OUTCOME_UNKNOWN,
    apply_delivery_report,
    recover_interrupted,
    sweep_status_checks,
)
from sms_core.use_cases.sending import send_sms

NUMBER = "+4741555123"


def accepted(db, actor, **kwargs):
    message = send_sms(db, actor, text="report me", phone=NUMBER, gateway=accepting(), **kwargs).message
    with db.session() as s:
        return message, s.get(SmsMessage, message.id).dlr_token


def test_delivered_report_makes_it_received(demo_db, staff):
    message, token = accepted(demo_db, staff)
    verdict = apply_delivery_report(demo_db, message.id, token, K.DELIVERED, "Delivered to phone")
    assert (verdict.http_status, verdict.changed) == (200, True)
    detail = get_message_detail(demo_db, staff, message.id)
    assert detail.message.status is S.RECEIVED
    assert detail.history[-1].source == "delivery-report" and detail.history[-1].detail == "Delivered to phone"


@pytest.mark.parametrize("kind, status", [(K.UNDELIVERED, S.SENDING_FAILED), (K.REJECTED, S.REJECTED)])
def test_negative_reports(demo_db, staff, kind, status):
    message, token = accepted(demo_db, staff)
    apply_delivery_report(demo_db, message.id, token, kind, "absent subscriber")
    assert get_message(demo_db, staff, message.id).status is status
    assert get_message(demo_db, staff, message.id).gateway_error == "absent subscriber"


def test_buffered_report_is_recorded_without_changing_the_status(demo_db, staff):
    message, token = accepted(demo_db, staff)
    assert apply_delivery_report(demo_db, message.id, token, K.BUFFERED, "Queued on SMSC").text == "recorded"
    detail = get_message_detail(demo_db, staff, message.id)
    assert detail.message.status is S.ACCEPTED and detail.history[-1].detail == "Queued on SMSC"


def test_forged_unknown_and_replayed_reports_change_nothing(demo_db, staff):
    message, token = accepted(demo_db, staff)
    assert apply_delivery_report(demo_db, message.id, token + "x", K.DELIVERED).http_status == 403
    assert apply_delivery_report(demo_db, 999_999, token, K.DELIVERED).http_status == 403
    assert get_message(demo_db, staff, message.id).status is S.ACCEPTED
    apply_delivery_report(demo_db, message.id, token, K.UNDELIVERED)
    replay = apply_delivery_report(demo_db, message.id, token, K.UNDELIVERED)
    late = apply_delivery_report(demo_db, message.id, token, K.DELIVERED)
    assert (replay.http_status, replay.changed, late.changed) == (200, False, False)
    history = get_message_detail(demo_db, staff, message.id).history
    assert [h.status for h in history] == [S.UNKNOWN, S.ACCEPTED, S.SENDING_FAILED]


def test_no_report_in_time_is_a_timeout_and_a_late_delivered_still_wins(demo_db, staff):
    message, token = accepted(demo_db, staff)
    assert sweep_status_checks(demo_db, timeout_seconds=3600) == 0
    with demo_db.session() as s:
        s.execute(
            update(SmsMessage).where(SmsMessage.id == message.id).values(submitted_at=utcnow() - timedelta(hours=2))
        )
    assert sweep_status_checks(demo_db, timeout_seconds=3600) == 1
    assert get_message(demo_db, staff, message.id).status is S.STATUS_CHECK_TIMEOUT
    assert sweep_status_checks(demo_db, timeout_seconds=3600) == 0  # swept once
    apply_delivery_report(demo_db, message.id, token, K.DELIVERED)
    assert get_message(demo_db, staff, message.id).status is S.RECEIVED


def test_a_message_left_mid_submission_is_never_sent_again(demo_db, staff):
    gateway = accepting()
    message = send_sms(demo_db, staff, text="queued", phone=NUMBER, submit=False).message
    with demo_db.session() as s:  # a worker claimed it and died before recording the answer
        s.execute(
            update(SmsMessage)
            .where(SmsMessage.id == message.id)
            .values(dispatch_state=DispatchState.SUBMITTING, submitted_at=utcnow() - timedelta(minutes=10))
        )
    assert recover_interrupted(demo_db, lease_seconds=60) == 1
    Worker(demo_db, gateway).run_once()
    after = get_message(demo_db, staff, message.id)
    assert after.status is S.SENDING_FAILED and after.gateway_error.startswith(OUTCOME_UNKNOWN)
    assert after.status.resendable and gateway.submitted == []


def test_worker_dispatches_queued_messages_once(demo_db, staff):
    gateway = accepting()
    ids = [send_sms(demo_db, staff, text=f"q{i}", phone=NUMBER, submit=False).message.id for i in range(5)]
    assert all(get_message(demo_db, staff, i).status is S.UNKNOWN for i in ids)
    assert Worker(demo_db, gateway).run_once()["dispatched"] == 5
    assert Worker(demo_db, gateway).run_once()["dispatched"] == 0
    assert sorted(sms.message_id for sms in gateway.submitted) == ids
    assert all(get_message(demo_db, staff, i).status is S.ACCEPTED for i in ids)


def test_simulated_gateway_moves_statuses_by_itself(demo_db, staff):
    """The runtime wires the simulated gateway's reports into the path a webhook call takes."""
    runtime = bootstrap(Config(database_url=demo_db.url.render_as_string(hide_password=False)))
    gateway = runtime.gateway
    gateway.mix, gateway.latency = OutcomeMix(0, 0, 0, 0), 0.2
    try:
        message = send_sms(demo_db, staff, text="watch me", phone=NUMBER, gateway=gateway).message
        gateway.drain(timeout=5)
    finally:
        runtime.close()
    assert get_message(demo_db, staff, message.id).status is S.RECEIVED


REPORTS = st.lists(
    st.sampled_from([K.DELIVERED, K.UNDELIVERED, K.REJECTED, K.BUFFERED, "timeout"]), min_size=1, max_size=6
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(reports=REPORTS)
def test_any_order_of_reports_ends_in_the_first_final_one(demo_db, staff, reports):
    """Final states never regress; a timeout only stands until a final report arrives."""
    message, token = accepted(demo_db, staff)
    expected = S.ACCEPTED
    final_of = {K.DELIVERED: S.RECEIVED, K.UNDELIVERED: S.SENDING_FAILED, K.REJECTED: S.REJECTED}
    for report in reports:
        if report == "timeout":
            with demo_db.session() as s:
                s.execute(
                    update(SmsMessage)
                    .where(SmsMessage.id == message.id, SmsMessage.dispatch_state == DispatchState.SUBMITTED)
                    .values(submitted_at=utcnow() - timedelta(hours=1))
                )
            sweep_status_checks(demo_db, timeout_seconds=60)
            if expected is S.ACCEPTED:
                expected = S.STATUS_CHECK_TIMEOUT
        else:
            apply_delivery_report(demo_db, message.id, token, report)
            if report in final_of and not expected.final:
                expected = final_of[report]
    assert get_message(demo_db, staff, message.id).status is expected


def test_webhook_over_http(demo_db, staff):
    message, token = accepted(demo_db, staff)
    server = ReportServer(demo_db, SimulatedGateway())  # the simulated gateway's reports name their kind
    base = server.url

    def call(query, data=None):
        try:
            with urllib.request.urlopen(f"{base}?{query}", data=data, timeout=5) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode()

    try:
        assert call(f"id={message.id}&token=forged&type=delivered") == (403, "unknown message or invalid token")
        assert call(f"id=0&token={token}&type=delivered")[0] == 400
        assert call(f"id={message.id}&token={token}&type=99")[0] == 400
        assert call(f"id=abc&token={token}&type=delivered")[0] == 400
        assert get_message(demo_db, staff, message.id).status is S.ACCEPTED
        assert call(f"id={message.id}&token={token}", data=b"type=delivered&answer=ok") == (200, "applied")
        assert call(f"id={message.id}&token={token}&type=delivered") == (200, "ignored")
        assert get_message(demo_db, staff, message.id).status is S.RECEIVED
    finally:
        server.close()


@pytest.fixture
def watcher(demo_db):
    watcher = ChangeWatcher(demo_db)  # what sms_core.bootstrap makes once per process
    yield watcher
    watcher.close()


def test_changes_are_announced_to_watchers_of_that_unit_only(demo_db, staff, watcher):
    kari = load_actor(demo_db, "kari")
    mine, theirs = sorted(staff.org_unit_ids), sorted(kari.org_unit_ids)
    time.sleep(0.3)  # PostgreSQL: let the listener connect
    before_mine, before_theirs = watcher.version(mine), watcher.version(theirs)
    accepted(demo_db, staff)
    deadline = time.monotonic() + 3
    while watcher.version(mine) == before_mine and time.monotonic() < deadline:
        time.sleep(0.05)
    assert watcher.version(mine) != before_mine
    assert watcher.version(theirs) == before_theirs


def test_a_claim_abandoned_before_the_gateway_call_goes_back_to_the_queue(demo_db, staff):
    from sms_core.use_cases.message_lifecycle import claim_queued

    message = send_sms(demo_db, staff, text="claimed", phone=NUMBER, submit=False).message
    claimed, claimed_at = claim_queued(demo_db)
    assert claimed == [message.id]
    with demo_db.session() as s:  # the worker died right after claiming
        s.execute(
            update(SmsMessage).where(SmsMessage.id == message.id).values(submitted_at=utcnow() - timedelta(minutes=10))
        )
    recover_interrupted(demo_db, lease_seconds=60)
    gateway = accepting()
    from sms_core.use_cases.submission import submit_message

    submit_message(demo_db, message.id, gateway, claimed_at)  # the stale claim may not send it
    assert gateway.submitted == []
    Worker(demo_db, gateway).run_once()  # a live worker sends it, once
    assert [sms.message_id for sms in gateway.submitted] == [message.id]
    assert get_message(demo_db, staff, message.id).status is S.ACCEPTED


class ReportOutrunsAnswer(SimulatedGateway):
    """Kannel can post the delivery report before its answer to the submission reaches us."""

    def __init__(self, db):
        super().__init__(OutcomeMix(0, 0, 0, 0), latency=0)
        self.db = db

    def submit(self, sms):
        result = super().submit(sms)
        with self.db.session() as s:
            token = s.get(SmsMessage, sms.message_id).dlr_token
        apply_delivery_report(self.db, sms.message_id, token, K.DELIVERED, "Delivered to phone")
        return result


def test_a_report_that_outruns_the_gateways_answer_keeps_both_in_the_history(demo_db, staff):
    sent = send_sms(demo_db, staff, text="fast phone", phone=NUMBER, gateway=ReportOutrunsAnswer(demo_db)).message
    detail = get_message_detail(demo_db, staff, sent.id)
    assert detail.message.status is S.RECEIVED, "the final report stands"
    assert [(h.status, h.source) for h in detail.history][-2:] == [
        (S.RECEIVED, "delivery-report"),
        (S.ACCEPTED, "gateway"),
    ]
    assert "after the delivery report" in detail.history[-1].detail
    with demo_db.session() as s:
        assert s.get(SmsMessage, sent.id).gateway_message_id, "the gateway's id is kept"


def test_buffered_reports_add_a_line_only_when_it_differs_and_at_most_a_few(demo_db, staff):
    message, token = accepted(demo_db, staff)
    verdicts = [apply_delivery_report(demo_db, message.id, token, K.BUFFERED, "ACK/").text for _ in range(3)]
    assert verdicts == ["recorded", "ignored", "ignored"]
    for i in range(2 * BUFFERED_EVENTS):
        apply_delivery_report(demo_db, message.id, token, K.BUFFERED, f"Queued {i}")
    history = get_message_detail(demo_db, staff, message.id).history
    assert [h.status for h in history].count(S.ACCEPTED) == 1 + BUFFERED_EVENTS  # the acceptance, then the cap
    assert apply_delivery_report(demo_db, message.id, token, K.DELIVERED).changed, "a final report still counts"


def test_the_gateways_words_are_cleaned_and_bounded(demo_db, staff):
    message, token = accepted(demo_db, staff)
    answer = "absent\x00 subscriber\x1b[31m\u0085" + "x" * (2 * 1024 * 1024)
    assert apply_delivery_report(demo_db, message.id, token, K.UNDELIVERED, answer).changed  # a NUL: no 500
    stored = get_message(demo_db, staff, message.id).gateway_error
    assert stored.startswith("absent subscriber[31mx") and stored.endswith("…") and len(stored) == DETAIL_LENGTH
    assert get_message_detail(demo_db, staff, message.id).history[-1].detail == stored


def test_an_unknown_id_and_a_wrong_token_are_answered_alike(demo_db, staff):
    message, token = accepted(demo_db, staff)
    wrong_token = apply_delivery_report(demo_db, message.id, "forged", K.DELIVERED)
    unknown_id = apply_delivery_report(demo_db, message.id + 1000, token, K.DELIVERED)
    assert (wrong_token.http_status, wrong_token.text) == (unknown_id.http_status, unknown_id.text) == (403, NOT_OURS)


def test_reports_long_after_the_status_check_window_are_refused(demo_db, staff):
    config = Config()
    message, token = accepted(demo_db, staff)
    late, _ = accepted(demo_db, staff)
    with demo_db.session() as s:
        s.execute(
            update(SmsMessage)
            .where(SmsMessage.id == message.id)
            .values(submitted_at=utcnow() - timedelta(seconds=config.report_deadline + 60))
        )
        s.execute(  # a day after its status check timed out: still within the margin
            update(SmsMessage).where(SmsMessage.id == late.id).values(submitted_at=utcnow() - timedelta(days=1))
        )
    sweep_status_checks(demo_db, timeout_seconds=config.status_check_timeout)
    with demo_db.session() as s:
        late_token = s.get(SmsMessage, late.id).dlr_token
    assert apply_delivery_report(demo_db, message.id, token, K.DELIVERED).http_status == 410
    assert get_message(demo_db, staff, message.id).status is S.STATUS_CHECK_TIMEOUT
    assert apply_delivery_report(demo_db, late.id, late_token, K.DELIVERED).changed
    assert get_message(demo_db, staff, late.id).status is S.RECEIVED


def test_a_batch_of_sends_with_a_refused_one_is_announced_once_it_commits(demo_db, staff, watcher):
    """The API's group commit: each send has a savepoint; releasing one, or rolling back the
    refused one, must neither announce early nor forget the units the others changed."""
    from sms_core.config import DEFAULTS
    from sms_core.domain.errors import InvalidInput
    from sms_core.use_cases.recording import prepare_send, record_sends

    def prepared(contact_id=None, phone=NUMBER):
        return prepare_send(
            staff,
            text="batch",
            phone=phone,
            contact_id=contact_id,
            org_unit_id=None,
            idempotency_key=None,
            submit=False,
            config=DEFAULTS,
            reference=None,
            standard_text_id=None,
        )

    with demo_db.session() as s:
        contact = s.scalar(select(SmsMessage.contact_id).where(SmsMessage.contact_id.is_not(None)))
    mine = sorted(staff.org_unit_ids)
    time.sleep(0.3)  # PostgreSQL: let the listener connect
    before = watcher.version(mine)
    outcomes = record_sends(demo_db, [prepared(), prepared(), prepared(contact, "+4741555999")])  # refused last
    assert isinstance(outcomes[2], InvalidInput) and outcomes[0].id != outcomes[1].id
    deadline = time.monotonic() + 3
    while watcher.version(mine) == before and time.monotonic() < deadline:
        time.sleep(0.05)
    assert watcher.version(mine) != before
