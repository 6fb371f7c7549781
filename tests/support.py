"""Small helpers shared by conftest.py, the harness plugins and the tests."""

from __future__ import annotations

import glob
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import uvicorn
from sqlalchemy import func, insert, select

from sms_core import config as config_module
from sms_core.app_server import app_runtime
from sms_core.config import PROJECT_ROOT
from sms_core.delivery.http import REPORT_PATH, http_app
from sms_core.delivery.incoming import ReplyBatcher
from sms_core.delivery.reports import ReportBatcher
from sms_core.demo.seed import seed_demo
from sms_core.domain.statuses import SmsStatus
from sms_core.gateways.simulated import OutcomeMix, SimulatedGateway
from sms_core.storage.models import ContactPhone, DispatchState, SmsConsent, SmsMessage, utcnow
from sms_core.use_cases.accounts import load_actor

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def require(available: bool, reason: str) -> None:
    """Skip with a reason on a developer's machine; fail in CI, where everything is required."""
    if available:
        return
    if IN_CI:
        pytest.fail(f"{reason} (required in CI)")
    pytest.skip(reason)


def free_ports(count: int = 1) -> list[int]:
    """``count`` different free loopback ports (all held open at once, so none is handed out twice)."""
    sockets = [socket.socket() for _ in range(count)]
    try:
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


def accepting() -> SimulatedGateway:
    """The simulated gateway, accepting every SMS at once; ``.submitted`` is what went out."""
    return SimulatedGateway(OutcomeMix(0, 0, 0, 0), latency=0)


def refusing(rejected: float = 1.0, failed: float = 0.0) -> SimulatedGateway:
    """The simulated gateway rejecting that share of SMS at once, and failing the ``failed`` share."""
    return SimulatedGateway(OutcomeMix(rejected, failed, 0, 0), latency=0)


def mark_folder(items: list[pytest.Item], folder: Path, marker: pytest.MarkDecorator) -> None:
    """Give every test under ``folder`` its tier's marker (a folder's conftest calls this), so
    ``-m`` can pick tiers: the folders say what a test proves, the markers let a run choose."""
    for item in items:
        if item.path.is_relative_to(folder):
            item.add_marker(marker)


def postgres_bin_dir() -> Path | None:
    """Debian's PostgreSQL programs (initdb, pg_ctl), of the newest version installed."""
    found = glob.glob("/usr/lib/postgresql/*/bin/initdb")
    if not found:
        return None
    newest = max(found, key=lambda path: int(Path(path).parent.parent.name))
    return Path(newest).parent


class PostgresCluster:
    """A PostgreSQL server of a test's own: a fresh cluster in a temporary directory on a free
    port, which the test may stop and start at will — never the machine's own server.

    initdb refuses to run as root, so under root the programs run as the ``postgres`` user,
    who then owns the directory.  ``remove()`` stops the server and deletes everything.
    """

    def __init__(self, bin_dir: Path):
        self.bin_dir = bin_dir
        self.as_root = os.geteuid() == 0
        self.dir = Path(tempfile.mkdtemp(prefix="sms-test-postgres-"))
        self.data = self.dir / "data"
        self.log = self.dir / "postgres.log"
        self.port = free_ports()[0]
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"
        if self.as_root:
            shutil.chown(self.dir, "postgres", "postgres")
        self.running = False

    def _run(self, program: str, *args) -> None:
        command = [str(self.bin_dir / program), *map(str, args)]
        if self.as_root:
            command = ["runuser", "-u", "postgres", "--", *command]
        done = subprocess.run(command, capture_output=True, text=True, timeout=120)
        if done.returncode != 0:
            log = self.log.read_text(errors="replace")[-2000:] if self.log.exists() else ""
            raise RuntimeError(f"{program} failed ({done.returncode}): {done.stderr.strip()}\n{log}")

    def start(self) -> None:
        """Start the server, creating the cluster the first time."""
        if not self.data.exists():
            self._run("initdb", "-D", self.data, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync")
        options = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1"
        self._run("pg_ctl", "-D", self.data, "-l", self.log, "-o", options, "-w", "-t", "60", "start")
        self.running = True

    def stop(self, mode: str = "fast") -> None:
        self._run("pg_ctl", "-D", self.data, "-m", mode, "-w", "-t", "60", "stop")
        self.running = False

    def remove(self) -> None:
        try:
            if self.running or (self.data / "postmaster.pid").exists():
                self.stop("immediate")
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)


class Served:
    """An ASGI app served by uvicorn on a free loopback port in a thread, as the worker serves it."""

    def __init__(self, app):
        self._socket = socket.socket()
        self._socket.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._socket.getsockname()[1]}"
        config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off")
        self.server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [self._socket]}, name="served-app", daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started and time.monotonic() < deadline:
            time.sleep(0.02)
        assert self.server.started, "uvicorn did not start within 10 s"

    def close(self) -> None:
        self.server.should_exit = True
        self._thread.join(timeout=10)
        self._socket.close()


