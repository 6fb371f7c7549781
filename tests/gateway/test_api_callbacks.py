"""Status callbacks to a real local receiver that first answers 500 and then 200: every status
change of a key's message arrives signed with the key's callback secret, retried until taken, in
order per message, and the delivery log shows administrators the last error meanwhile."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from api_server import ApiServer
from callback_receiver import CallbackReceiver

from sms_core.delivery.callbacks import deliver_callbacks
from sms_core.delivery.http import REPORT_PATH
from sms_core.delivery.worker import Worker
from sms_core.domain.api_keys import verify
from sms_core.storage.api_models import ApiCallback
from sms_core.storage.models import SmsMessage
from sms_core.use_cases import api_callbacks
from sms_core.use_cases.api_callbacks import callback_log, pending_callbacks


@pytest.fixture
def receiver():
    receiving = CallbackReceiver()
    yield receiving
    receiving.close()


@pytest.fixture
def api_with_callbacks(demo_base_db, receiver, monkeypatch):
    monkeypatch.setattr(api_callbacks, "FIRST_RETRY", 0.0)  # retry at the next round, not in 5 s
    server = ApiServer(demo_base_db, callback_url=receiver.url)
    yield server
    server.close()


def deliver_all(db, rounds: int = 50) -> None:
    for _ in range(rounds):
        deliver_callbacks(db)
        if not pending_callbacks(db):
            return
        time.sleep(0.01)
    raise AssertionError(f"{pending_callbacks(db)} callbacks still waiting")


def report_delivered(api, message_id: int) -> None:
    with api.db.session() as s:
        token = s.get(SmsMessage, message_id).dlr_token
    status, _, _ = api.call("GET", f"{REPORT_PATH}?id={message_id}&token={token}&type=delivered", key=None)
    assert status == 200


def test_each_status_change_arrives_signed_retried_after_a_500_and_in_order(api_with_callbacks, receiver):
    api = api_with_callbacks
    _, message, _ = api.call("POST", "/api/v1/sms", {"to": "+4741555123", "text": "Hei", "reference": "b-9"})
    deliver_callbacks(api.db)  # the receiver answers 500 to the first try …
    [entry] = callback_log(api.db, api.admin)
    assert (entry.state, entry.attempts, entry.last_error) == ("Waiting", 1, "HTTP 500 Internal Server Error")

    Worker(api.db, api.gateway).run_once()  # dispatch: Accepted (and the callbacks due meanwhile)
    report_delivered(api, message["id"])
    deliver_all(api.db)

    taken = receiver.delivered()
    assert [r.payload["message"]["status"] for r in taken] == ["unknown", "accepted", "received"]
    assert [r.event_id for r in taken] == sorted(r.event_id for r in taken)
    assert all(r.payload["event_id"] == r.event_id and r.payload["message"]["reference"] == "b-9" for r in taken)
    now = int(time.time())
    assert all(verify(api.callback_secret, r.signature, r.body, now) for r in receiver.received)
    assert not verify("another secret", taken[0].signature, taken[0].body, now)
    # In order: no event was tried before the one before it was taken.
    arrivals = [r.event_id for r in receiver.received]
    assert arrivals == [e for event in sorted(set(arrivals)) for e in (event, event)]
    assert {(e.state, e.attempts, e.last_error) for e in callback_log(api.db, api.admin)} == {("Delivered", 2, None)}


def test_a_callback_refused_for_24_hours_is_given_up_and_the_next_one_goes(api_with_callbacks, receiver):
    api = api_with_callbacks
    api.call("POST", "/api/v1/sms", {"to": "+4741555123", "text": "Hei"})
    deliver_callbacks(api.db)
    [first] = receiver.received
    receiver.refuse.add(first.event_id)  # this receiver never takes the first event
    with api.db.session() as s:  # and that has gone on for a day
        callback = s.get(ApiCallback, first.event_id)
        callback.created_at -= timedelta(hours=24)
    Worker(api.db, api.gateway).run_once()  # Accepted; the first event tried again, and given up
    deliver_all(api.db)
    log = {e.id: e for e in callback_log(api.db, api.admin)}
    assert (log[first.event_id].state, log[first.event_id].last_error) == ("Gave up", "HTTP 500 Internal Server Error")
    assert [r.payload["message"]["status"] for r in receiver.delivered()] == ["accepted"]
