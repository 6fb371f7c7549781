"""One report that cannot be stored must not take the reports it shares a batch with down with it:
a gateway does not retry a report answered 500, so those messages would never become Received.

Over HTTP, on SQLite and PostgreSQL: genuine reports, forged ids and reports the database refuses
(a trigger of the test's own stands in for whatever a database may refuse) arrive together and
are held back until they all sit in one batch."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import text
from support import ReportServer, accepting, http_call

from sms_core.domain.statuses import SmsStatus as S
from sms_core.gateways.simulated import SimulatedGateway
from sms_core.read_models.message_detail import get_message
from sms_core.storage.models import SmsMessage
from sms_core.use_cases.accounts import load_actor
from sms_core.use_cases.sending import send_sms

FORGED_IDS = ["9223372036854775808", "99999999999999999999999", "-1", "0", "abc", "1e3", "%EF%BC%91", ""]
SQLITE_POISON = (
    "CREATE TRIGGER poison BEFORE INSERT ON sms_status_events WHEN NEW.detail = 'poison' "
    "BEGIN SELECT RAISE(ABORT, 'poisoned report'); END",
)
POSTGRES_POISON = (
    "CREATE FUNCTION poison() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
    "IF NEW.detail = 'poison' THEN RAISE EXCEPTION 'poisoned report'; END IF; RETURN NEW; END $$",
    "CREATE TRIGGER poison BEFORE INSERT ON sms_status_events FOR EACH ROW EXECUTE FUNCTION poison()",
)


@pytest.fixture
def poisonable(demo_base_db):
    """The database refuses to record any event whose detail is "poison"."""
    statements = POSTGRES_POISON if demo_base_db.is_postgres else SQLITE_POISON
    with demo_base_db.engine.begin() as connection:
        for statement in statements:
            connection.execute(text(statement))
    yield demo_base_db
    with demo_base_db.engine.begin() as connection:
        connection.execute(
            text("DROP TRIGGER poison ON sms_status_events" if demo_base_db.is_postgres else "DROP TRIGGER poison")
        )
        if demo_base_db.is_postgres:
            connection.execute(text("DROP FUNCTION poison()"))


def accepted_messages(db, count: int) -> list[tuple[int, str]]:
    staff = load_actor(db, "staff")
    made = []
    for _ in range(count):
        message = send_sms(db, staff, text="report me", phone="+4741555123", gateway=accepting()).message
        with db.session() as s:
            made.append((message.id, s.get(SmsMessage, message.id).dlr_token))
    return made


def test_forged_and_poisoned_reports_fail_alone_and_every_genuine_one_is_applied(poisonable):
    db = poisonable
    staff = load_actor(db, "staff")
    first, *genuine = accepted_messages(db, 21)
    poisoned = accepted_messages(db, 3)
    server = ReportServer(db, SimulatedGateway())
    answers: dict[str, tuple[int, str]] = {}

    def report(name: str, query: str) -> None:
        answers[name] = http_call(f"{server.url}?{query}")

    def in_threads(calls: dict[str, str]) -> list[threading.Thread]:
        threads = [threading.Thread(target=report, args=item) for item in calls.items()]
        for thread in threads:
            thread.start()
        return threads

    try:
        with db.engine.connect() as blocker:  # holds the first batch until the rest are queued behind it
            blocker.execute(text(f"UPDATE sms_messages SET updated_at = updated_at WHERE id = {first[0]}"))
            held = in_threads({"first": f"id={first[0]}&token={first[1]}&type=delivered"})
            time.sleep(0.5)  # the batcher takes the first report and waits for the lock
            assert server.batcher._queue.qsize() == 0 and answers == {}, "the first report was not held"
            calls = {f"genuine {i}": f"id={m}&token={t}&type=delivered" for i, (m, t) in enumerate(genuine)}
            calls |= {f"poisoned {m}": f"id={m}&token={t}&type=undelivered&answer=poison" for m, t in poisoned}
            calls |= {f"forged {i}": f"id={raw}&token=x&type=delivered" for i, raw in enumerate(FORGED_IDS)}
            threads = in_threads(calls)
            deadline = time.monotonic() + 15
            queued = len(genuine) + len(poisoned)  # forged ids are refused before they reach the batcher
            while server.batcher._queue.qsize() < queued and time.monotonic() < deadline:
                time.sleep(0.02)
            time.sleep(0.2)
            assert server.batcher._queue.qsize() >= queued, "the reports did not queue up into one batch"
            blocker.rollback()
        for thread in [*held, *threads]:
            thread.join(timeout=30)
    finally:
        server.close()
    assert answers["first"] == (200, "applied")
    for i in range(len(genuine)):
        assert answers[f"genuine {i}"] == (200, "applied"), answers
    for i, raw in enumerate(FORGED_IDS):
        assert answers[f"forged {i}"] == (400, "missing or malformed id"), raw
    for message_id, _ in poisoned:
        assert answers[f"poisoned {message_id}"][0] == 500
        assert get_message(db, staff, message_id).status is S.ACCEPTED
    assert {get_message(db, staff, m).status for m, _ in [first, *genuine]} == {S.RECEIVED}
