"""A real SMTP server for the tests (aiosmtpd) on a free loopback port: what it received, in order."""

from __future__ import annotations

import email
import email.policy
import threading
import time
from email.message import EmailMessage as Message

from aiosmtpd.controller import Controller
from support import free_ports


class SmtpServer:
    """``start()``/``stop()`` may be called again on the same port, as a mail server goes down and
    comes back; ``mails`` keeps what every run received."""

    def __init__(self, port: int | None = None):
        self.port = port or free_ports()[0]
        self.mails: list[tuple[str, Message]] = []  # (envelope recipient, the mail)
        self._lock = threading.Lock()
        self._controller: Controller | None = None

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        mail = email.message_from_bytes(envelope.original_content or envelope.content, policy=email.policy.default)
        with self._lock:
            self.mails.extend((recipient, mail) for recipient in envelope.rcpt_tos)
        return "250 OK"

    def start(self) -> SmtpServer:
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def received(self, subject_contains: str = "") -> list[tuple[str, Message]]:
        with self._lock:
            return [(to, m) for to, m in self.mails if subject_contains in (m["Subject"] or "")]

    def wait_for(self, subject_contains: str, count: int = 1, timeout: float = 60) -> list[tuple[str, Message]]:
        """The mails whose subject contains the words, once at least ``count`` arrived (or the timeout)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and len(self.received(subject_contains)) < count:
            time.sleep(0.2)
        return self.received(subject_contains)
