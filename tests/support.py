"""Small helpers shared by the conftest files and the harness plugins."""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import pytest

from sms_core import config as config_module
from sms_core.demo.seed import seed_demo
from sms_core.gateways.simulated import OutcomeMix, SimulatedGateway
from sms_core.storage import database as db_module
from sms_core.storage.change_feed import stop_change_watcher

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


def app_on(url: str, monkeypatch):
    """Point the app (AppTest runs it in this process) at a demo database at ``url``."""
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("SMS_EMBEDDED_WORKER", "false")
    config_module.get_config.cache_clear()
    db_module.get_database.cache_clear()
    database = db_module.get_database()
    seed_demo(database, messages=200)
    yield database
    stop_change_watcher(database)
    database.dispose()
    config_module.get_config.cache_clear()
    db_module.get_database.cache_clear()


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
