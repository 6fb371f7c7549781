"""One HTTP surface: the app (``python -m sms_core serve``) and the stand-alone worker
(``python -m sms_core worker``) serve the same routes from sms_core.delivery.http — both apply a
delivery report, both hold the same limits and keep serving after refusing a request, HEAD never
applies a report, and a callback URL nobody answers is said at start-up in one line."""

from __future__ import annotations

import json
import socket
import time

import pytest
from sqlalchemy import select
from support import CERTAIN_DELIVERY, SmsProcess, accepted_messages, environment, free_ports, http_call

from sms_core.config import Config
from sms_core.delivery.http import MAX_BODY, MAX_VALUE, REPORT_PATH, report_url
from sms_core.demo.seed import seed_demo
from sms_core.domain.statuses import SmsStatus as S
from sms_core.storage.database import Database
from sms_core.storage.migrate import migrate
from sms_core.storage.models import SmsMessage
from sms_core.use_cases.accounts import load_actor, unit_id_by_code
from sms_core.use_cases.api_keys import create_api_key


@pytest.fixture(scope="module")
def shared_db(tmp_path_factory):
    db = Database(f"sqlite:///{tmp_path_factory.mktemp('http') / 'sms.db'}")
    migrate(db)
    seed_demo(db, messages=0)
    yield db
    db.dispose()


@pytest.fixture(scope="module")
def servers(shared_db, tmp_path_factory):
    """The app and a stand-alone worker on one database, each started as a person starts it."""
    logs = tmp_path_factory.mktemp("logs")
    app_port, worker_port = free_ports(2)
    env = environment(
        DATABASE_URL=shared_db.url.render_as_string(hide_password=False),
        SMS_WEBHOOK_PORT=str(worker_port),
        **CERTAIN_DELIVERY,  # the API test asserts the message was handed over, not refused at random
    )
    app = SmsProcess(
        ["serve", "--port", str(app_port), "--address", "127.0.0.1"],
        env,
        logs / "app.log",
        f"http://127.0.0.1:{app_port}/_stcore/health",
    )
    worker = SmsProcess(["worker"], env, logs / "worker.log", f"http://127.0.0.1:{worker_port}{REPORT_PATH}")
    yield {
        "app": f"http://127.0.0.1:{app_port}",
        "worker": f"http://127.0.0.1:{worker_port}",
        "app log": app,
        "worker log": worker,
    }
    worker.stop()
    app.stop()


def status_of(db, message_id: int) -> S:
    with db.session() as s:
        return s.scalar(select(SmsMessage.status).where(SmsMessage.id == message_id))


@pytest.mark.parametrize("server", ["app", "worker"])
def test_a_report_over_http_moves_the_message(servers, shared_db, server):
    message_id, token = accepted_messages(shared_db, 1)[0]
    base = f"{servers[server]}{REPORT_PATH}?id={message_id}&token={token}"
    assert http_call(f"{base}&type=buffered") == (200, "recorded")
    assert status_of(shared_db, message_id) is S.ACCEPTED
    assert http_call(base, "POST", b"type=delivered&answer=DELIVRD") == (200, "applied")
    assert status_of(shared_db, message_id) is S.RECEIVED
    assert http_call(f"{servers[server]}{REPORT_PATH}?id={message_id}&token=forged&type=delivered")[0] == 403


@pytest.mark.parametrize("server", ["app", "worker"])
def test_head_never_applies_a_report(servers, shared_db, server):
    message_id, token = accepted_messages(shared_db, 1)[0]
    url = f"{servers[server]}{REPORT_PATH}?id={message_id}&token={token}&type=delivered"
    assert http_call(url, "HEAD")[0] == 405
    assert status_of(shared_db, message_id) is S.ACCEPTED
    assert http_call(url) == (200, "applied")


def raw_request(base: str, head: bytes, body: bytes = b"") -> int:
    """Send bytes as they are (urllib would fix the headers) and return the answer's status."""
    host, port = base.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as connection:
        connection.sendall(head + body)
        answer = b""
        while b"\r\n" not in answer:
            chunk = connection.recv(4096)
            if not chunk:
                break
            answer += chunk
    return int(answer.split(b" ", 2)[1])


