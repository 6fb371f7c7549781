"""POST /api/v1/sms with a key the API has seen before: answered from memory, while the batch that
records the send still refuses a revoked key and keeps "last used" up to date (issue 14)."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

from sqlalchemy import event, func, select, update

from sms_core.config import DEFAULTS
from sms_core.delivery.api.app import ApiContext
from sms_core.delivery.api.sends import SendBatcher
from sms_core.domain.setting_definitions import API_REQUESTS_PER_MINUTE
from sms_core.storage.api_models import ApiKey
from sms_core.storage.models import SmsMessage, utcnow
from sms_core.use_cases.settings import get_settings

NUMBER = "+4741555123"
PROJECT_ROOT = Path(__file__).resolve().parents[2]


def send(api, reference):
    return api.call("POST", "/api/v1/sms", {"to": NUMBER, "text": "Påminnelse", "reference": reference})


def recorded(api, reference) -> int:
    with api.db.session() as s:
        return s.scalar(select(func.count()).select_from(SmsMessage).where(SmsMessage.reference == reference))


def revoke_from_another_process(api) -> None:
    """As an administrator does it, from the app's process: this process's memory is not told."""
    url = api.db.url.render_as_string(hide_password=False)
    done = subprocess.run(
        [sys.executable, "-m", "sms_core", "api-keys", "revoke", str(api.key_id)],
        cwd=PROJECT_ROOT,
        env={**os.environ, "DATABASE_URL": url},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0 and "is revoked" in done.stdout, done.stderr


def test_a_key_revoked_after_it_sent_is_refused_on_its_next_send_and_records_nothing(api):
    assert send(api, "before-1")[0] == 201  # the key is checked against the database, and remembered
    assert send(api, "before-2")[0] == 201  # from memory
    revoke_from_another_process(api)
    status, problem, headers = send(api, "after")
    assert status == 401 and problem["status"] == 401 and problem["title"] == "Unauthorized"
    assert "unrevoked" in problem["detail"] and problem["field"] == "Authorization"
    assert headers["Content-Type"] == "application/problem+json"
    assert headers["WWW-Authenticate"] == 'Bearer realm="sms"'
    assert recorded(api, "after") == 0
    assert send(api, "after-again")[0] == 401 and recorded(api, "after-again") == 0
    assert api.call("GET", "/api/v1/sms")[0] == 401  # the other routes never took it from memory


def test_last_used_is_written_for_a_key_answered_from_memory(api):
    assert send(api, "first")[0] == 201
    long_ago = utcnow() - timedelta(minutes=5)
    with api.db.session() as s:
        s.execute(update(ApiKey).where(ApiKey.id == api.key_id).values(last_used_at=long_ago))
    assert send(api, "second")[0] == 201
    with api.db.session() as s:
        last_used = s.scalar(select(ApiKey.last_used_at).where(ApiKey.id == api.key_id))
    assert last_used > long_ago and utcnow() - last_used < timedelta(minutes=1)


def test_a_burst_with_repeated_idempotency_keys_and_unknown_contacts_records_every_other_send(api):
    plain = [({"to": NUMBER, "text": "Hei", "reference": f"mix-{i}"}, {}) for i in range(10)]
    repeats = [({"to": NUMBER, "text": "Hei", "reference": "mix-key"}, {"Idempotency-Key": "mix-42"})] * 5
    strangers = [({"contact": {"external_id": f"nobody-{i}"}, "text": "Hei"}, {}) for i in range(5)]
    with ThreadPoolExecutor(20) as pool:
        answers = list(
            pool.map(lambda c: api.call("POST", "/api/v1/sms", c[0], headers=c[1]), plain + repeats + strangers)
        )
    assert [status for status, _, _ in answers[:15]] == [201] * 15
    assert len({answer["id"] for _, answer, _ in answers[10:15]}) == 1
    assert len({answer["id"] for _, answer, _ in answers[:11]}) == 11
    assert all(s == 422 and p["field"] == "contact.external_id" for s, p, _ in answers[15:])
    with api.db.session() as s:
        stored = s.scalars(select(SmsMessage.reference).where(SmsMessage.reference.like("mix-%"))).all()
    assert sorted(stored) == sorted([f"mix-{i}" for i in range(10)] + ["mix-key"])


def test_requests_that_find_the_rate_limit_setting_stale_together_read_it_once(demo_base_db):
    """Every few seconds the setting is read again; the sends in flight then wait for one read,
    not one read (and one worker thread) each."""
    reads = []

    def count(conn, cursor, statement, *args):
        if "FROM settings" in statement:
            reads.append(statement)

    async def burst(ctx):
        return await asyncio.gather(*(ctx.per_minute_soon() for _ in range(20)))

    ctx = ApiContext(demo_base_db, DEFAULTS, SendBatcher(demo_base_db))
    event.listen(demo_base_db.engine, "before_cursor_execute", count)
    try:
        first = _in_a_loop_of_its_own(burst(ctx))
        second = _in_a_loop_of_its_own(burst(ctx))  # within SETTINGS_FOR: from memory
    finally:
        event.remove(demo_base_db.engine, "before_cursor_execute", count)
        ctx.sends.close()
    assert first == second == [int(get_settings(demo_base_db)[API_REQUESTS_PER_MINUTE])] * 20
    assert len(reads) == 1


def _in_a_loop_of_its_own(coroutine):
    """asyncio.run on a thread of its own, as the served app's event loop runs: in the whole suite
    this thread may already hold a running loop (Playwright's sync API leaves one behind)."""
    with ThreadPoolExecutor(1) as thread:
        return thread.submit(asyncio.run, coroutine).result()
