"""A worker killed with SIGKILL while a status callback is in flight: after restart every callback
is delivered at least once, and the receiver, de-duplicating by event id, sees each message's
status changes once each and in order."""

from __future__ import annotations

import signal
import subprocess
import sys
import time

from callback_receiver import CallbackReceiver
from sqlalchemy import select, update
from support import CERTAIN_DELIVERY, environment, free_ports

from sms_core.config import PROJECT_ROOT
from sms_core.domain.statuses import SmsStatus
from sms_core.storage.api_models import ApiCallback
from sms_core.storage.models import SmsMessage, utcnow
from sms_core.use_cases.accounts import load_actor, unit_id_by_code
from sms_core.use_cases.api_callbacks import pending_callbacks
from sms_core.use_cases.api_keys import create_api_key, key_actor
from sms_core.use_cases.sending import send_sms

MESSAGES = 10


def start_worker(db) -> subprocess.Popen:
    env = environment(
        DATABASE_URL=db.url.render_as_string(hide_password=False),
        SMS_WEBHOOK_PORT=str(free_ports()[0]),
        SMS_SIMULATED_LATENCY="0.1",
        **CERTAIN_DELIVERY,
    )
    return subprocess.Popen(
        [sys.executable, "-m", "sms_core", "worker"],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def wait_until(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"not within {timeout} s: {what}"
        time.sleep(0.1)


def test_a_worker_killed_mid_delivery_leaves_every_callback_delivered_at_least_once(demo_base_db):
    db = demo_base_db
    receiver = CallbackReceiver(fail_first=False)
    admin = load_actor(db, "admin")
    made = create_api_key(db, admin, org_unit_id=unit_id_by_code(db, "OSL"), name="Journal", callback_url=receiver.url)
    sender = key_actor(db, made.secret)
    ids = [
        send_sms(db, sender, text=f"Svar {i}", phone="+4741555123", submit=False).message.id for i in range(MESSAGES)
    ]
    with db.session() as s:
        events = list(s.scalars(select(ApiCallback.id).order_by(ApiCallback.id)))
    receiver.hold_event = events[MESSAGES // 2]  # the worker will be killed while this one is in flight
    worker = start_worker(db)
    try:
        wait_until(receiver.held.is_set, 60, "the held callback to arrive")
        # Delivery reports go on arriving while the callback is held; kill the worker once they
        # have all been applied (a simulated report due when it dies dies with it).
        wait_until(lambda: _all_received(db, ids), 60, "every SMS received")
        worker.send_signal(signal.SIGKILL)
        worker.wait()
        with db.session() as s:  # the killed worker's lease runs out (60 s, not waited for here)
            s.execute(update(ApiCallback).where(ApiCallback.delivered_at.is_(None)).values(next_attempt_at=utcnow()))
        worker = start_worker(db)
        wait_until(lambda: not pending_callbacks(db), 90, "every callback delivered")
    finally:
        worker.terminate()
        worker.wait(timeout=15)
        receiver.close()

    with db.session() as s:
        every_event = set(s.scalars(select(ApiCallback.id)))
    got = receiver.delivered()
    first_copies = {}
    for r in got:
        first_copies.setdefault(r.event_id, r)
    assert set(first_copies) == every_event  # at least once each
    assert sum(r.event_id == receiver.hold_event for r in receiver.received) >= 2  # the one in flight, again
    for message_id in ids:
        statuses = [
            first_copies[e].payload["message"]["status"]
            for e in sorted(first_copies)
            if first_copies[e].payload["message"]["id"] == message_id
        ]
        assert statuses == ["unknown", "accepted", "received"], (message_id, statuses)


def _all_received(db, ids) -> bool:
    with db.session() as s:
        statuses = s.scalars(select(SmsMessage.status).where(SmsMessage.id.in_(ids))).all()
    return all(status == SmsStatus.RECEIVED for status in statuses)