@pytest.mark.parametrize("server", ["app", "worker"])
def test_limits_answer_4xx_and_the_server_keeps_serving(servers, shared_db, server):
    base = servers[server]
    message_id, token = accepted_messages(shared_db, 1)[0]
    report = f"{REPORT_PATH}?id={message_id}&token={token}"
    huge = b"answer=" + b"x" * (MAX_BODY + 10)
    assert http_call(f"{base}{report}", "POST", huge)[0] == 413
    chunked = b"".join(
        b"%x\r\n%s\r\n" % (len(part), part) for part in [huge[i : i + 8192] for i in range(0, len(huge), 8192)]
    )
    head = f"POST {report} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n".encode()
    assert raw_request(base, head, chunked + b"0\r\n\r\n") == 413, "no Content-Length: the body is still limited"
    bad_length = f"POST {report} HTTP/1.1\r\nHost: x\r\nContent-Length: ten\r\n\r\n".encode()
    assert raw_request(base, bad_length, b"type=delivered") == 400
    assert http_call(f"{base}{report}&answer={'x' * (MAX_VALUE + 1)}&type=delivered")[0] == 414
    assert http_call(f"{base}{report}", "POST", f"type=delivered&answer={'x' * (MAX_VALUE + 1)}".encode())[0] == 400
    assert status_of(shared_db, message_id) is S.ACCEPTED, "no refused request applied the report"
    assert http_call(f"{base}{report}&type=delivered") == (200, "applied"), "still serving"
    assert status_of(shared_db, message_id) is S.RECEIVED


@pytest.mark.parametrize("server", ["app", "worker"])
def test_forged_requests_are_refused_alike_and_without_a_traceback(servers, shared_db, server):
    base, process = servers[server], servers[f"{server} log"]
    message_id, token = accepted_messages(shared_db, 1)[0]
    for forged in ["9223372036854775808", "99999999999999999999999", "-1", "abc", "%EF%BC%91"]:
        assert http_call(f"{base}{REPORT_PATH}?id={forged}&token=x&type=delivered") == (400, "missing or malformed id")
    wrong_token = http_call(f"{base}{REPORT_PATH}?id={message_id}&token=x&type=delivered")
    unknown_id = http_call(f"{base}{REPORT_PATH}?id={message_id + 10_000}&token={token}&type=delivered")
    assert wrong_token == unknown_id and wrong_token[0] == 403, "no way to tell an existing id from an unknown one"
    head = f"POST {REPORT_PATH}?id={message_id}&token={token} HTTP/1.1\r\nHost: x\r\n"
    assert raw_request(base, f"{head}Content-Length: 99999999999999999999\r\n\r\n".encode()) in (400, 413)
    assert raw_request(base, f"{head}Content-Length: {200 * 1024 * 1024}\r\n\r\n".encode(), b"x" * 65536) == 413
    assert http_call(f"{base}{REPORT_PATH}?id={message_id}&token={token}&type=delivered") == (200, "applied")
    assert status_of(shared_db, message_id) is S.RECEIVED
    assert "Traceback" not in process.log()


@pytest.mark.parametrize("server", ["app", "worker"])
def test_a_caller_that_hangs_up_before_its_body_is_read_leaves_no_traceback(servers, shared_db, server):
    base, process = servers[server], servers[f"{server} log"]
    message_id, token = accepted_messages(shared_db, 1)[0]
    head = f"POST {REPORT_PATH}?id={message_id}&token={token} HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n"
    with socket.create_connection(("127.0.0.1", int(base.rsplit(":", 1)[1])), timeout=10) as gone:
        gone.sendall(f"{head}type=".encode())  # and then the caller hangs up
    time.sleep(0.5)
    assert http_call(f"{base}{REPORT_PATH}?id={message_id}&token={token}&type=delivered") == (200, "applied")
    assert "Traceback" not in process.log() and "could not be handled" not in process.log()


def test_a_callback_url_with_credentials_is_logged_without_them(shared_db, tmp_path):
    secret, dead, port = "s3cretpw", *free_ports(2)
    env = environment(
        DATABASE_URL=shared_db.url.render_as_string(hide_password=False),
        SMS_GATEWAY="kannel",
        SMS_PUBLIC_WEBHOOK_URL=f"http://hook:{secret}@127.0.0.1:{dead}/api/dlr?key={secret}",
        SMS_WEBHOOK_PORT=str(port),
    )
    process = SmsProcess(["worker"], env, tmp_path / "log", f"http://127.0.0.1:{port}{REPORT_PATH}")
    try:
        warning = process.wait_for_line("Delivery reports will not arrive")
    finally:
        process.stop()
    assert warning and f"http://hook:***@127.0.0.1:{dead}/api/dlr?key=***" in warning, process.log()
    assert secret not in process.log()


