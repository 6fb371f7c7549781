"""A real Kannel for a test: bearerbox, smsbox and Kannel's fakesmsc on free loopback ports.

Loaded by tests/conftest.py (``pytest_plugins``).  Each test that asks for ``kannel`` gets its own
bearerbox (with an ``smsc = fake`` connection, internal DLR storage), smsbox (sendsms port, one
sendsms-user) and ``fakesmsc`` standing in for the operator's SMSC.  Config and logs live in the
test's tmp_path, so a failing test leaves ``bearerbox.log``, ``smsbox.log`` and
``fakesmsc.out`` to read.  Every process is stopped when the test ends.

What the fake SMSC really does: Kannel's ``smsc_fake`` writes each message to fakesmsc as one line
("sender receiver text|data|ucs-2 [udh …] payload"), which fakesmsc logs as
``Got message N: <line>``.  Right after writing it, Kannel itself reports "accepted by the SMSC"
(DLR type 8, answer ``ACK/``) and then "delivered to phone" (type 1, empty answer) — real DLRs
through Kannel's DLR store and smsbox, just never type 2 or 16: fakesmsc cannot refuse or fail a
message.  While fakesmsc is disconnected, bearerbox keeps messages ("3: Queued for later
delivery") and delivers them when an SMSC connects again.

``dlr_receiver`` is the other end: a small HTTP server recording the callbacks Kannel makes.

Without Kannel's binaries (Debian: kannel, kannel-extras) the tests are skipped with the reason;
with CI=true they fail instead, as everywhere in this suite.
"""

from __future__ import annotations

import http.server
import os
import re
import subprocess
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, unquote_to_bytes

import pytest
from support import free_ports, require

BEARERBOX = "/usr/sbin/bearerbox"
SMSBOX = "/usr/sbin/smsbox"
FAKESMSC = "/usr/lib/kannel/test/fakesmsc"
STARTUP_TIMEOUT = 15.0


@dataclass(frozen=True)
class FakeSmscMessage:
    """One message as the fake SMSC received it.

    ``kind`` is smsc_fake's word for the payload: "text" (GSM texts, shown as UTF-8), "ucs-2"
    (Unicode, UTF-16BE) or "data" (8-bit, and every part of a concatenated message, whose UDH is
    in ``udh``).  ``text`` is the decoded text where the kind says how to decode it, else None.
    """

    sender: str
    receiver: str
    kind: str
    data: bytes
    udh: bytes | None = None

    @property
    def text(self) -> str | None:
        if self.kind == "text":
            return self.data.decode("utf-8", "replace")
        if self.kind == "ucs-2":
            return self.data.decode("utf-16-be", "replace")
        return None


_GOT = re.compile(r"Got message \d+: <(.*)>$")


def _unquote(value: str) -> bytes:
    """Kannel's url-encoding (space as '+') back to bytes."""
    return unquote_to_bytes(value.replace("+", " "))


def parse_fakesmsc_output(output: str) -> list[FakeSmscMessage]:
    """The messages in fakesmsc's log.  A "text" payload is written raw, so a text with a newline
    arrives as several lines: a line that is not "sender receiver kind …" continues the previous one."""
    messages: list[FakeSmscMessage] = []
    for line in output.splitlines():
        match = _GOT.search(line)
        if not match:
            continue
        fields = match.group(1).split(" ", 3)
        if len(fields) == 4 and fields[2] in {"text", "data", "ucs-2"}:
            sender, receiver, kind, payload = fields
            data = payload.encode() if kind == "text" else _unquote(payload)
            messages.append(FakeSmscMessage(sender, receiver, kind, data))
        elif len(fields) == 4 and fields[2] == "udh":
            sender, receiver, _, rest = fields
            udh, _, payload = rest.partition(" data ")
            messages.append(FakeSmscMessage(sender, receiver, "data", _unquote(payload), _unquote(udh)))
        elif messages and messages[-1].kind == "text":
            last = messages[-1]
            messages[-1] = FakeSmscMessage(
                last.sender, last.receiver, "text", last.data + b"\n" + match.group(1).encode()
            )
    return messages


