"""Retention at full size: anonymising the oldest tenth of the messages, and the overview meanwhile.

It runs on a copy of the bench database (``CREATE DATABASE … TEMPLATE``), since it removes the
texts the other parts search: the worker's own ``run_retention`` with its batch size, and, while
it runs, the overview's default view (page of rows and the count as the page gets it) read again
and again, as an open page would be.  Afterwards the daily roll-up and the delivery report are
compared with the ones before: retention must not move a single figure.
"""

from __future__ import annotations

import threading
import time
from datetime import date, timedelta

from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url

from bench.database import ADMIN_URL, admin_engine
from bench.timing import Result, Stats, check_max
from sms_core.delivery.retention import run_retention
from sms_core.domain.setting_definitions import RETENTION_EVENT_DETAIL_DAYS, RETENTION_MESSAGE_DAYS
from sms_core.read_models.delivery_rates import Period, delivery_report
from sms_core.read_models.overview import OverviewFilter, list_messages
from sms_core.read_models.overview_count import BackgroundCounts
from sms_core.storage.database import Database
from sms_core.storage.models import SmsMessage, utcnow
from sms_core.storage.rollup_models import DailyStatusCount
from sms_core.use_cases.accounts import load_actor
from sms_core.use_cases.settings import change_setting

# Keep 657 of the 730 days: the oldest tenth (100,000 messages at a million) is anonymised.  The
# rate is per row, so all of them would take ten times as long; a tenth keeps `make bench` short.
DAYS = 657


def _copy(db: Database, admin_url: str) -> Database:
    source = db.url.database
    target = f"{source}_retention"
    db.dispose()  # a template must have no connections
    engine = admin_engine(admin_url)
    try:
        with engine.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{target}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{target}" TEMPLATE "{source}"'))
    finally:
        engine.dispose()
    return Database(make_url(db.url).set(database=target).render_as_string(hide_password=False))


def _drop(copy: Database, admin_url: str) -> None:
    name = copy.url.database
    copy.dispose()
    engine = admin_engine(admin_url)
    try:
        with engine.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        engine.dispose()


def _figures(db: Database, admin, last_day: date):
    with db.session() as session:
        rollup = session.execute(
            select(*(func.sum(column) for column in DailyStatusCount.__table__.c), func.count())
        ).one()
    report = delivery_report(db, admin, Period(last_day - timedelta(days=89), last_day))
    return tuple(rollup), report.current, report.previous, report.units


def measure_retention(
    db: Database, lead, unit_id: int, last_day: date, rows: int, log, admin_url: str = ADMIN_URL
) -> list[Result]:
    log("  copying the database for retention…")
    copy = _copy(db, admin_url)
    try:
        admin = load_actor(copy, "admin")
        for key in (RETENTION_MESSAGE_DAYS, RETENTION_EVENT_DETAIL_DAYS):
            change_setting(copy, admin, key, DAYS)
        before = _figures(copy, admin, last_day)
        f = OverviewFilter(org_unit_ids={unit_id}, time_zone="Europe/Oslo")
        counts = BackgroundCounts()
        done = threading.Event()
        reports = []

        now = utcnow()

        def retention() -> None:
            try:
                reports.extend(run_retention(copy, now=now))
            finally:
                done.set()

        started = time.perf_counter()
        worker = threading.Thread(target=retention, name="bench-retention")
        worker.start()
        pages, shown, version = [], [], 0
        while not done.is_set():
            version += 1
            t0 = time.perf_counter()
            page = list_messages(copy, lead, f, page_size=100)
            t1 = time.perf_counter()
            counts.for_page(copy, lead, f, version, page=1, page_size=100, rows=len(page))
            t2 = time.perf_counter()
            pages.append((t1 - t0) * 1000)
            shown.append((t2 - t1) * 1000)
            counts.wait(copy, lead, f)
            done.wait(0.2)
        worker.join()
        seconds = time.perf_counter() - started
        messages = next(r for r in reports if r.target == "message texts and numbers")
        with copy.session() as session:
            left = session.scalar(
                select(func.count()).where(
                    SmsMessage.sent_on < now - timedelta(days=DAYS), SmsMessage.anonymised_at.is_(None)
                )
            )
        after = _figures(copy, admin, last_day)
        if after != before or left:
            raise AssertionError(f"retention changed a figure or left {left} rows: {before} → {after}")
        log(f"  anonymised {messages.rows:,} messages in {seconds:.0f} s ({messages.rows / seconds:,.0f}/s)")
    finally:
        _drop(copy, admin_url)
    limit = 30 if rows <= 1_000_000 else 60
    results = [
        Result(
            "retention",
            f"anonymising {messages.rows:,} messages (texts, numbers, contacts) and their status details",
            Stats((messages.rows / seconds,), unit="/s"),
            note=(
                f"{seconds:,.0f} s in batches of 500 (all {rows:,}: about {rows / messages.rows * seconds / 60:,.0f} min); "
                "every roll-up row and delivery-rate figure unchanged"
            ),
        )
    ]
    for what, samples in (("page of 100 rows", pages), ("count above the table", shown)):
        stats = Stats(tuple(samples))
        results.append(
            Result(
                "retention",
                f"while it runs: {what}, default view",
                stats,
                target=f"p95 ≤ {limit} ms",
                met=check_max(stats, limit),
                note=f"{len(samples)} reads during the run",
            )
        )
    return results