class ReportServer(Served):
    """The project's HTTP routes for ``db`` and ``gateway`` (sms_core.delivery.http), served as the
    stand-alone worker serves them; ``url`` is the delivery-report URL to give a gateway.  With a
    ``config`` that has an incoming secret, the incoming-SMS route takes replies too."""

    def __init__(self, db, gateway, config=None):
        self.batcher = ReportBatcher(db)
        self.replies = ReplyBatcher(db, gateway.name, config) if config else None
        super().__init__(http_app(gateway, self.batcher, replies=self.replies))
        self.base = self.url
        self.url = f"{self.base}{REPORT_PATH}"

    def close(self) -> None:
        super().close()
        self.batcher.close()
        if self.replies:
            self.replies.close()


def http_call(url: str, method: str = "GET", data: bytes | None = None, headers=None) -> tuple[int, str]:
    """(status, body) of one request; an HTTP error status is an answer too."""
    request = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


class SmsProcess:
    """``python -m sms_core …`` as a person starts it, with its output kept in ``log_path``;
    ready once ``ready_url`` answers at all (any HTTP status).  ``cwd`` is where it starts (the
    checkout by default): Streamlit reads ``.streamlit/secrets.toml`` there."""

    def __init__(self, args: list[str], env: dict[str, str], log_path: Path, ready_url: str, cwd: Path = PROJECT_ROOT):
        self.log_path = log_path
        self._log = open(log_path, "wb")
        if cwd != PROJECT_ROOT:  # the package is still this checkout's
            env = {**env, "PYTHONPATH": os.pathsep.join(filter(None, [str(PROJECT_ROOT), env.get("PYTHONPATH")]))}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "sms_core", *args], cwd=cwd, env=env, stdout=self._log, stderr=self._log
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and self.process.poll() is None:
            try:
                http_call(ready_url)
                return
            except OSError:
                time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"python -m sms_core {' '.join(args)} did not answer at {ready_url}:\n{self.log()}")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_for_line(self, words: str, timeout: float = 20) -> str | None:
        """The first log line containing ``words``, waiting for it at most ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = [line for line in self.log().splitlines() if words in line]
            if found:
                return found[0]
            time.sleep(0.2)
        return None

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self._log.close()


# The simulated gateway with none of its random refusals, failures or missing reports: every
# message it is handed is accepted and delivered, for tests that assert where a message ends up.
CERTAIN_DELIVERY = {f"SMS_SIMULATED_{share}_SHARE": "0" for share in ("REJECTED", "FAILED", "NO_REPORT", "UNDELIVERED")}


def environment(**settings: str) -> dict[str, str]:
    """This machine's environment without any of the app's own settings, plus ``settings``."""
    own = ("SMS_", "KANNEL_", "DATABASE_URL")
    return {**{k: v for k, v in os.environ.items() if not k.startswith(own)}, **settings}


def accepted_messages(db, count: int, text: str = "report me") -> list[tuple[int, str]]:
    """``count`` messages of staff's unit as the gateway accepted them, waiting for their
    delivery reports: (id, token) each.  Inserted in bulk, since the reports are what is tested."""
    staff, now = load_actor(db, "staff"), utcnow()
    rows = [
        dict(
            text=text,
            phone="+4741555123",
            org_unit_id=staff.current_org_unit_id,
            sent_on=now,
            status=SmsStatus.ACCEPTED,
            segments=1,
            dispatch_state=DispatchState.SUBMITTED,
            submitted_at=now,
            dlr_token=secrets.token_urlsafe(12),
            updated_at=now,
        )
        for _ in range(count)
    ]
    with db.session() as s:
        ids = s.scalars(insert(SmsMessage).returning(SmsMessage.id, sort_by_parameter_order=True), rows).all()
    return [(message_id, row["dlr_token"]) for message_id, row in zip(ids, rows, strict=True)]


def consented_number(db) -> tuple[int, str]:
    """(contact id, number) of a demo contact whose number has consent and is theirs alone."""
    with db.session() as s:
        rows = s.execute(
            select(ContactPhone.contact_id, ContactPhone.number)
            .join(SmsConsent, SmsConsent.phone_id == ContactPhone.id)
            .where(SmsConsent.withdrawn_at.is_(None))
            .order_by(ContactPhone.id)
        ).all()
        for contact_id, number in rows:
            if s.scalar(select(func.count()).where(ContactPhone.number == number)) == 1:
                return contact_id, number
    raise AssertionError("the demo has no contact with consent")


def app_on(url: str, monkeypatch, demo_mode: bool = True):
    """Point the app (AppTest runs it in this process) at a demo database at ``url``, in demo mode
    (the sidebar's user picker, which the page tests sign in with: ``session_state["demo_user"]``)
    unless ``demo_mode`` is False."""
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("SMS_DEMO_MODE", "true" if demo_mode else "false")
    monkeypatch.setenv("SMS_EMBEDDED_WORKER", "false")
    config_module.get_config.cache_clear()
    runtime = app_runtime(config_module.get_config())  # the one the pages get (pages._shared.runtime)
    seed_demo(runtime.db, messages=200)
    yield runtime.db
    runtime.close()
    app_runtime.clear()
    config_module.get_config.cache_clear()
