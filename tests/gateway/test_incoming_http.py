"""The incoming-SMS route against the real served process (``python -m sms_core worker``):
only the secret from an allowed address is taken; a retry is stored once; forged, replayed,
oversized and malformed calls change nothing and are never answered 500."""

from __future__ import annotations

import http.client
from urllib.parse import urlencode

import pytest
from sqlalchemy import func, select
from support import SmsProcess, accepted_messages, environment, free_ports, http_call

from sms_core.delivery.http import MAX_BODY, MAX_VALUE
from sms_core.delivery.incoming import INCOMING_PATH
from sms_core.demo.seed import seed_demo
from sms_core.storage.database import Database
from sms_core.storage.migrate import migrate
from sms_core.storage.reply_models import IncomingSms

SECRET = "s3cret-for-incoming-sms"
NUMBER = "+4741555123"  # what accepted_messages sends to


@pytest.fixture(scope="module")
def shared_db(tmp_path_factory):
    db = Database(f"sqlite:///{tmp_path_factory.mktemp('incoming') / 'sms.db'}")
    migrate(db)
    seed_demo(db, messages=0)
    yield db
    db.dispose()


@pytest.fixture(scope="module")
def worker(shared_db, tmp_path_factory):
    port = free_ports()[0]
    env = environment(
        DATABASE_URL=shared_db.url.render_as_string(hide_password=False),
        SMS_WEBHOOK_PORT=str(port),
        SMS_INCOMING_SECRET=SECRET,
        SMS_INCOMING_ALLOWED_ADDRESSES="127.0.0.1",
    )
    url = f"http://127.0.0.1:{port}{INCOMING_PATH}"
    process = SmsProcess(["worker"], env, tmp_path_factory.mktemp("logs") / "worker.log", url)
    yield url
    process.stop()
    assert "Traceback" not in process.log()


def stored(db) -> int:
    with db.session() as s:
        return s.scalar(select(func.count()).select_from(IncomingSms))


def query(**params: str) -> str:
    return urlencode({"secret": SECRET, "from": NUMBER, "text": "Takk!", "id": "kannel-1", **params})


def test_a_reply_is_stored_once_with_the_message_it_answers(shared_db, worker):
    [(message_id, _)] = accepted_messages(shared_db, 1, text="Timen din er i morgen")
    before = stored(shared_db)
    assert http_call(f"{worker}?{query(id='retry-me')}") == (200, "received")
    assert http_call(f"{worker}?{query(id='retry-me')}") == (200, "already received"), "Kannel's retry"
    assert stored(shared_db) == before + 1
    with shared_db.session() as s:
        reply = s.scalar(select(IncomingSms).where(IncomingSms.message_id == message_id))
    assert reply.text == "Takk!" and reply.sender == NUMBER


def from_address(url: str, source: str) -> int:
    """The status of a GET of ``url`` made from the loopback address ``source``."""
    rest = url.removeprefix("http://")
    host_port, _, path = rest.partition("/")
    host, _, port = host_port.partition(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=10, source_address=(source, 0))
    try:
        connection.request("GET", f"/{path}")
        return connection.getresponse().status
    finally:
        connection.close()


def test_forged_calls_change_nothing(shared_db, worker):
    before = stored(shared_db)
    assert http_call(f"{worker}?{query(secret='guess')}") == (403, "not allowed")
    assert http_call(f"{worker}?{query(secret=SECRET[:-1])}") == (403, "not allowed")
    assert http_call(f"{worker}?{urlencode({'from': NUMBER, 'text': 'no secret'})}") == (403, "not allowed")
    assert from_address(f"{worker}?{query(id='elsewhere')}", "127.0.0.2") == 403, "the right secret, not from Kannel"
    assert stored(shared_db) == before


@pytest.mark.parametrize(
    ("how", "expected"),
    [
        (dict(url=query(text="x" * (MAX_VALUE + 1))), 414),
        (dict(method="POST", data=b"text=" + b"x" * (MAX_BODY + 1)), 413),
        (dict(method="POST", data=b"a=1", headers={"Content-Length": "many"}), 400),
        (dict(method="POST", data=b"{}", headers={"Content-Type": "application/json"}), 415),
        (dict(url=urlencode({"secret": SECRET, "text": "who am I"})), 400),
        (dict(url=urlencode({"secret": SECRET, "from": NUMBER})), 400),
        (dict(method="HEAD"), 405),
    ],
)
def test_oversized_and_malformed_calls_are_refused(shared_db, worker, how, expected):
    before = stored(shared_db)
    url = f"{worker}?{how.pop('url', query(id=f'refused-{expected}'))}"
    status, _ = http_call(url, **how)
    assert status == expected
    assert stored(shared_db) == before


def test_odd_bytes_are_stored_as_text_not_an_error(shared_db, worker):
    status, _ = http_call(f"{worker}?secret={SECRET}&from=%2B4741555123&text=%FF%00Hei%zz&id=odd")
    assert status == 200
    with shared_db.session() as s:
        text = s.scalar(select(IncomingSms.text).where(IncomingSms.text.like("%Hei%")))
    assert text == "\ufffdHei%zz"
