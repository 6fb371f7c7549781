"""Incoming SMS handled per second, beside the delivery reports (bench/worker.py).

A worker here is what the incoming-SMS route runs: one ``ReplyBatcher`` fed by many request
threads at once, as smsbox calls our route for each MO.  Every reply is real work: the dedupe
check, the newest message sent to the sender's number (the receiving number decides among them),
the reply row, the change announced — and one in ten is STOP, which looks for the number's
consents.  The messages answered are fresh "Accepted" ones made for the run, one per number, and
deleted afterwards with their replies.

The naive baseline is the same worker whose request threads each store their reply in a
transaction of their own (``receive_reply``), with no group commit.
"""

from __future__ import annotations

import multiprocessing
import secrets
import threading
import time
from datetime import datetime, timedelta

from sqlalchemy import delete, insert, select

from bench.timing import Result, Stats, check_min
from sms_core.config import Config
from sms_core.delivery.incoming import ReplyBatcher
from sms_core.domain.statuses import SmsStatus
from sms_core.gateways.base import IncomingMessage
from sms_core.storage.database import Database
from sms_core.storage.models import ContactPhone, DispatchState, SmsMessage, utcnow
from sms_core.storage.reply_models import IncomingSms
from sms_core.use_cases.replies import receive_reply

CALLERS = 64  # concurrent incoming-SMS requests per worker
MARK = "bench incoming sms"
OUR_SENDER = "OsloHelse"


def make_messages(db: Database, unit_id: int, count: int, sent_before: datetime, run: int) -> list[tuple[int, str]]:
    """``count`` accepted messages, each to a mobile number of its own that is no contact's (a
    STOP must not withdraw a seeded contact's consent)."""
    with db.session() as session:
        taken = set(session.scalars(select(ContactPhone.number)))
    numbers = (f"+474{run % 10}{i:06d}" for i in range(10**6))
    phones = [n for n in numbers if n not in taken][:count]
    rows = [
        dict(
            text=MARK,
            phone=phone,
            org_unit_id=unit_id,
            sent_on=sent_before - timedelta(seconds=i),
            status=SmsStatus.ACCEPTED,
            segments=1,
            gateway="kannel",
            dispatch_state=DispatchState.SUBMITTED,
            submitted_at=utcnow(),
            dlr_token=secrets.token_hex(8),
        )
        for i, phone in enumerate(phones)
    ]
    with db.session() as session:
        made = session.execute(insert(SmsMessage).returning(SmsMessage.id, SmsMessage.phone), rows).all()
    return [tuple(row) for row in made]


def remove_messages(db: Database, made: list[tuple[int, str]]) -> None:
    ids = [message_id for message_id, _ in made]
    with db.session() as session:
        for i in range(0, len(ids), 5000):
            chunk = ids[i : i + 5000]
            session.execute(delete(IncomingSms).where(IncomingSms.message_id.in_(chunk)))
            session.execute(delete(SmsMessage).where(SmsMessage.id.in_(chunk)))


def replies_for(made: list[tuple[int, str]], run: int) -> list[IncomingMessage]:
    now = utcnow()
    return [
        IncomingMessage(phone, "STOP" if i % 10 == 0 else "Takk, det passer!", OUR_SENDER, f"bench-{run}-{i}", now)
        for i, (_, phone) in enumerate(made)
    ]


def _worker_main(url: str, replies: list[IncomingMessage], batched: bool, callers: int, ready, go, results) -> None:
    db = Database(url)
    config = Config(database_url=url, incoming_secret="bench")
    batcher = ReplyBatcher(db, "kannel", config) if batched else None
    ready.wait()
    go.wait()
    started = time.perf_counter()

    def call(chunk):
        for sms in chunk:
            verdict = batcher.receive(sms) if batcher else receive_reply(db, "kannel", sms, config)
            if verdict.text != "received":
                raise AssertionError(f"incoming SMS from {sms.sender}: {verdict}")

    threads = [threading.Thread(target=call, args=(replies[i::callers],)) for i in range(callers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    results.put(time.perf_counter() - started)
    if batcher:
        batcher.close()
    db.dispose()


def run_round(url: str, per_worker: list[list[IncomingMessage]], batched: bool) -> float:
    context = multiprocessing.get_context("spawn")
    ready, go, results = context.Barrier(len(per_worker) + 1), context.Barrier(len(per_worker) + 1), context.Queue()
    processes = [
        context.Process(target=_worker_main, args=(url, replies, batched, CALLERS, ready, go, results))
        for replies in per_worker
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
    return sum(len(r) for r in per_worker) / (time.perf_counter() - started)


def measure_replies(
    db: Database, unit_id: int, sent_before: datetime, rounds: int, per_round: int, log=print
) -> list[Result]:
    """Rounds of fresh incoming SMS for one batched worker and the naive one."""
    url = db.url.render_as_string(hide_password=False)
    rates: dict[str, list[float]] = {"one": [], "naive": []}
    for i in range(rounds):
        for name, batched in (("one", True), ("naive", False)):
            count = per_round if batched else max(per_round // 4, 500)
            made = make_messages(db, unit_id, count, sent_before, i)
            try:
                rates[name].append(run_round(url, [replies_for(made, i)], batched))
            finally:
                remove_messages(db, made)
        log(f"  round {i + 1}: " + ", ".join(f"{k} {v[-1]:,.0f}/s" for k, v in rates.items()))
    ours = Stats(tuple(rates["one"]), unit="/s")
    return [
        Result(
            "incoming SMS",
            "handled per second, one worker",
            ours,
            Stats(tuple(rates["naive"]), unit="/s"),
            target="≥ 1,000/s",
            met=check_min(ours, 1000),
            note=f"{CALLERS} concurrent requests; {per_round:,} replies a round, one in ten STOP",
        )
    ]
