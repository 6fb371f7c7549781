"""Small helpers shared by conftest.py, the harness plugins and the tests."""

from __future__ import annotations

import os
import socket
import threading
import time

import pytest
import uvicorn

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
