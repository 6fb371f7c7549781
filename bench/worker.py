"""Delivery reports applied per second, by one worker process and by two.

A worker here is what ``python -m sms_core worker`` runs for the webhook: one ``ReportBatcher``
fed by many request threads at once (the webhook server answers each callback on its own
thread).  Each worker is a separate process, so two workers really are two Pythons and two sets
of database connections, as two replicas would be.  The messages are fresh "Accepted" ones made
for the run (and deleted afterwards), each report moves one to "Received", so every report is
real work: lock, check the token, change the status, add the status event, keep the roll-up,
announce the change.

The naive baseline is one worker whose request threads each apply their report in a transaction
of their own (``apply_delivery_report``), with no group commit.
"""

from __future__ import annotations

import multiprocessing
import secrets
import threading
import time
from datetime import datetime, timedelta

from sqlalchemy import delete, insert

from bench.timing import Result, Stats, check_min
from sms_core.delivery.reports import ReportBatcher
from sms_core.domain.statuses import SmsStatus
from sms_core.gateways.base import DeliveryReportKind
from sms_core.storage.database import Database
from sms_core.storage.models import DispatchState, SmsMessage, utcnow
from sms_core.use_cases.message_lifecycle import DeliveryReport, apply_delivery_report

CALLERS = 64  # concurrent webhook requests per worker
MARK = "bench delivery report"  # the text of the messages made for this part, to delete them after


def make_messages(db: Database, unit_id: int, count: int, sent_before: datetime) -> list[tuple[int, str]]:
    """``count`` messages accepted by the gateway and waiting for their delivery report."""
    rows = [
        dict(
            text=MARK,
            phone="+4791234567",
            org_unit_id=unit_id,
            sent_on=sent_before - timedelta(seconds=i),
            status=SmsStatus.ACCEPTED,
            segments=1,
            gateway="simulated",
            dispatch_state=DispatchState.SUBMITTED,
            submitted_at=utcnow(),  # handed over now: reports for it count (SMS_REPORT_MAX_AGE), however old the seed
            dlr_token=secrets.token_hex(8),
            gateway_message_id=f"bench-{i}",
        )
        for i in range(count)
    ]
    with db.session() as session:
        made = session.execute(insert(SmsMessage).returning(SmsMessage.id, SmsMessage.dlr_token), rows).all()
    return [tuple(row) for row in made]


def remove_messages(db: Database, made: list[tuple[int, str]]) -> None:
    """Leave the bench database as it was seeded (the triggers take them out of the roll-up)."""
    ids = [message_id for message_id, _ in made]
    with db.session() as session:
        for i in range(0, len(ids), 5000):
            session.execute(delete(SmsMessage).where(SmsMessage.id.in_(ids[i : i + 5000])))


def _worker_main(url: str, reports: list[tuple[int, str]], batched: bool, callers: int, ready, go, results) -> None:
    """One worker process: ``callers`` threads apply ``reports``, through the batcher or one by one."""
    db = Database(url)  # the default pool (5 + 10 overflow), as the worker process has
    batcher = ReportBatcher(db) if batched else None
    apply_delivery_report(db, 0, "warm-up", DeliveryReportKind.DELIVERED)  # connect, prepare: unknown id, refused
    chunks = [reports[i::callers] for i in range(callers)]
    ready.wait()  # every process is connected and ready
    go.wait()
    started = time.perf_counter()

    def call(chunk):
        for message_id, token in chunk:
            if batcher:
                verdict = batcher.apply(DeliveryReport(message_id, token, DeliveryReportKind.DELIVERED))
            else:
                verdict = apply_delivery_report(db, message_id, token, DeliveryReportKind.DELIVERED)
            if verdict.text != "applied":
                raise AssertionError(f"report for {message_id}: {verdict}")

    threads = [threading.Thread(target=call, args=(chunk,)) for chunk in chunks]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    results.put(time.perf_counter() - started)
    db.dispose()


def run_round(url: str, per_worker: list[list[tuple[int, str]]], batched: bool, callers: int = CALLERS) -> float:
    """Start the workers, release them together, and return reports applied per second."""
    context = multiprocessing.get_context("spawn")
    ready, go, results = context.Barrier(len(per_worker) + 1), context.Barrier(len(per_worker) + 1), context.Queue()
    processes = [
        context.Process(target=_worker_main, args=(url, reports, batched, callers, ready, go, results))
        for reports in per_worker
    ]
    for process in processes:
        process.start()
    ready.wait()
    started = time.perf_counter()
    go.wait()
    for process in processes:
        process.join()
        if process.exitcode:
            raise AssertionError(f"a bench worker failed (exit code {process.exitcode})")
    elapsed = time.perf_counter() - started
    return sum(len(r) for r in per_worker) / elapsed


def measure_throughput(
    db: Database, unit_ids: list[int], sent_before: datetime, rounds: int, per_round: int, log=print
) -> list[Result]:
    """Rounds of fresh reports for one batched worker, two batched workers, and the naive worker."""
    url = db.url.render_as_string(hide_password=False)
    rates: dict[str, list[float]] = {"one": [], "two": [], "naive": []}
    for i in range(rounds):
        for name, workers, batched in (("one", 1, True), ("two", 2, True), ("naive", 1, False)):
            count = per_round if batched else max(per_round // 4, 500)
            made = make_messages(db, unit_ids[i % len(unit_ids)], count, sent_before)
            try:
                rates[name].append(run_round(url, [made[w::workers] for w in range(workers)], batched))
            finally:
                remove_messages(db, made)
        log(f"  round {i + 1}: " + ", ".join(f"{k} {v[-1]:,.0f}/s" for k, v in rates.items()))
    naive = Stats(tuple(rates["naive"]), unit="/s")
    return [
        Result(
            "delivery reports",
            "applied per second, one worker",
            Stats(tuple(rates["one"]), unit="/s"),
            naive,
            target="≥ 2,000/s",
            met=check_min(Stats(tuple(rates["one"]), unit="/s"), 2000),
            note=f"{CALLERS} concurrent webhook requests; {per_round:,} reports a round",
        ),
        Result(
            "delivery reports",
            "applied per second, two workers",
            Stats(tuple(rates["two"]), unit="/s"),
            naive,
            note="two processes on the same 2 CPUs as PostgreSQL; baseline: one naive worker",
        ),
    ]
