"""Live updates: how soon an open overview notices a status change, and what idle ones cost.

The overview's table is a fragment that reruns every ``LIVE_SECONDS`` (pages/_overview_table.py) and
asks the process's ``ChangeWatcher`` for a version of its units; only a new version makes it
read rows again.  A page here is that loop without Streamlit around it: the same watcher call on
the same tick, the same re-read when the version moved.  (AppTest cannot tick a fragment, and
50 browser tabs would measure the browser more than the database.)

The naive baseline is the page that re-reads its rows and count on every tick to find out.
Queries are counted by the database itself: transactions committed in the bench database and
scans of the messages table (pg_stat_database, pg_stat_user_tables), plus ``ChangeWatcher.queries``.
pg_stat_statements would be finer, but it needs shared_preload_libraries and a server restart.
"""

from __future__ import annotations

import random
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import text

from bench.timing import Result, Stats, check_max
from bench.worker import make_messages, remove_messages
from sms_core.domain.permissions import Actor
from sms_core.gateways.base import DeliveryReportKind
from sms_core.read_models.overview import OverviewFilter, count_messages, list_messages, visible_units
from sms_core.storage.change_feed import ChangeWatcher
from sms_core.storage.database import Database
from sms_core.use_cases.message_lifecycle import apply_delivery_report

LIVE_SECONDS = 1.0  # pages/_overview_table.py: how often the table asks whether anything changed
IDLE_PAGES = 50


@dataclass
class Page:
    """One open overview: its filter and the version its rows were read at."""

    actor: Actor
    filter: OverviewFilter
    version: object = None
    reads: int = 0
    seen: list[float] = field(default_factory=list)  # when each new version was noticed

    def tick(self, db: Database, watcher: ChangeWatcher | None) -> None:
        """One fragment run: with the process's watcher, read rows only when the version moved;
        naive (no watcher), read them every time and compare."""
        watch = watcher is not None
        if watch:
            version = watcher.version(visible_units(self.actor, self.filter))
        else:
            count = count_messages(db, self.actor, self.filter)
            version = (
                count,
                tuple((r.id, r.status) for r in list_messages(db, self.actor, self.filter, page_size=100)),
            )
        if version != self.version:
            if self.version is not None:
                self.seen.append(time.perf_counter())
            if watch:
                count_messages(db, self.actor, self.filter)
                list_messages(db, self.actor, self.filter, page_size=100)
                self.reads += 1
            self.version = version


def _tick_forever(
    db: Database, pages: list[Page], watcher: ChangeWatcher | None, stop: threading.Event, workers: int
) -> None:
    """Every LIVE_SECONDS, run every page's fragment (on a few threads, as the server would)."""
    phase = random.random() * LIVE_SECONDS
    next_tick = time.perf_counter() + phase
    with ThreadPoolExecutor(workers) as pool:
        while not stop.is_set():
            stop.wait(max(0.0, next_tick - time.perf_counter()))
            list(pool.map(lambda p: p.tick(db, watcher), pages))
            next_tick += LIVE_SECONDS


def change_latency(
    db: Database, actor: Actor, unit_id: int, sent_before: datetime, samples: int, watcher: ChangeWatcher | None
) -> Stats:
    """Seconds from a delivery report (a status change) to the watching page noticing it."""
    page = Page(actor, OverviewFilter(org_unit_ids={unit_id}))
    made = make_messages(db, unit_id, samples, sent_before)
    stop = threading.Event()
    page.tick(db, watcher)
    ticker = threading.Thread(target=_tick_forever, args=(db, [page], watcher, stop, 1))
    ticker.start()
    latencies = []
    try:
        for message_id, token in made:
            time.sleep(random.uniform(0.3, 1.3))  # at a random moment of the page's tick
            seen = len(page.seen)
            t0 = time.perf_counter()
            apply_delivery_report(db, message_id, token, DeliveryReportKind.DELIVERED)
            while len(page.seen) == seen and time.perf_counter() - t0 < 10:
                time.sleep(0.002)
            latencies.append((page.seen[seen] - t0) * 1000 if len(page.seen) > seen else 10_000.0)
    finally:
        stop.set()
        ticker.join()
        remove_messages(db, made)
    return Stats(tuple(latencies))


