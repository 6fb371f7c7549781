"""The count above the overview's table, never waited for longer than a budget.

Why it works like this:
- Counting the matches of a common word in a large unit cannot be made fast by an index alone:
  "prescription" in the busiest unit takes about 27 ms at a million messages and 1.8 s at ten
  million, against a page of rows that takes a few milliseconds (it stops at the first 50 matches).
  The page must not wait for it, and must not show a figure that is not true.
- So the count runs on a thread of its own, and the page waits for it at most ``COUNT_BUDGET``.
  In time, it shows the exact (or capped) figure; otherwise what it knows for certain — the rows
  it has just listed — as a lower bound ("at least 50"), and the table's next tick shows the exact
  figure once it has arrived.  A page with fewer rows than fit is its own exact count.
- One count per (units, filter) runs at a time, however many sessions and ticks ask for it, so a
  slow filter never piles up queries; a count made before the data changed (the change watcher's
  version) is never shown as the current one, and a new one starts when it ends.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, replace

from sms_core.domain.permissions import Actor, Permission
from sms_core.read_models.message_count import MessageCount
from sms_core.read_models.overview import COUNT_CAP, OverviewFilter, Sort, count_messages, visible_units
from sms_core.storage.database import Database

COUNT_BUDGET = 0.015  # seconds the page waits for a count: inside the overview's 30 ms, even on a busy machine


@dataclass
class _Job:
    version: object  # the data version the count was started at
    future: Future[MessageCount]


def known_count(known: int, cap: int = COUNT_CAP, settled: bool = True) -> MessageCount:
    """``known`` rows exactly (settled) or at least (not), said the way the cap says it."""
    if known > cap:
        return MessageCount(cap, capped=True)
    return MessageCount(known, capped=False, settled=settled)


class BackgroundCounts:
    """The counts of one process: started on demand, shared by every session that asks."""

    def __init__(self, workers: int = 2, keep: int = 256):
        self._pool = ThreadPoolExecutor(workers, thread_name_prefix="sms-count")
        self._jobs: OrderedDict[tuple, _Job] = OrderedDict()
        self._lock = threading.Lock()
        self._keep = keep

    def count(
        self,
        db: Database,
        actor: Actor,
        f: OverviewFilter,
        version: object,
        known: int = 0,
        budget: float = COUNT_BUDGET,
        cap: int = COUNT_CAP,
    ) -> MessageCount:
        """The figure to show now, for data at ``version``: exact (or capped) if it is had within
        ``budget`` seconds, else "at least ``known``" (rows the caller has seen match)."""
        actor.require(Permission.VIEW_SMS)
        job = self._job(db, actor, f, version, cap)
        if job.version == version:
            try:
                return job.future.result(timeout=budget)
            except FutureTimeout:
                pass
        return known_count(known, cap, settled=False)

    def for_page(
        self,
        db: Database,
        actor: Actor,
        f: OverviewFilter,
        version: object,
        page: int,
        page_size: int,
        rows: int,
        budget: float = COUNT_BUDGET,
    ) -> MessageCount:
        """The count shown under page ``page`` that listed ``rows`` rows: a page with fewer rows
        than fit is the last one, so it is the count; else ``count`` with the rows seen as known."""
        known = (page - 1) * page_size + rows
        if rows < page_size and (rows or page == 1):
            actor.require(Permission.VIEW_SMS)
            return known_count(known)
        return self.count(db, actor, f, version, known=known, budget=budget)

    def wait(self, db: Database, actor: Actor, f: OverviewFilter, cap: int = COUNT_CAP) -> MessageCount | None:
        """Block until the count running for this filter (if any) ends; its figure."""
        actor.require(Permission.VIEW_SMS)
        with self._lock:
            job = self._jobs.get(self._key(db, actor, f, cap))
        return None if job is None else job.future.result()

    def _key(self, db: Database, actor: Actor, f: OverviewFilter, cap: int) -> tuple:
        # The count depends on the units read and the filter, not on its order or on who asks.
        return (db, visible_units(actor, f), replace(f, sort=Sort.SENT_ON_DESC), cap)

    def _job(self, db: Database, actor: Actor, f: OverviewFilter, version: object, cap: int) -> _Job:
        key = self._key(db, actor, f, cap)
        with self._lock:
            job = self._jobs.get(key)
            if job is None or (job.future.done() and (job.version != version or job.future.exception() is not None)):
                job = _Job(version, self._pool.submit(count_messages, db, actor, f, cap))
                self._jobs[key] = job
            self._jobs.move_to_end(key)
            while len(self._jobs) > self._keep:
                self._jobs.popitem(last=False)
        return job
