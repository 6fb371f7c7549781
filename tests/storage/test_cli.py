"""The command line: clear messages instead of tracebacks, and an idempotent demo seed.

SQLite only: what is proved is the commands' words and exit codes; the services beneath them
have their own tests on both databases (test_storage.py seeds, test_send_service.py sends)."""

import os
import subprocess
import sys

import pytest
from support import CERTAIN_DELIVERY

from sms_core.config import PROJECT_ROOT

pytestmark = pytest.mark.sqlite_only


def run_cli(*args, database_url: str, **env):
    environment = {**os.environ, "DATABASE_URL": database_url, **env}
    return subprocess.run(
        [sys.executable, "-m", "sms_core", *args],
        cwd=PROJECT_ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_seed_demo_twice_adds_nothing_the_second_time(database_url):
    first = run_cli("seed-demo", "--messages", "50", database_url=database_url)
    assert first.returncode == 0, first.stderr
    assert "Seeded demo data: 50 messages" in first.stdout
    second = run_cli("seed-demo", "--messages", "50", database_url=database_url)
    assert second.returncode == 0 and "nothing added" in second.stdout


def test_missing_driver_is_explained():
    result = run_cli("migrate", database_url="postgresql://postgres@127.0.0.1/postgres")
    assert result.returncode == 2
    assert "driver 'psycopg2', which is not installed" in result.stderr
    assert "postgresql+psycopg://" in result.stderr and "Traceback" not in result.stderr


def test_unknown_database_kind_is_explained():
    result = run_cli("migrate", database_url="mysql://root@localhost/x")
    assert result.returncode == 2 and "only SQLite and PostgreSQL" in result.stderr


def test_unreachable_database_is_explained():
    result = run_cli("check-db", database_url="postgresql+psycopg://postgres@127.0.0.1:1/sms")
    assert result.returncode == 2
    assert "cannot be reached" in result.stderr and "127.0.0.1:1" in result.stderr
    assert "Traceback" not in result.stderr


def test_malformed_setting_is_explained(sqlite_url):
    result = run_cli("check-db", database_url=sqlite_url, SMS_STATUS_CHECK_TIMEOUT="soon")
    assert result.returncode == 2 and "SMS_STATUS_CHECK_TIMEOUT must be a number" in result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr


@pytest.mark.parametrize(
    "command, setting, value, sentence",
    [
        ("worker", "SMS_WEBHOOK_PORT", "abc", "SMS_WEBHOOK_PORT must be a whole number, not 'abc'."),
        ("worker", "SMS_PUBLIC_WEBHOOK_URL", "127.0.0.1:8502/api/dlr", "must be an http:// or https:// URL"),
        ("serve", "SMS_GATEWAY", "carrier-pigeon", "SMS_GATEWAY='carrier-pigeon' is not a gateway this app knows"),
    ],
)
def test_a_setting_that_cannot_be_used_stops_the_command_in_one_line(sqlite_url, command, setting, value, sentence):
    result = run_cli(command, database_url=sqlite_url, **{setting: value})
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith("error: ") and sentence in result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr


def test_send_and_show_as_json(database_url):
    import json

    assert run_cli("seed-demo", "--messages", "0", database_url=database_url).returncode == 0
    env = {
        "SMS_SIMULATED_LATENCY": "0.2",
        **CERTAIN_DELIVERY,
    }
    sent = run_cli(
        "send",
        "--user",
        "staff",
        "--to",
        "+47 415 55 123",
        "--text",
        "Hei fra CLI",
        "--json",
        database_url=database_url,
        **env,
    )
    assert sent.returncode == 0, sent.stderr
    message = json.loads(sent.stdout)
    assert message["status"] == "Received" and message["org_unit"] == "Oslo Sentrum"
    assert [h["status"] for h in message["history"]] == ["Unknown", "Accepted", "Received"]
    shown = json.loads(run_cli("show", str(message["id"]), "--json", database_url=database_url).stdout)
    assert (shown["id"], shown["status"], shown["text"]) == (message["id"], "Received", "Hei fra CLI")
    other_unit = run_cli(
        "send", "--user", "kari", "--to", "+4741555123", "--text", "x", "--org-unit", "OSL", database_url=database_url
    )
    assert other_unit.returncode == 2 and "not associated with that org. unit" in other_unit.stderr
    invisible = run_cli("show", str(message["id"]), "--user", "kari", database_url=database_url)
    assert invisible.returncode == 2 and "that you can see" in invisible.stderr
    bad = run_cli("send", "--user", "staff", "--to", "12", "--text", "x", database_url=database_url)
    assert bad.returncode == 2 and "too short" in bad.stderr and "Traceback" not in bad.stderr


def test_bytes_that_are_not_utf8_are_refused_with_a_sentence(tmp_path):
    """``--text $'a\\xffb'``: the shell hands over the byte 0xFF, Python makes it U+DCFF."""
    url = f"sqlite:///{tmp_path / 'sms.db'}"
    assert run_cli("seed-demo", "--messages", "0", database_url=url).returncode == 0
    environment = {**os.environ, "DATABASE_URL": url, "LC_ALL": "C.UTF-8"}
    command = [sys.executable, "-m", "sms_core", "send", "--user", "staff", "--to", "+4741555123", "--text"]
    result = subprocess.run([*command, b"a\xffb"], cwd=PROJECT_ROOT, env=environment, capture_output=True, timeout=120)
    stderr = result.stderr.decode("utf-8", "replace")
    assert result.returncode == 2, stderr
    assert "--text contains bytes that are not valid UTF-8 text (U+DCFF)" in stderr and "Traceback" not in stderr


SECRET = "s3cretpw"


@pytest.fixture
def kannel_port():
    """Something listening where Kannel would be, so a request gets as far as being written."""
    import socket

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    yield listener.getsockname()[1]
    listener.close()


@pytest.mark.parametrize(
    "url, sentence",
    [
        ("http://127.0.0.1:{port}/cgi bin/sendsms", "must not contain spaces or control characters"),
        ("http://kannel:" + SECRET + "@127.0.0.1:abc/cgi-bin/sendsms", "must have a port number"),
        ("http://kannel..local:{port}/cgi-bin/sendsms?password=" + SECRET, "must name a valid host"),
        ("ftp://kannel:" + SECRET + "@127.0.0.1/sendsms", "must be an http:// or https:// URL"),
    ],
)
@pytest.mark.parametrize(
    "command",
    [
        ["send", "--user", "staff", "--to", "+4741555123", "--text", "x"],
        ["worker", "--once"],
        ["check-db"],
        ["serve", "--port", "0"],
    ],
)
def test_a_kannel_url_that_cannot_be_used_is_one_sentence_without_its_password(
    demo_base_db, database_url, kannel_port, url, sentence, command
):
    settings = {"SMS_GATEWAY": "kannel", "KANNEL_USERNAME": "kannel", "KANNEL_PASSWORD": SECRET}
    result = run_cli(*command, database_url=database_url, KANNEL_SENDSMS_URL=url.format(port=kannel_port), **settings)
    assert result.returncode == 2, result.stdout + result.stderr
    assert sentence in result.stderr and result.stderr.startswith(
        "error: KANNEL_SENDSMS_URL".replace("KANNEL", "Environment variable KANNEL")[:7]
    )
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert SECRET not in result.stdout + result.stderr


@pytest.mark.parametrize(
    "url",
    [
        "postgresql+psycopg://sms:" + SECRET + "@127.0.0.1:abc/sms",
        "sms:" + SECRET + "@127.0.0.1/sms",
        "postgresql+psycopg://sms:" + SECRET + "@127.0.0.1:1/sms",
    ],
)
def test_a_database_url_that_cannot_be_used_is_one_sentence_without_its_password(url):
    result = run_cli("check-db", database_url=url)
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1
    assert "Traceback" not in result.stderr and SECRET not in result.stdout + result.stderr