def notify_latency(db: Database, unit_id: int, sent_before: datetime, samples: int, watcher: ChangeWatcher) -> Stats:
    """Milliseconds from a status change to the watcher's version moving (no page tick)."""
    made = make_messages(db, unit_id, samples, sent_before)
    latencies = []
    try:
        for message_id, token in made:
            before = watcher.version({unit_id})
            t0 = time.perf_counter()
            apply_delivery_report(db, message_id, token, DeliveryReportKind.DELIVERED)
            while watcher.version({unit_id}) == before and time.perf_counter() - t0 < 10:
                time.sleep(0.0005)
            latencies.append((time.perf_counter() - t0) * 1000)
            time.sleep(0.05)
    finally:
        remove_messages(db, made)
    return Stats(tuple(latencies))


def _database_activity(db: Database) -> tuple[int, int]:
    """(transactions, scans of sms_messages) so far in this database, flushed first."""
    with db.engine.connect() as conn:
        conn.execute(text("SELECT pg_stat_force_next_flush()"))
    time.sleep(0.1)
    with db.engine.connect() as conn:
        conn.execute(text("SELECT pg_stat_clear_snapshot()"))
        xacts = conn.scalar(
            text("SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = current_database()")
        )
        scans = conn.scalar(
            text("""SELECT coalesce(seq_scan, 0) + coalesce(idx_scan, 0) FROM pg_stat_user_tables
                                     WHERE relname = 'sms_messages'""")
        )
    return xacts, scans


def idle_cost(db: Database, pages: list[Page], watch: bool, watcher: ChangeWatcher, seconds: float, log=print) -> dict:
    """Database work per minute caused by ``pages`` open and idle for ``seconds`` (``watch``: through
    the process's ``watcher``; else naive)."""
    ticking_with = watcher if watch else None
    for page in pages:
        page.tick(db, ticking_with)  # opened: the first read is not idle cost
    time.sleep(11)  # backends flush their statistics within 10 s of going idle
    xacts0, scans0 = _database_activity(db)
    queries0 = watcher.queries
    stop = threading.Event()
    ticker = threading.Thread(target=_tick_forever, args=(db, pages, ticking_with, stop, 8))
    started = time.perf_counter()
    ticker.start()
    time.sleep(seconds)
    stop.set()
    ticker.join()
    elapsed = time.perf_counter() - started
    time.sleep(11)
    xacts1, scans1 = _database_activity(db)
    per_minute = 60 / elapsed
    own = 2  # _database_activity's own two transactions
    result = {
        "transactions_per_minute": max(0, xacts1 - xacts0 - own) * per_minute,
        "message_table_scans_per_minute": (scans1 - scans0) * per_minute,
        "watcher_queries_per_minute": (watcher.queries - queries0) * per_minute,
        "reads": sum(p.reads for p in pages),
    }
    log(f"  {'watcher' if watch else 'naive'}: {result}")
    return result


def measure_live(
    db: Database, actor: Actor, unit_id: int, sent_before: datetime, samples: int, idle_seconds: float, log=print
) -> list[Result]:
    watcher = ChangeWatcher(db)  # the process's one watcher, as sms_core.bootstrap makes it
    try:
        ours = change_latency(db, actor, unit_id, sent_before, samples, watcher)
        theirs = change_latency(db, actor, unit_id, sent_before, max(samples // 2, 10), None)
        raw = notify_latency(db, unit_id, sent_before, samples, watcher)
        pages = lambda: [Page(actor, OverviewFilter(org_unit_ids={unit_id})) for _ in range(IDLE_PAGES)]  # noqa: E731
        idle_ours = idle_cost(db, pages(), True, watcher, idle_seconds, log)
        idle_naive = idle_cost(db, pages(), False, watcher, idle_seconds, log)
    finally:
        watcher.close()
    return [
        Result(
            "live updates",
            "status change → open overview notices it",
            ours,
            theirs,
            target="p95 ≤ 2 s",
            met=check_max(ours, 2000),
            note=f"page ticks every {LIVE_SECONDS:g} s; NOTIFY → watcher alone: median {raw.median:.1f} ms, "
            f"p95 {raw.p95:.1f} ms",
            extra={"notify_ms": raw.to_json()},
        ),
        Result(
            "live updates",
            f"{IDLE_PAGES} idle overviews: database transactions per minute",
            Stats((idle_ours["transactions_per_minute"],), unit="q/min"),
            Stats((idle_naive["transactions_per_minute"],), unit="q/min"),
            target="no table queries",
            met=idle_ours["message_table_scans_per_minute"] == 0,
            note=f"scans of sms_messages per minute: {idle_ours['message_table_scans_per_minute']:.0f} "
            f"(naive {idle_naive['message_table_scans_per_minute']:,.0f}); ChangeWatcher.queries: "
            f"{idle_ours['watcher_queries_per_minute']:.0f}",
            extra={"idle": {"ours": idle_ours, "naive": idle_naive}},
        ),
    ]
