"""Open dashboards and a steady stream of sends at once, on real PostgreSQL: nobody sees an error,
every send is one row and one submission, and the overview stays quick while statuses move.

Sessions are the calls the overview's live fragment makes (``pages/overview.py``, ``live_table``),
one thread per session, not AppTest instances: ``AppTest.run`` swaps process-wide state (it sets
``Runtime._instance`` and resets it to None when it finishes, resets ``PagesManager`` and patches
the config), so two AppTests running at once in one process break each other; and a whole script
run costs the test process far more CPU than the queries it causes, so on CI's two cores many of
them would measure Python rather than the database.  What the page does per tick is small and
reproduced here: a change-watcher version lookup (one watcher per process, shared by every
session as in the app) and, only when that version moved, ``count_messages`` plus
``list_messages`` for the session's filter.  The page's drawing is covered by
tests/pages/test_overview_page.py.

Sends go through ``send_sms`` as the Send SMS dialog calls it (an idempotency key, submitted at
once) and half of them as queued messages for the embedded worker, both with the simulated
gateway reporting delivery straight into the database — so the sessions see rows arrive and
statuses move while they poll.

Sizes come from the environment: ``RELIABILITY_LOAD_SESSIONS``, ``RELIABILITY_LOAD_SENDS_PER_SECOND``,
``RELIABILITY_LOAD_SECONDS`` and ``RELIABILITY_LOAD_HISTORY`` (messages seeded beforehand) — quick
defaults for ``make test``; ``make soak`` uses the issue's 50 sessions, 20 sends/s, 180 s over a
larger history.  The p95 bound (``RELIABILITY_LOAD_P95_MS``, 200 ms) is generous because CI's two
cores run every session thread, the sends, the worker and PostgreSQL at once (a query's time here
includes waiting for the GIL and a pooled connection), yet it still catches what load breaks:
sessions queueing for connections, reads blocked behind the writes.  The strict per-query targets
(30 ms at 1M rows) belong to ``make bench``, which measures the queries alone.
"""

from __future__ import annotations

import os
import threading
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from sqlalchemy import func, select

from sms_core.delivery.worker import start_in_background
from sms_core.demo.seed import seed_demo
from sms_core.domain.permissions import Actor
from sms_core.domain.statuses import SmsStatus
from sms_core.gateways.simulated import OutcomeMix, SimulatedGateway
from sms_core.read_models.overview import OverviewFilter, count_messages, list_messages, visible_units
from sms_core.storage.change_feed import ChangeWatcher
from sms_core.storage.models import DispatchState, SmsMessage
from sms_core.use_cases.accounts import load_actor
from sms_core.use_cases.message_lifecycle import apply_delivery_report
from sms_core.use_cases.sending import send_sms

SESSIONS = int(os.environ.get("RELIABILITY_LOAD_SESSIONS", "10"))
SENDS_PER_SECOND = float(os.environ.get("RELIABILITY_LOAD_SENDS_PER_SECOND", "5"))
SECONDS = float(os.environ.get("RELIABILITY_LOAD_SECONDS", "15"))
P95_BOUND_MS = float(os.environ.get("RELIABILITY_LOAD_P95_MS", "200"))  # a fifth of the live table's tick
HISTORY = int(os.environ.get("RELIABILITY_LOAD_HISTORY", "20000"))  # seeded messages the overview filters and pages
TICK = 1.0  # pages/overview.py LIVE_SECONDS: how often an open overview asks what changed
ZONE = "Europe/Oslo"
UNSETTLED = (DispatchState.QUEUED, DispatchState.CLAIMED, DispatchState.SUBMITTING)


@dataclass
class DashboardSession:
    """One open overview: its user, its filters, and what its polling cost."""

    actor: Actor
    filter: OverviewFilter
    timings_ms: list[float] = field(default_factory=list)  # each count_messages / list_messages call
    errors: list[str] = field(default_factory=list)
    ticks: int = 0
    reads: int = 0  # ticks that re-read the table because the version moved

    def poll(self, db, watcher: ChangeWatcher, stop: threading.Event, offset: float) -> None:
        units = visible_units(self.actor, self.filter)
        shown = None
        due = time.monotonic() + offset  # sessions were opened at different moments
        while not stop.wait(max(0.0, due - time.monotonic())):
            due += TICK
            self.ticks += 1
            try:
                version = watcher.version(units)
                if version == shown:
                    continue
                for query in (count_messages, list_messages):
                    started = time.perf_counter()
                    query(db, self.actor, self.filter)
                    self.timings_ms.append((time.perf_counter() - started) * 1000)
                shown = version
                self.reads += 1
            except Exception as exc:  # the test's verdict, not the thread's end
                self.errors.append(f"{type(exc).__name__}: {exc}")


def sessions_for(db) -> list[DashboardSession]:
    """The views people keep open: their unit, all their units, failures, a search, another city."""
    staff, lead, admin, kari = (load_actor(db, name) for name in ("staff", "lead", "admin", "kari"))
    home = frozenset({staff.current_org_unit_id})
    views = [
        (staff, OverviewFilter(org_unit_ids=home, time_zone=ZONE)),
        (lead, OverviewFilter(time_zone=ZONE)),
        (admin, OverviewFilter(statuses=frozenset({SmsStatus.SENDING_FAILED, SmsStatus.REJECTED}), time_zone=ZONE)),
        (staff, OverviewFilter(org_unit_ids=home, text="load", time_zone=ZONE)),
        (kari, OverviewFilter(time_zone=ZONE)),  # Trondheim: nothing it shows changes
        (lead, OverviewFilter(phone="555", time_zone=ZONE)),
    ]
    return [DashboardSession(*views[i % len(views)]) for i in range(SESSIONS)]


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]


