"""Retention on SQLite and PostgreSQL: a run interrupted twice — stopped between two batches, then
its process killed in the middle of one — and then finished leaves every figure as it was and no
personal data in what is older than the settings say.

"Figures" are what the delivery-rates page and the overview count: the daily roll-up, the
delivery report itself, and each message's status, unit, sent on, resent, segments and original.
"""

import os
import signal
import subprocess
import sys
import time
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select, update

from sms_core.delivery.retention import removed, run_retention
from sms_core.demo.seed import seed_demo
from sms_core.domain.errors import Conflict
from sms_core.domain.setting_definitions import RETENTION_EVENT_DETAIL_DAYS, RETENTION_MESSAGE_DAYS
from sms_core.domain.statuses import SmsStatus as S
from sms_core.read_models.delivery_rates import Period, delivery_report
from sms_core.read_models.overview import OverviewFilter, count_messages, list_messages
from sms_core.storage.models import DispatchState, SmsConsent, SmsMessage, StatusEvent
from sms_core.storage.retention_models import RetentionRun
from sms_core.storage.rollup_models import DailyStatusCount
from sms_core.use_cases.accounts import load_actor
from sms_core.use_cases.sending import resend_sms
from sms_core.use_cases.settings import change_setting

NOW = datetime(2026, 6, 30, 12, 0, tzinfo=UTC)
DAYS = 30  # of the seed's 60 days of history, about half is older than this


def figures(db):
    """Everything retention must leave exactly as it was."""
    admin = load_actor(db, "admin")
    with db.session() as s:
        rollup = sorted(s.execute(select(DailyStatusCount.__table__)).all())
        messages = s.execute(
            select(
                SmsMessage.id,
                SmsMessage.status,
                SmsMessage.org_unit_id,
                SmsMessage.sent_on,
                SmsMessage.resent,
                SmsMessage.segments,
                SmsMessage.original_id,
            ).order_by(SmsMessage.id)
        ).all()
        events = s.execute(select(StatusEvent.id, StatusEvent.status, StatusEvent.at).order_by(StatusEvent.id)).all()
        consents = s.execute(select(SmsConsent.__table__).order_by(SmsConsent.id)).all()
    report = delivery_report(db, admin, Period(date(2026, 4, 1), date(2026, 6, 30)), now=NOW)
    counts = count_messages(db, admin, OverviewFilter())
    return rollup, messages, events, consents, (report.current, report.previous, report.units, report.stuck), counts


def personal_data_left(db, cutoff):
    """Old messages that still carry a text, a whole number or a contact; their events' details."""
    with db.session() as s:
        texts = s.scalar(
            select(func.count()).where(
                SmsMessage.sent_on < cutoff,
                (SmsMessage.text != removed(DAYS))
                | (func.length(SmsMessage.phone) > 4)
                | SmsMessage.contact_id.is_not(None)
                | SmsMessage.anonymised_at.is_(None),
            )
        )
        details = s.scalar(
            select(func.count())
            .select_from(StatusEvent)
            .join(SmsMessage, SmsMessage.id == StatusEvent.message_id)
            .where(SmsMessage.sent_on < cutoff, StatusEvent.detail.is_not(None), StatusEvent.detail != removed(DAYS))
        )
    return texts, details


@pytest.fixture
def history(demo_base_db):
    db = demo_base_db
    seed_demo(db, messages=240, days=60, now=NOW)
    admin = load_actor(db, "admin")
    change_setting(db, admin, RETENTION_MESSAGE_DAYS, DAYS)
    change_setting(db, admin, RETENTION_EVENT_DETAIL_DAYS, DAYS)
    with db.session() as s:  # the seed settles every message; a real queue would not be empty
        s.execute(update(SmsMessage).values(dispatch_state=DispatchState.SETTLED))
    return db


def killed_mid_run(db) -> None:
    """Run retention in another process, slowly, and kill it (SIGKILL) once it has done some."""
    with db.session() as s:
        earlier = s.scalar(select(func.max(RetentionRun.id))) or 0
    script = (
        "import sys; from datetime import datetime; from sms_core.storage.database import Database; "
        "from sms_core.delivery.retention import run_retention; "
        "run_retention(Database(sys.argv[1]), now=datetime.fromisoformat(sys.argv[2]), batch_size=5, pause=0.3)"
    )
    url = db.url.render_as_string(hide_password=False)
    child = subprocess.Popen([sys.executable, "-c", script, url, NOW.isoformat()], env={**os.environ})
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with db.session() as s:
                done = s.scalar(select(func.max(RetentionRun.rows)).where(RetentionRun.id > earlier))
            if done and done >= 10:
                break
            time.sleep(0.05)
        else:
            raise AssertionError("the child never started anonymising")
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()


