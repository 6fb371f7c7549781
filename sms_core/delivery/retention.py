"""Retention: personal data kept only as long as the organisation's settings say.

Why it works like this:
- Each kind of data is one ``Target`` (message texts and numbers, status-event details, replies):
  the setting that says how many days to keep it, and the batch that
  anonymises the next rows older than that.  A message keeps its status, org unit, sent on,
  resent, segments and link to its original, so every count and delivery rate stays exact: the
  daily roll-up's triggers (migration 0003) fire only when those columns change, and these
  batches change none of them.  Consent records are not touched: they prove what was allowed.
- Small batches, each its own short transaction, so no lock is held for long and the overview
  keeps its speed while a million rows are anonymised.  Each batch moves the target's position
  (``RetentionProgress``) in the same transaction as its rows, so a crash loses at most the
  batch it interrupted and the next run resumes where the last batch ended.
- Messages are taken oldest first along the (sent on, id) index, from the position on: a run
  never reads again what an earlier one finished.  Status-event details go by the age of their
  message (its events follow it within the status-check window).  A message still on its way to
  the gateway is never anonymised (the worker still needs its text and number): the run stops
  before it, and a later run goes on once it has been sent.
- One run at a time per database (a PostgreSQL advisory lock), however many workers there are;
  each run leaves an audit row (``RetentionRun``: what, how many rows, the oldest one's date), and
  a run that crashed is the row without an end.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import String, case, cast, func, literal, select, text, tuple_, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from sms_core.domain.errors import SmsError
from sms_core.domain.setting_definitions import (
    RETENTION_EVENT_DETAIL_DAYS,
    RETENTION_MESSAGE_DAYS,
    RETENTION_REPLY_DAYS,
)
from sms_core.storage.change_feed import mark_changed
from sms_core.storage.database import Database
from sms_core.storage.models import DispatchState, SmsMessage, StatusEvent, utcnow
from sms_core.storage.reply_models import IncomingSms
from sms_core.storage.retention_models import RetentionProgress, RetentionRun
from sms_core.use_cases.settings import get_settings

log = logging.getLogger(__name__)

BATCH = 500  # rows a transaction: a few milliseconds of row locks
RUN_EVERY = 300.0  # seconds between the worker's runs: retention is measured in days
ADVISORY_LOCK = 0x534D5352  # "SMSR": one retention run at a time per PostgreSQL database
IN_FLIGHT = (DispatchState.QUEUED, DispatchState.CLAIMED, DispatchState.SUBMITTING)


def removed(days: int) -> str:
    """What replaces an anonymised text or detail."""
    return f"[removed after {days} days]"


@dataclass(frozen=True)
class Batch:
    rows: int  # rows anonymised
    oldest: datetime | None  # the oldest of them
    more: bool  # there may be more to do now


@dataclass(frozen=True)
class Target:
    name: str  # as the audit trail names it
    setting: str  # days to keep; 0 keeps for ever
    batch: Callable[[Session, RetentionProgress, datetime, int, datetime, int], Batch]


_last_two = func.substr(SmsMessage.phone, func.length(SmsMessage.phone) - 1, 2)


def _older_messages(session: Session, progress: RetentionProgress, cutoff: datetime, size: int) -> list:
    """The next messages sent before ``cutoff``, oldest first from the target's position, up to the
    first one still on its way to the gateway (the worker still needs its text and number)."""
    query = select(SmsMessage.id, SmsMessage.sent_on, SmsMessage.org_unit_id, SmsMessage.dispatch_state).where(
        SmsMessage.sent_on < cutoff
    )
    if progress.position_at is not None:
        query = query.where(
            tuple_(SmsMessage.sent_on, SmsMessage.id) > (progress.position_at, progress.position_id)  # typed as the key
        )
    rows = session.execute(query.order_by(SmsMessage.sent_on, SmsMessage.id).limit(size)).all()
    settled = []
    for row in rows:
        if row.dispatch_state in IN_FLIGHT:
            break  # stop before it: a later run goes on from here once it has been sent
        settled.append(row)
    if settled:
        progress.position_at, progress.position_id = settled[-1].sent_on, settled[-1].id
    return settled


def _messages(session: Session, progress: RetentionProgress, cutoff: datetime, days: int, now: datetime, size: int):
    """Messages sent before ``cutoff``: text, number and contact removed."""
    older = _older_messages(session, progress, cutoff, size)
    if not older:
        return Batch(0, None, more=False)
    anonymised = session.execute(
        update(SmsMessage)
        .where(SmsMessage.id.in_([r.id for r in older]), SmsMessage.anonymised_at.is_(None))
        .values(
            text=removed(days),
            phone=case((func.length(SmsMessage.phone) > 2, literal("**", String) + _last_two), else_=SmsMessage.phone),
            contact_id=None,
            anonymised_at=now,
            updated_at=SmsMessage.updated_at,  # not a change of the message's own: its status time stays
        )
        .execution_options(synchronize_session=False)
    ).rowcount
    mark_changed(session, {r.org_unit_id for r in older})  # open overviews show the rows as they now are
    return Batch(anonymised, older[0].sent_on, more=len(older) == size)


def _event_details(
    session: Session, progress: RetentionProgress, cutoff: datetime, days: int, now: datetime, size: int
):
    """The status history of messages sent before ``cutoff``: each event's detail removed, its
    status and time kept.  Walked by message (events are not written in time order, and a
    message's events follow it within the status-check window)."""
    older = _older_messages(session, progress, cutoff, size)
    if not older:
        return Batch(0, None, more=False)
    anonymised = session.execute(
        update(StatusEvent)
        .where(
            StatusEvent.message_id.in_([r.id for r in older]),
            StatusEvent.detail.is_not(None),
            StatusEvent.detail != removed(days),
        )
        .values(detail=removed(days))
        .execution_options(synchronize_session=False)
    ).rowcount
    return Batch(anonymised, older[0].sent_on, more=len(older) == size)


def _replies(session: Session, progress: RetentionProgress, cutoff: datetime, days: int, now: datetime, size: int):
    """Incoming SMS received before ``cutoff``, oldest first: text, sender's number and contact
    removed, and the retry key (a hash of number and text) with them; the unit, the time, the
    message answered and whether it opted out stay, so the opt-out counts hold."""
    query = select(IncomingSms.id, IncomingSms.received_at, IncomingSms.org_unit_id).where(
        IncomingSms.received_at < cutoff
    )
    if progress.position_at is not None:
        query = query.where(
            tuple_(IncomingSms.received_at, IncomingSms.id) > (progress.position_at, progress.position_id)
        )
    older = session.execute(query.order_by(IncomingSms.received_at, IncomingSms.id).limit(size)).all()
    if not older:
        return Batch(0, None, more=False)
    progress.position_at, progress.position_id = older[-1].received_at, older[-1].id
    sender = IncomingSms.sender
    anonymised = session.execute(
        update(IncomingSms)
        .where(IncomingSms.id.in_([r.id for r in older]), IncomingSms.text != removed(days))
        .values(
            text=removed(days),
            sender=case(
                (func.length(sender) > 2, literal("**", String) + func.substr(sender, func.length(sender) - 1, 2)),
                else_=sender,
            ),
            contact_id=None,
            dedupe_key=literal("removed:", String) + cast(IncomingSms.id, String),
        )
        .execution_options(synchronize_session=False)
    ).rowcount
    mark_changed(session, {r.org_unit_id for r in older if r.org_unit_id is not None})  # the open Replies pages
    return Batch(anonymised, older[0].received_at, more=len(older) == size)


TARGETS: tuple[Target, ...] = (
    Target("message texts and numbers", RETENTION_MESSAGE_DAYS, _messages),
    Target("status-event details", RETENTION_EVENT_DETAIL_DAYS, _event_details),
    Target("replies", RETENTION_REPLY_DAYS, _replies),
)


@dataclass(frozen=True)
class RunReport:
    target: str
    days: int
    rows: int
    oldest: datetime | None
    finished: bool  # False: stopped after ``batches`` batches, to go on later


def run_retention(
    db: Database,
    now: datetime | None = None,
    batch_size: int = BATCH,
    batches: int | None = None,
    pause: float = 0.0,
    stop: threading.Event | None = None,
) -> list[RunReport]:
    """Anonymise what every target's setting says is too old; one audit row per target run.

    ``batches`` (for tests and a bounded round) stops a run after that many batches, as a crash
    between two batches would; ``pause`` seconds between batches leave the database to others."""
    now = now or utcnow()
    settings = get_settings(db)
    reports: list[RunReport] = []
    with _exclusive(db) as alone:
        if not alone:
            return reports  # another worker is running retention on this database
        for target in TARGETS:
            days = int(settings[target.setting])
            if days > 0:
                reports.append(_run(db, target, days, now, batch_size, batches, pause, stop))
    return reports


def _run(db, target: Target, days: int, now, batch_size, batches, pause, stop) -> RunReport:
    cutoff = now - timedelta(days=days)
    with db.session() as session:
        _ensure_progress(session, target.name)
        run = RetentionRun(target=target.name, days=days, cutoff=cutoff, started_at=utcnow(), rows=0)
        session.add(run)
        session.flush()
        run_id = run.id
    rows, oldest, done, finished = 0, None, 0, False
    while batches is None or done < batches:
        with db.session() as session:
            progress = session.get(RetentionProgress, target.name, with_for_update=True)
            batch = target.batch(session, progress, cutoff, days, now, batch_size)
            rows += batch.rows
            oldest = min(filter(None, (oldest, batch.oldest)), default=None)
            session.execute(update(RetentionRun).where(RetentionRun.id == run_id).values(rows=rows, oldest=oldest))
        done += 1
        if not batch.more:
            finished = True
            break
        if stop is not None and stop.wait(pause):
            break
        if stop is None and pause:
            time.sleep(pause)
    if finished:
        with db.session() as session:
            session.execute(update(RetentionRun).where(RetentionRun.id == run_id).values(finished_at=utcnow()))
    log.info("retention: %s older than %d days: %d rows%s", target.name, days, rows, "" if finished else " (stopped)")
    return RunReport(target.name, days, rows, oldest, finished)


def _ensure_progress(session: Session, target: str) -> None:
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    session.execute(insert(RetentionProgress).values(target=target, position_id=0).on_conflict_do_nothing())


@contextmanager
def _exclusive(db: Database) -> Iterator[bool]:
    """True while this run holds the database's retention lock (SQLite has one writer anyway)."""
    if not db.is_postgres:
        yield True
        return
    with db.engine.connect() as conn:
        held = conn.scalar(text("SELECT pg_try_advisory_lock(:key)"), {"key": ADVISORY_LOCK})
        conn.commit()
        try:
            yield bool(held)
        finally:
            if held:
                conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": ADVISORY_LOCK})
                conn.commit()


def retention_loop(db: Database, stop: threading.Event, every: float = RUN_EVERY, pause: float = 0.01) -> None:
    """The worker's retention thread: a run now and every ``every`` seconds, until ``stop``."""
    while not stop.is_set():
        try:
            run_retention(db, pause=pause, stop=stop)
        except SmsError as exc:  # database down: say so, try again at the next run
            log.warning("retention run failed: %s", exc.message)
        except Exception:
            log.exception("retention run failed")
        stop.wait(every)