def unsettled(db, run: str) -> int:
    with db.session() as s:
        return s.scalar(
            select(func.count())
            .select_from(SmsMessage)
            .where(SmsMessage.text.like(f"load {run} %"), SmsMessage.dispatch_state.in_(UNSETTLED))
        )


def test_dashboards_and_sends_under_load(pg_db, reliability):
    seed_demo(pg_db, messages=HISTORY)
    staff = load_actor(pg_db, "staff")
    gateway = SimulatedGateway(
        OutcomeMix(0, 0, 0, 0), latency=0.5, seed=3, report_sink=lambda *report: apply_delivery_report(pg_db, *report)
    )
    stop_worker = start_in_background(pg_db, gateway)
    sessions = sessions_for(pg_db)
    watcher = ChangeWatcher(pg_db)  # one per process, shared by every open page, as in the app
    stop_sessions = threading.Event()
    pollers = [
        threading.Thread(target=s.poll, args=(pg_db, watcher, stop_sessions, TICK * i / SESSIONS), daemon=True)
        for i, s in enumerate(sessions)
    ]
    run = uuid.uuid4().hex[:6]
    send_errors: list[str] = []
    refused: list[str] = []

    def send(i: int) -> None:
        text = f"load {run} {i}"
        try:
            result = send_sms(
                pg_db,
                staff,
                text=text,
                phone="+4741555123",
                idempotency_key=f"load-{run}-{i}",
                gateway=gateway,
                submit=i % 2 == 0,
            )  # odd ones wait for the worker
            if not result.ok:
                refused.append(f"{text}: {result.summary}")
        except Exception as exc:
            send_errors.append(f"{text}: {type(exc).__name__}: {exc}")

    for poller in pollers:
        poller.start()
    total = int(SENDS_PER_SECOND * SECONDS)
    try:
        started = time.monotonic()
        with ThreadPoolExecutor(8) as senders:  # the pace is the clock's, however long one send takes
            for i in range(total):
                time.sleep(max(0.0, started + i / SENDS_PER_SECOND - time.monotonic()))
                senders.submit(send, i)
        send_seconds = time.monotonic() - started
        time.sleep(max(0.0, started + SECONDS - time.monotonic()))
        deadline = time.monotonic() + 30  # the worker's last round, then the last delivery reports
        while unsettled(pg_db, run) and time.monotonic() < deadline:
            time.sleep(0.3)
        gateway.drain(15)
    finally:
        stop_sessions.set()
        for poller in pollers:
            poller.join(timeout=30)
        stop_worker()
        watcher.close()

    session_errors = [e for s in sessions for e in s.errors]
    assert session_errors == [] and send_errors == [] and refused == []
    assert unsettled(pg_db, run) == 0, "every queued send was dispatched"
    with pg_db.session() as s:
        rows = Counter(
            dict(
                s.execute(
                    select(SmsMessage.text, func.count())
                    .where(SmsMessage.text.like(f"load {run} %"))
                    .group_by(SmsMessage.text)
                ).all()
            )
        )
        statuses = Counter(
            dict(
                s.execute(
                    select(SmsMessage.status, func.count())
                    .where(SmsMessage.text.like(f"load {run} %"))
                    .group_by(SmsMessage.status)
                ).all()
            )
        )
    sent = {f"load {run} {i}" for i in range(total)}
    assert set(rows) == sent and set(rows.values()) == {1}, "every send is exactly one row"
    # Ours only: the worker also dispatches what the seeded history left queued.
    submissions = Counter(sms.text for sms in gateway.submitted if sms.text in sent)
    duplicates = sum(n > 1 for n in submissions.values())
    lost = len(sent - set(submissions))
    assert duplicates == 0 and lost == 0, "every send reached the gateway exactly once"
    assert statuses == {SmsStatus.RECEIVED: total}, statuses
    watching_oslo = [s for s in sessions if staff.current_org_unit_id in visible_units(s.actor, s.filter)]
    assert all(s.reads > 1 for s in watching_oslo), "open overviews followed the new messages"
    timings = [t for s in sessions for t in s.timings_ms]
    overview_p95 = p95(timings)
    print(
        f"\nsessions={SESSIONS} sends={total} in {send_seconds:.1f}s queries={len(timings)} "
        f"p95={overview_p95:.1f}ms max={max(timings):.1f}ms ticks={sum(s.ticks for s in sessions)} "
        f"reads={sum(s.reads for s in sessions)}"
    )
    assert overview_p95 <= P95_BOUND_MS, f"overview queries p95 {overview_p95:.0f} ms under load"
    reliability.record(
        "Load",
        sessions=len(sessions),
        seconds=round(SECONDS),
        history=HISTORY,
        sends=total,
        sends_per_second=round(total / send_seconds, 1),
        errors=len(session_errors) + len(send_errors),
        overview_queries=len(timings),
        overview_p95_ms=round(overview_p95, 1),
        messages_checked=len(rows),
        lost=lost,
        duplicates=duplicates,
    )