def _config(d: Path, admin: int, smsbox: int, smsc: int, sendsms: int, user: str, password: str) -> str:
    return f"""\
group = core
admin-port = {admin}
admin-interface = 127.0.0.1
admin-password = admin-secret
smsbox-port = {smsbox}
smsbox-interface = 127.0.0.1
box-allow-ip = 127.0.0.1
log-file = "{d / "bearerbox.log"}"
log-level = 0
access-log = "{d / "access.log"}"
dlr-storage = internal

# The operator's SMSC, played by fakesmsc.  Numbers starting +999 have no route, so Kannel
# answers "Not routable" for them.
group = smsc
smsc = fake
smsc-id = fake
port = {smsc}
our-host = 127.0.0.1
connect-allow-ip = 127.0.0.1
denied-prefix = "+999"

group = smsbox
bearerbox-host = 127.0.0.1
bearerbox-port = {smsbox}
sendsms-port = {sendsms}
sendsms-interface = 127.0.0.1
log-file = "{d / "smsbox.log"}"
log-level = 0

# max-messages: a 1000-character Unicode text needs up to 30 parts (1000 emoji are 2000 UTF-16
# code units, 67 a part); Kannel silently cuts a text to max-messages parts (default 1), so
# production needs this too.
group = sendsms-user
username = {user}
password = {password}
max-messages = 30
concatenation = true
"""


class Kannel:
    """A running bearerbox + smsbox + fakesmsc; see the module docstring."""

    def __init__(self, directory: Path):
        self.directory = directory
        self.admin_port, self.smsbox_port, self.smsc_port, self.sendsms_port = free_ports(4)
        self.username = "sms-dashboard"
        self.password = "s3cret-pass"
        self.sendsms_url = f"http://127.0.0.1:{self.sendsms_port}/cgi-bin/sendsms"
        self.config_file = directory / "kannel.conf"
        self.config_file.write_text(
            _config(
                directory,
                self.admin_port,
                self.smsbox_port,
                self.smsc_port,
                self.sendsms_port,
                self.username,
                self.password,
            )
        )
        self.fakesmsc_output = directory / "fakesmsc.out"
        self._processes: dict[str, subprocess.Popen] = {}

    # -- lifecycle -------------------------------------------------------------------------------

    def start(self) -> None:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        self._spawn("bearerbox", [BEARERBOX, str(self.config_file)])
        self._wait(deadline, "bearerbox's admin port", lambda: self.status() is not None)
        self.start_fakesmsc(deadline)
        self._spawn("smsbox", [SMSBOX, str(self.config_file)])
        self._wait(deadline, "smsbox connected to bearerbox", lambda: "smsbox:" in (self.status() or ""))
        self._wait(deadline, "the sendsms port", self._sendsms_answers)

    def start_fakesmsc(self, deadline: float | None = None) -> None:
        """(Re)connect the fake SMSC and wait until bearerbox reports it online."""
        deadline = deadline or time.monotonic() + STARTUP_TIMEOUT
        # -m 0: send no MO messages of its own, just print what it receives (the "1 2 text x"
        # message is required by its command line and never sent).
        command = [FAKESMSC, "-H", "127.0.0.1", "-r", str(self.smsc_port), "-m", "0", "1 2 text x"]
        while True:
            with self.fakesmsc_output.open("ab") as out:
                process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT)
            while process.poll() is None and not self._smsc_online() and time.monotonic() < deadline:
                time.sleep(0.05)
            if process.poll() is None:
                break
            if time.monotonic() > deadline:  # it exits at once when the SMSC port is not open yet
                raise RuntimeError(f"fakesmsc could not connect to bearerbox; see {self.directory}")
            time.sleep(0.1)
        self._processes["fakesmsc"] = process
        self._wait(deadline, "fakesmsc online", self._smsc_online)

    def stop_fakesmsc(self) -> None:
        """The SMSC link goes down: bearerbox keeps running and queues what it cannot send."""
        self._terminate("fakesmsc")
        self._wait(time.monotonic() + 5, "bearerbox to notice fakesmsc left", lambda: not self._smsc_online())

    def stop(self) -> None:
        """The gateway goes down: nothing listens on the sendsms port any more."""
        for name in ("smsbox", "fakesmsc", "bearerbox"):
            self._terminate(name)

    def _spawn(self, name: str, command: list[str]) -> None:
        with (self.directory / f"{name}.out").open("ab") as out:
            self._processes[name] = subprocess.Popen(
                command, cwd=self.directory, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT
            )

    def _terminate(self, name: str) -> None:
        process = self._processes.pop(name, None)
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)

    def _wait(self, deadline: float, what: str, ready) -> None:
        while not ready():
            for name, process in self._processes.items():
                if process.poll() is not None:
                    raise RuntimeError(
                        f"{name} exited with {process.returncode} while waiting for {what}; see {self.directory}"
                    )
            if time.monotonic() > deadline:
                raise RuntimeError(f"Kannel did not get ready in time (waiting for {what}); see {self.directory}")
            time.sleep(0.05)

    # -- looking at it ---------------------------------------------------------------------------

    def status(self) -> str | None:
        """bearerbox's status page (text), or None while it does not answer."""
        url = f"http://127.0.0.1:{self.admin_port}/status.txt?password=admin-secret"
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                return response.read().decode("utf-8", "replace")
        except OSError:
            return None

    def _smsc_online(self) -> bool:
        return bool(re.search(r"FAKE:\d+ \(online", self.status() or ""))

    def _sendsms_answers(self) -> bool:
        try:
            urllib.request.urlopen(self.sendsms_url, timeout=2).close()
        except urllib.error.HTTPError:
            return True  # 403 without credentials: it answers
        except OSError:
            return False
        return True

    def fakesmsc_received(self) -> list[FakeSmscMessage]:
        """Every message the fake SMSC has received so far, oldest first."""
        if not self.fakesmsc_output.exists():
            return []
        return parse_fakesmsc_output(self.fakesmsc_output.read_text("utf-8", "replace"))

    def wait_received(self, count: int = 1, timeout: float = 5.0) -> list[FakeSmscMessage]:
        """Wait until the fake SMSC has received at least ``count`` messages; returns them all."""
        deadline = time.monotonic() + timeout
        while len(received := self.fakesmsc_received()) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        return received


