"""Several servers at once on one PostgreSQL: the database, not luck, prevents double work."""

import threading
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import func, select, text
from support import accepting, refusing

from sms_core.delivery.worker import Worker
from sms_core.demo.seed import seed_demo
from sms_core.domain.errors import Conflict
from sms_core.domain.statuses import SmsStatus as S
from sms_core.storage.database import Database
from sms_core.storage.models import SmsMessage, StandardText
from sms_core.storage.rollup_daily import ALL_MESSAGES
from sms_core.storage.rollup_models import DailyStatusCount
from sms_core.use_cases.accounts import load_actor
from sms_core.use_cases.sending import resend_sms, send_sms

NUMBER = "+4741555123"


def test_fifty_concurrent_resends_make_exactly_one(pg_db, reliability):
    seed_demo(pg_db, messages=0)
    staff = load_actor(pg_db, "staff")
    failing = refusing(0, 1)
    original = send_sms(pg_db, staff, text="resend me", phone=NUMBER, gateway=failing).message
    gateway = accepting()
    barrier = threading.Barrier(50)
    servers = [Database(pg_db.url.render_as_string(hide_password=False)) for _ in range(4)]

    def click(i):
        barrier.wait()
        try:
            return resend_sms(servers[i % 4], staff, original.id, gateway=gateway).message.id
        except Conflict:
            return None

    with ThreadPoolExecutor(50) as pool:
        results = list(pool.map(click, range(50)))
    for server in servers:
        server.dispose()
    assert sum(r is not None for r in results) == 1
    assert len(gateway.submitted) == 1
    with pg_db.session() as s:
        resends = s.scalar(select(func.count()).select_from(SmsMessage).where(SmsMessage.original_id == original.id))
    assert resends == 1
    reliability.record(
        "Concurrency",
        concurrent_resends=len(results),
        resends_made=resends,
        refused_as_conflict=sum(r is None for r in results),
        submissions=len(gateway.submitted),
    )


def test_fifty_people_sending_at_once_are_all_recorded_without_a_deadlock(pg_db):
    """Every send writes the same roll-up rows (its unit's day, its sender, its standard text):
    the triggers take them in one order, so fifty at once wait for each other and never deadlock
    (with the narrow roll-ups this run lost most sends to "deadlock detected")."""
    seed_demo(pg_db, messages=0)
    staff = load_actor(pg_db, "staff")
    with pg_db.session() as s:
        texts = [None, *s.scalars(select(StandardText.id).order_by(StandardText.id).limit(2))]
    gateway, barrier = accepting(), threading.Barrier(50)
    servers = [Database(pg_db.url.render_as_string(hide_password=False)) for _ in range(4)]

    def person(i):
        barrier.wait()
        for n in range(4):
            text_id = texts[(i + n) % len(texts)]
            send_sms(
                servers[i % 4], staff, text=f"Hei {i}.{n}", phone=NUMBER, gateway=gateway, standard_text_id=text_id
            )

    with ThreadPoolExecutor(50) as pool:
        list(pool.map(person, range(50)))  # a deadlock would raise here
    for server in servers:
        server.dispose()
    with pg_db.session() as s:
        sent = s.scalar(select(func.count()).select_from(SmsMessage))
        rolled_up = s.scalar(select(func.sum(text(ALL_MESSAGES))).select_from(DailyStatusCount))
    assert sent == rolled_up == 200 and len(gateway.submitted) == 200


def test_two_workers_submit_each_queued_message_exactly_once(pg_db, reliability):
    seed_demo(pg_db, messages=0)
    staff = load_actor(pg_db, "staff")
    for i in range(1000):
        send_sms(pg_db, staff, text=f"queued {i}", phone=NUMBER, submit=False)
    gateways = [accepting() for _ in range(2)]
    servers = [Database(pg_db.url.render_as_string(hide_password=False)) for _ in range(2)]

    def work(n):
        worker = Worker(servers[n], gateways[n], batch=20)
        while worker.run_once()["dispatched"]:
            pass

    threads = [threading.Thread(target=work, args=(n,)) for n in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for server in servers:
        server.dispose()
    submitted = [sms.message_id for g in gateways for sms in g.submitted]
    assert len(submitted) == 1000 and len(set(submitted)) == 1000
    assert all(g.submitted for g in gateways), "both workers took a share"
    with pg_db.session() as s:
        statuses = s.execute(select(SmsMessage.status, func.count()).group_by(SmsMessage.status)).all()
    assert statuses == [(S.ACCEPTED, 1000)]
    reliability.record(
        "Concurrency",
        workers=len(gateways),
        messages_checked=len(set(submitted)),
        submissions=len(submitted),
        duplicates=len(submitted) - len(set(submitted)),
    )


def test_concurrent_double_submit_with_one_idempotency_key_sends_once(pg_db, reliability):
    seed_demo(pg_db, messages=0)
    staff = load_actor(pg_db, "staff")
    gateway = accepting()
    barrier = threading.Barrier(8)

    def click(_):
        barrier.wait()
        return send_sms(
            pg_db, staff, text="double", phone=NUMBER, idempotency_key="same-click", gateway=gateway
        ).message.id

    with ThreadPoolExecutor(8) as pool:
        clicks = list(pool.map(click, range(8)))
    ids = set(clicks)
    assert len(ids) == 1 and len(gateway.submitted) == 1
    reliability.record(
        "Concurrency", concurrent_clicks=len(clicks), messages=len(ids), submissions=len(gateway.submitted)
    )
