"""Small helpers shared by conftest.py, the harness plugins and the tests."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import uvicorn

from sms_core.config import PROJECT_ROOT
from sms_core.delivery.http import REPORT_PATH, http_app
from sms_core.delivery.reports import ReportBatcher

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
    stand-alone worker serves them; ``url`` is the delivery-report URL to give a gateway."""

    def __init__(self, db, gateway):
        self.batcher = ReportBatcher(db)
        super().__init__(http_app(gateway, self.batcher))
        self.base = self.url
        self.url = f"{self.base}{REPORT_PATH}"

    def close(self) -> None:
        super().close()
        self.batcher.close()


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
    ready once ``ready_url`` answers at all (any HTTP status)."""

    def __init__(self, args: list[str], env: dict[str, str], log_path: Path, ready_url: str):
        self.log_path = log_path
        self._log = open(log_path, "wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "sms_core", *args], cwd=PROJECT_ROOT, env=env, stdout=self._log, stderr=self._log
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


def environment(**settings: str) -> dict[str, str]:
    """This machine's environment without any of the app's own settings, plus ``settings``."""
    own = ("SMS_", "KANNEL_", "DATABASE_URL")
    return {**{k: v for k, v in os.environ.items() if not k.startswith(own)}, **settings}
