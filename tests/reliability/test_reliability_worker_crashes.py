"""Workers killed at random while they dispatch and handle reports, again and again: no SMS is
sent twice and none is lost.  Submissions are counted on the gateway's side (what Kannel's fake
SMSC received), not by our own bookkeeping."""

import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections import Counter

import pytest
from sqlalchemy import func, select
from support import ReportServer, free_ports

from sms_core.config import PROJECT_ROOT
from sms_core.demo.seed import seed_demo
from sms_core.domain.statuses import SmsStatus as S
from sms_core.gateways.kannel import KannelGateway
from sms_core.storage.models import DispatchState, SmsMessage
from sms_core.use_cases.accounts import load_actor
from sms_core.use_cases.message_lifecycle import OUTCOME_UNKNOWN
from sms_core.use_cases.sending import send_sms

pytestmark = pytest.mark.kannel
KILLS = int(os.environ.get("RELIABILITY_KILLS", "100"))
WORKERS = 3


class WorkerPool:
    """Worker processes, as `python -m sms_core worker` runs them in production."""

    def __init__(self, env: dict[str, str]):
        self.env = env
        self.processes: list[subprocess.Popen] = [self._start() for _ in range(WORKERS)]
        self.kills = 0

    def _start(self) -> subprocess.Popen:
        env = {**self.env, "SMS_WEBHOOK_PORT": str(free_ports()[0])}
        return subprocess.Popen(
            [sys.executable, "-m", "sms_core", "worker"],
            cwd=PROJECT_ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def kill_one(self, rng: random.Random) -> None:
        index = rng.randrange(len(self.processes))
        self.processes[index].send_signal(signal.SIGKILL)
        self.processes[index].wait()
        self.kills += 1
        self.processes[index] = self._start()

    def stop(self) -> None:
        for process in self.processes:
            process.terminate()
        for process in self.processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()


def unsettled(db) -> int:
    with db.session() as s:
        return s.scalar(
            select(func.count())
            .select_from(SmsMessage)
            .where(
                SmsMessage.dispatch_state.in_([DispatchState.QUEUED, DispatchState.CLAIMED, DispatchState.SUBMITTING])
            )
        )


def test_killed_workers_never_send_twice_and_lose_nothing(pg_db, kannel, reliability):
    seed_demo(pg_db, messages=0)
    staff = load_actor(pg_db, "staff")
    webhook = ReportServer(pg_db, KannelGateway(kannel.sendsms_url, kannel.username, kannel.password))
    pool = WorkerPool(
        {
            **os.environ,
            "DATABASE_URL": pg_db.url.render_as_string(hide_password=False),
            "SMS_GATEWAY": "kannel",
            "KANNEL_SENDSMS_URL": kannel.sendsms_url,
            "KANNEL_USERNAME": kannel.username,
            "KANNEL_PASSWORD": kannel.password,
            "KANNEL_TIMEOUT": "0.5",
            "SMS_SUBMIT_LEASE": "1",
            "SMS_PUBLIC_WEBHOOK_URL": webhook.url,
            "SMS_STATUS_CHECK_TIMEOUT": "3600",
        }
    )
    rng = random.Random(20261125)
    queued: list[int] = []
    stop_feeding = threading.Event()

    def feed():  # new messages keep arriving, so kills land mid-dispatch as well as mid-report
        while not stop_feeding.is_set():
            for _ in range(3):
                text = f"crash test #{len(queued)}"
                queued.append(send_sms(pg_db, staff, text=text, phone="+4741555123", submit=False).message.id)
            time.sleep(0.05)

    feeder = threading.Thread(target=feed, daemon=True)
    feeder.start()
    try:
        while pool.kills < KILLS:
            time.sleep(rng.uniform(0.05, 0.3))
            pool.kill_one(rng)
        stop_feeding.set()
        feeder.join()
        deadline = time.monotonic() + 60  # survivors finish the queue and recover abandoned claims
        while unsettled(pg_db) and time.monotonic() < deadline:
            time.sleep(0.5)
        time.sleep(1.5)  # let the last reports and fakesmsc's log catch up
    finally:
        stop_feeding.set()
        pool.stop()
        webhook.close()

    assert unsettled(pg_db) == 0, "every message was dispatched or recovered"
    received = Counter(m.text for m in kannel.fakesmsc_received())
    with pg_db.session() as s:
        messages = s.execute(select(SmsMessage.id, SmsMessage.text, SmsMessage.status, SmsMessage.gateway_error)).all()
    assert len(messages) == len(queued) and pool.kills >= KILLS
    duplicates = [text for text, n in received.items() if n > 1]
    assert duplicates == [], "no SMS reached the SMSC twice"
    unknown = submitted_once = 0
    for _, text, status, error in messages:
        if status is S.SENDING_FAILED and (error or "").startswith(OUTCOME_UNKNOWN):
            unknown += 1  # a person decides: it may or may not have gone out (0 or 1 submission)
            continue
        assert received[text] == 1, f"{text}: status {status.label} but {received[text]} submissions"
        assert status in (S.ACCEPTED, S.RECEIVED)
        submitted_once += 1
    reliability.record(
        "Worker crashes",
        faults_injected=pool.kills,
        messages_checked=len(messages),
        submissions=sum(received.values()),
        outcome_unknown=unknown,
        duplicates=len(duplicates),
        lost=len(queued) - submitted_once - unknown,
    )
    print(
        f"\nkills={pool.kills} messages={len(messages)} submitted={sum(received.values())} "
        f"outcome_unknown={unknown} duplicates=0 lost=0"
    )