@pytest.mark.parametrize("command", ["serve", "worker"])
def test_a_callback_url_nobody_answers_is_said_at_start_up(shared_db, tmp_path, command):
    dead = free_ports()[0]
    port = free_ports()[0]
    env = environment(
        DATABASE_URL=shared_db.url.render_as_string(hide_password=False),
        SMS_GATEWAY="kannel",
        SMS_PUBLIC_WEBHOOK_URL=f"http://127.0.0.1:{dead}/api/dlr",
        SMS_WEBHOOK_PORT=str(port),
    )
    args, ready = (
        (["worker"], REPORT_PATH) if command == "worker" else (["serve", "--port", str(port)], "/_stcore/health")
    )
    process = SmsProcess(args, env, tmp_path / "log", f"http://127.0.0.1:{port}{ready}")
    try:
        told = process.wait_for_line("Delivery reports: the kannel gateway is told to call")
        warning = process.wait_for_line("Delivery reports will not arrive")
    finally:
        process.stop()
    assert told and f"http://127.0.0.1:{dead}/api/dlr" in told
    assert warning and "WARNING" in warning, process.log()
    assert f"http://127.0.0.1:{dead}/api/dlr" in warning and "nothing answers there" in warning
    assert "SMS_PUBLIC_WEBHOOK_URL" in warning
    assert sum("Delivery reports will not arrive" in line for line in process.log().splitlines()) == 1


@pytest.mark.parametrize(
    "settings, app, worker, expected",
    [
        ({}, ("0.0.0.0", 8601), False, "http://127.0.0.1:8601/api/dlr"),  # make run: the app's own port
        ({}, (None, None), False, "http://127.0.0.1:8501/api/dlr"),  # a command-line send: the default app
        ({}, ("10.0.0.5", 8601), False, "http://10.0.0.5:8601/api/dlr"),  # bound to one address: that one
        ({"embedded_worker": False}, ("0.0.0.0", 8601), False, "http://127.0.0.1:8502/api/dlr"),  # the worker's
        ({"webhook_port": 9100}, (None, None), True, "http://127.0.0.1:9100/api/dlr"),  # in the worker
        ({"webhook_address": "::1"}, (None, None), True, "http://[::1]:8502/api/dlr"),
        (
            {"public_webhook_url": "https://sms.example.org/api/dlr"},
            ("0.0.0.0", 8601),
            False,
            "https://sms.example.org/api/dlr",
        ),
    ],
)
def test_the_callback_url_is_what_really_serves_the_route(settings, app, worker, expected):
    assert report_url(Config(**settings), *app, worker=worker) == expected


@pytest.mark.parametrize("server", ["app", "worker"])
def test_the_http_api_is_served_by_the_app_and_the_worker_alike(servers, shared_db, server):
    admin = load_actor(shared_db, "admin")
    unit = unit_id_by_code(shared_db, "OSL")
    key = create_api_key(shared_db, admin, org_unit_id=unit, name=f"Booking ({server})").secret
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    body = json.dumps({"to": "+4741555123", "text": f"Hei fra {server}"}).encode()
    status, answer = http_call(f"{servers[server]}/api/v1/sms", "POST", body, headers)
    assert status == 201, answer
    message_id = json.loads(answer)["id"]
    deadline = time.monotonic() + 30
    while status_of(shared_db, message_id) is S.UNKNOWN and time.monotonic() < deadline:
        time.sleep(0.2)  # a worker (the app's embedded one, or the stand-alone) hands it over
    assert status_of(shared_db, message_id) in {S.ACCEPTED, S.RECEIVED}
    huge = b'{"text": "' + b"x" * (MAX_BODY + 10) + b'"}'
    chunked = b"".join(
        b"%x\r\n%s\r\n" % (len(huge[i : i + 8192]), huge[i : i + 8192]) for i in range(0, len(huge), 8192)
    )
    head = f"POST /api/v1/sms HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {key}\r\nTransfer-Encoding: chunked\r\n\r\n"
    assert raw_request(servers[server], head.encode(), chunked + b"0\r\n\r\n") == 413
    openapi = f"{servers[server]}/api/v1/openapi.json"
    assert http_call(openapi)[0] == 401  # every route needs a key, the API's description too
    assert http_call(openapi, headers={"Authorization": f"Bearer {key}"})[0] == 200