class DlrReceiver:
    """Records each request Kannel makes to it (path and query string) and answers 200."""

    def __init__(self):
        self.requests: list[str] = []  # raw path + query string, as Kannel requested it
        received = self.requests

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                received.append(self.path)
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            do_POST = do_GET  # noqa: N815 (http.server's naming)

            def log_message(self, *args):  # keep the test output quiet
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/dlr"
        self._thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, name="dlr-receiver", daemon=True
        )
        self._thread.start()

    @property
    def queries(self) -> list[str]:
        return [path.partition("?")[2] for path in list(self.requests)]

    def reports(self) -> list[dict[str, str]]:
        """Each callback's query parameters, decoded (one value per name)."""
        return [{k: v[0] for k, v in parse_qs(q, keep_blank_values=True).items()} for q in self.queries]

    def wait_for(self, count: int, timeout: float = 5.0) -> list[dict[str, str]]:
        """Wait until at least ``count`` callbacks came; returns all of them, decoded."""
        deadline = time.monotonic() + timeout
        while len(self.requests) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        return self.reports()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(timeout=5)


@pytest.fixture
def kannel(tmp_path):
    """A real Kannel (bearerbox, smsbox, fakesmsc) on free loopback ports, stopped after the test."""
    missing = [path for path in (BEARERBOX, SMSBOX, FAKESMSC) if not os.access(path, os.X_OK)]
    require(not missing, f"Kannel is not installed (no {', '.join(missing)}): apt-get install kannel kannel-extras")
    directory = tmp_path / "kannel"
    directory.mkdir()
    instance = Kannel(directory)
    try:
        instance.start()
        yield instance
    finally:
        instance.stop()


@pytest.fixture
def dlr_receiver():
    """An HTTP server on a free loopback port that records the delivery-report callbacks it gets."""
    receiver = DlrReceiver()
    yield receiver
    receiver.close()
