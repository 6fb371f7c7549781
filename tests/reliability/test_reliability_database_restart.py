"""PostgreSQL restarts under a running app and worker: a send during the outage is refused with a
clear message, everyone recovers without a restart of their own, nothing is half-written.

The server restarted is one of the test's own (``own_postgres``), never the machine's."""

import os
import subprocess
import sys
import time

import pytest
from sqlalchemy import func, select
from support import CERTAIN_DELIVERY, accepting

from sms_core.config import PROJECT_ROOT
from sms_core.demo.seed import seed_demo
from sms_core.domain.errors import DatabaseUnavailable
from sms_core.domain.statuses import SmsStatus as S
from sms_core.read_models.message_detail import get_message
from sms_core.storage.change_feed import ChangeWatcher
from sms_core.storage.database import Database
from sms_core.storage.migrate import migrate
from sms_core.storage.models import SmsMessage, StatusEvent
from sms_core.use_cases.accounts import load_actor
from sms_core.use_cases.sending import send_sms


def wait_until(check, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if check():
                return True
        except Exception:
            pass
        time.sleep(0.2)
    return False


@pytest.fixture
def restartable_db(own_postgres):
    """A migrated database on a server the test may stop and start."""
    database = Database(own_postgres.url)
    migrate(database)
    yield database
    database.dispose()


def test_app_and_worker_survive_a_postgres_restart(own_postgres, restartable_db, reliability):
    seed_demo(restartable_db, messages=0)
    staff = load_actor(restartable_db, "staff")
    gateway = accepting()
    watcher = ChangeWatcher(restartable_db)  # the process's one watcher, as sms_core.bootstrap makes it
    env = {
        **os.environ,
        "DATABASE_URL": restartable_db.url.render_as_string(hide_password=False),
        "SMS_WEBHOOK_PORT": "0",
        "SMS_SIMULATED_LATENCY": "0.2",
        **CERTAIN_DELIVERY,
    }
    worker = subprocess.Popen(
        [sys.executable, "-m", "sms_core", "worker"],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    restarts = 0
    try:
        before = send_sms(restartable_db, staff, text="before the outage", phone="+4741555123", gateway=gateway).message
        working = send_sms(restartable_db, staff, text="for the worker, before", phone="+4741555123", submit=False)
        assert wait_until(lambda: get_message(restartable_db, staff, working.message.id).status is S.RECEIVED, 60), (
            "the worker works before the outage"
        )
        own_postgres.stop()
        restarts += 1
        try:
            with pytest.raises(DatabaseUnavailable) as refused:
                send_sms(restartable_db, staff, text="during the outage", phone="+4741555123", gateway=gateway)
            assert "cannot be reached" in refused.value.message and "Try again" in refused.value.message
        finally:
            own_postgres.start()
        epoch = watcher.version(staff.org_unit_ids)
        assert wait_until(lambda: send_sms(restartable_db, staff, text="after", phone="+4741555123", gateway=gateway))
        queued = send_sms(restartable_db, staff, text="for the worker", phone="+4741555123", submit=False).message
        assert wait_until(lambda: get_message(restartable_db, staff, queued.id).status is S.RECEIVED), (
            "the worker recovered"
        )
        assert worker.poll() is None, "the worker kept running"
        assert wait_until(lambda: watcher.version(staff.org_unit_ids) != epoch), "the change listener reconnected"
        with restartable_db.session() as s:
            texts = list(s.scalars(select(SmsMessage.text)))
            orphans = s.scalar(
                select(func.count())
                .select_from(SmsMessage)
                .where(~select(StatusEvent.id).where(StatusEvent.message_id == SmsMessage.id).exists())
            )
        assert "during the outage" not in texts and orphans == 0
        assert get_message(restartable_db, staff, before.id).status is S.ACCEPTED
        reliability.record(
            "PostgreSQL restart", faults_injected=restarts, messages_checked=len(texts), half_written=orphans
        )
    finally:
        worker.terminate()
        worker.wait(timeout=10)
        watcher.close()