def test_a_run_interrupted_twice_then_finished_keeps_every_figure_and_no_personal_data(history):
    db, cutoff = history, NOW - timedelta(days=DAYS)
    before = figures(db)
    old_texts, old_details = personal_data_left(db, cutoff)
    assert old_texts > 50 and old_details > 50  # there is something to remove

    first = run_retention(db, now=NOW, batch_size=7, batches=2)  # stopped between two batches
    assert [r.finished for r in first] == [False, False] and first[0].rows == 14
    killed_mid_run(db)  # killed in the middle of a batch
    assert personal_data_left(db, cutoff)[0] < old_texts - 14
    last = run_retention(db, now=NOW, batch_size=7)

    assert all(r.finished for r in last)
    assert personal_data_left(db, cutoff) == (0, 0)
    assert figures(db) == before
    with db.session() as s:
        runs = s.execute(select(RetentionRun).order_by(RetentionRun.id)).scalars().all()
        anonymised = s.scalar(select(func.count()).where(SmsMessage.anonymised_at.is_not(None)))
        newer = s.execute(select(SmsMessage.text, SmsMessage.phone).where(SmsMessage.sent_on >= cutoff)).all()
    messages_runs = [r for r in runs if r.target == "message texts and numbers"]
    assert [r.finished_at is not None for r in messages_runs] == [False, False, True]  # two interrupted, one done
    assert sum(r.rows for r in messages_runs) == anonymised == old_texts  # every row counted once
    assert min(r.oldest for r in messages_runs) == min(m.sent_on for m in before[1])
    assert all(r.days == DAYS and r.cutoff == cutoff for r in runs)
    assert newer and all(t != removed(DAYS) and len(p or "") != 4 for t, p in newer)  # newer ones untouched
    assert run_retention(db, now=NOW) and personal_data_left(db, cutoff) == (0, 0)  # nothing left: a no-op


def test_anonymised_rows_show_plainly_in_the_overview(history):
    db = history
    run_retention(db, now=NOW)
    staff = load_actor(db, "staff")
    oldest = next(row for row in list_messages(db, staff, OverviewFilter(sort="sent_on_asc")) if row.phone)
    assert oldest.text == "[removed after 30 days]"
    assert oldest.phone.startswith("**") and len(oldest.phone) == 4 and oldest.phone_display == oldest.phone


def test_nothing_is_removed_while_the_settings_keep_it(demo_base_db):
    db = demo_base_db
    seed_demo(db, messages=60, days=60, now=NOW)
    assert run_retention(db, now=NOW) == []  # both settings are 0: keep for ever
    with db.session() as s:
        assert s.scalar(select(func.count()).where(SmsMessage.anonymised_at.is_not(None))) == 0
        assert s.scalar(select(func.count()).select_from(RetentionRun)) == 0


def test_a_message_still_on_its_way_to_the_gateway_is_kept_until_it_is_sent(history):
    db = history
    with db.session() as s:
        ordered = s.scalars(select(SmsMessage.id).order_by(SmsMessage.sent_on, SmsMessage.id)).all()
        waiting = ordered[10]
        s.execute(update(SmsMessage).where(SmsMessage.id == waiting).values(dispatch_state=DispatchState.QUEUED))
    [messages, _] = run_retention(db, now=NOW, batch_size=7)
    assert messages.rows == 10 and messages.finished  # the ten before it; the run stops there
    with db.session() as s:
        assert s.get(SmsMessage, waiting).anonymised_at is None
        s.execute(update(SmsMessage).where(SmsMessage.id == waiting).values(dispatch_state=DispatchState.SETTLED))
    run_retention(db, now=NOW, batch_size=7)
    assert personal_data_left(db, NOW - timedelta(days=DAYS))[0] == 0


def test_an_anonymised_message_cannot_be_resent(history):
    db = history
    run_retention(db, now=NOW)
    staff = load_actor(db, "staff")
    with db.session() as s:
        failed = s.scalar(
            select(SmsMessage.id)
            .where(
                SmsMessage.anonymised_at.is_not(None),
                SmsMessage.status == S.SENDING_FAILED,
                SmsMessage.org_unit_id.in_(staff.org_unit_ids),
            )
            .limit(1)
        )
    assert failed is not None
    with pytest.raises(Conflict, match="removed after the retention period"):
        resend_sms(db, staff, failed, submit=False)
