"""A real Kannel that also delivers incoming SMS to us: the harness's Kannel (kannel_harness.py)
with the ``sendsms-user`` and ``sms-service`` groups that ``python -m sms_core kannel-config``
prints, and fakesmsc in interactive mode, where each line written to its standard input
("sender receiver text …") is an SMS from a phone.

smsbox retries a get-url call that got no answer (``http-request-retry``), with the same message
id (%I); ``AnswerLosingProxy`` stands between Kannel and us and swallows our first answers, so a
test sees exactly that retry.
"""

from __future__ import annotations

import http.server
import subprocess
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

from kannel_harness import FAKESMSC, STARTUP_TIMEOUT, Kannel

from sms_core.gateways.kannel_incoming import kannel_groups

SMSBOX_RETRIES = "http-request-retry = 3\nhttp-queue-delay = 1\nmo-recode = true\n"


class KannelWithReplies(Kannel):
    def __init__(self, directory: Path, incoming_url: str):
        super().__init__(directory)
        config = self.config_file.read_text()
        ours = config.index("# max-messages:")  # the harness's sendsms-user group, replaced by what we print
        smsbox = config.index("log-file", config.index("group = smsbox"))
        config = config[:smsbox] + SMSBOX_RETRIES + config[smsbox:ours]
        self.config_file.write_text(config + "\n" + kannel_groups(self.username, self.password, incoming_url))

    def start_fakesmsc(self, deadline: float | None = None) -> None:
        """fakesmsc with no message of its own: it sends what is written to its standard input."""
        deadline = deadline or time.monotonic() + STARTUP_TIMEOUT
        command = [FAKESMSC, "-H", "127.0.0.1", "-r", str(self.smsc_port), "-i", "0.01"]
        while True:
            with self.fakesmsc_output.open("ab") as out:
                process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=out, stderr=subprocess.STDOUT)
            while process.poll() is None and not self._smsc_online() and time.monotonic() < deadline:
                time.sleep(0.05)
            if process.poll() is None:
                break
            if time.monotonic() > deadline:
                raise RuntimeError(f"fakesmsc could not connect to bearerbox; see {self.directory}")
            time.sleep(0.1)
        self._processes["fakesmsc"] = process
        self._wait(deadline, "fakesmsc online", self._smsc_online)

    def send_mo(self, sender: str, receiver: str, text: str) -> None:
        """An SMS from the phone ``sender`` to ``receiver`` (our sender), as the SMSC delivers it."""
        stdin = self._processes["fakesmsc"].stdin
        stdin.write(f"{sender} {receiver} text {text}\n".encode())
        stdin.flush()


class AnswerLosingProxy:
    """Forwards each call to ``backend`` and answers the caller — except the first ``lose``
    calls, whose answers it drops (the connection closes without one), as a network can."""

    def __init__(self, backend: str, lose: int = 0):
        self.calls: list[tuple[str, int | None]] = []  # (path, our status; None: not answered)
        self.lose = lose
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                try:
                    with urllib.request.urlopen(f"{backend}{self.path}", timeout=10) as response:
                        status, body = response.status, response.read()
                except urllib.error.HTTPError as exc:
                    status, body = exc.code, exc.read()
                if proxy.lose > 0:
                    proxy.lose -= 1
                    proxy.calls.append((self.path, None))
                    self.close_connection = True
                    return
                proxy.calls.append((self.path, status))
                self.send_response(status)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(timeout=5)
