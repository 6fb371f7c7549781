"""The embedded default gateway: realistic latency and a configurable mix of outcomes, so the
demo's statuses move by themselves with nothing installed.

Delivery reports are produced on a timer and handed to ``report_sink`` (wired by sms_core.bootstrap
to the same code the webhook runs), standing in for the gateway calling our webhook.  Reports
that do come over HTTP (tests, a person trying the webhook) name their kind: ``type=delivered``.
A small share of delivered messages is answered, now and then with STOP, through ``reply_sink``
(the code the incoming-SMS route runs), so the demo shows replies and opt-outs too.
"""

from __future__ import annotations

import heapq
import itertools
import random
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

from sms_core.config import Config
from sms_core.gateways.base import (
    DeliveryReportKind,
    GatewayReport,
    IncomingMessage,
    OutgoingSms,
    SubmitOutcome,
    SubmitResult,
    UnknownReply,
    UnknownReport,
)

ReportSink = Callable[[int, str, DeliveryReportKind, str], object]
ReplySink = Callable[[IncomingMessage], object]
REPLIES = ("Takk!", "OK, det passer fint.", "Kan vi flytte timen?", "Hvem er dette?", "Ja")
STOP_SHARE = 0.15  # of the replies: an opt-out


@dataclass(frozen=True)
class OutcomeMix:
    rejected: float = 0.04
    failed: float = 0.04
    no_report: float = 0.04
    undelivered: float = 0.03
    replied: float = 0.0  # of the delivered messages: answered by the recipient


# The callback URL's path when no server is involved: this gateway never calls it, it only
# takes the token from it, as a real gateway would hand it back.
IN_PROCESS = "/api/dlr"


class SimulatedGateway:
    name = "simulated"

    def __init__(
        self,
        mix: OutcomeMix = OutcomeMix(),
        latency: float = 1.5,
        seed: int | None = None,
        report_sink: ReportSink | None = None,
        report_url: str | None = IN_PROCESS,
        reply_sink: ReplySink | None = None,
    ):
        self.mix = mix
        self.latency = latency
        self.report_sink = report_sink
        self.reply_sink = reply_sink
        self.report_url = report_url
        self.submitted: list[OutgoingSms] = []  # what "went out", for tests and the demo
        self._random = random.Random(seed)
        self._timers: list[tuple[float, int, Callable[[], object]]] = []
        self._counter = itertools.count()
        self._wake = threading.Condition()
        self._thread: threading.Thread | None = None
        self._in_flight = 0

    @classmethod
    def from_config(
        cls, config: Config, report_sink: ReportSink | None = None, reply_sink: ReplySink | None = None
    ) -> SimulatedGateway:
        mix = OutcomeMix(
            config.simulated_rejected_share,
            config.simulated_failed_share,
            config.simulated_no_report_share,
            config.simulated_undelivered_share,
            config.simulated_reply_share,
        )
        return cls(mix, config.simulated_latency, report_sink=report_sink, reply_sink=reply_sink)

    def parse_report(self, params: Mapping[str, str]) -> GatewayReport:
        """``type`` names the kind (delivered, undelivered, rejected, buffered); ``answer`` is the detail."""
        try:
            kind = DeliveryReportKind(params.get("type", "").strip())
        except ValueError:
            known = ", ".join(kind.value for kind in DeliveryReportKind)
            raise UnknownReport(f"Delivery report type {params.get('type', '')!r} is not one of {known}.") from None
        return GatewayReport(kind, params.get("answer", "").strip())

    def parse_reply(self, params: Mapping[str, str]) -> IncomingMessage:
        """``from`` and ``text`` (required), ``to`` and ``id`` (the retry's key) as given."""
        sender, text = params.get("from", "").strip(), params.get("text")
        if not sender or text is None:
            raise UnknownReply("An incoming SMS needs from= (the sender) and text=.")
        return IncomingMessage(sender, text, params.get("to", "").strip() or None, params.get("id", "").strip()[:100])

    def submit(self, sms: OutgoingSms) -> SubmitResult:
        time.sleep(min(0.25, self.latency / 10) * self._random.random())
        roll = self._random.random()
        if roll < self.mix.rejected:
            return SubmitResult(SubmitOutcome.REJECTED, "Not routable")
        if roll < self.mix.rejected + self.mix.failed:
            return SubmitResult(SubmitOutcome.FAILED, "HTTP 503 Service Unavailable")
        self.submitted.append(sms)
        self._schedule_report(sms)
        return SubmitResult(SubmitOutcome.ACCEPTED, "Accepted for delivery", f"sim-{sms.message_id}")

    def problem(self) -> str | None:
        return None

    def drain(self, timeout: float) -> None:
        """Wait (at most ``timeout`` s) until every scheduled report has been handed over."""
        deadline = time.monotonic() + timeout
        while (self._timers or self._in_flight) and time.monotonic() < deadline:
            time.sleep(0.05)

    def _schedule_report(self, sms: OutgoingSms) -> None:
        if self.report_sink is None or not sms.callback_url:
            return
        roll = self._random.random()
        if roll < self.mix.no_report:
            return  # the report never comes: the status check will time out
        kind = (
            DeliveryReportKind.UNDELIVERED
            if roll < self.mix.no_report + self.mix.undelivered
            else DeliveryReportKind.DELIVERED
        )
        detail = (
            "Not delivered to phone: absent subscriber"
            if kind is DeliveryReportKind.UNDELIVERED
            else "Delivered to phone"
        )
        token = _token_of(sms.callback_url)
        delay = self.latency * (0.5 + self._random.random())
        sink = self.report_sink
        self._at(time.monotonic() + delay, lambda: sink(sms.message_id, token, kind, detail))
        if kind is DeliveryReportKind.DELIVERED and self.reply_sink and self._random.random() < self.mix.replied:
            self._schedule_reply(sms, delay + self.latency * (2 + 4 * self._random.random()))

    def _schedule_reply(self, sms: OutgoingSms, delay: float) -> None:
        """The recipient answers: mostly a few words, now and then STOP."""
        text = "STOP" if self._random.random() < STOP_SHARE else self._random.choice(REPLIES)
        reply = IncomingMessage(sms.to, text, sms.sender, f"sim-reply-{sms.message_id}")
        sink = self.reply_sink
        self._at(time.monotonic() + delay, lambda: sink(reply))

    def _at(self, when: float, action: Callable[[], object]) -> None:
        with self._wake:
            heapq.heappush(self._timers, (when, next(self._counter), action))
            if self._thread is None:
                self._thread = threading.Thread(target=self._run_timers, name="simulated-dlr", daemon=True)
                self._thread.start()
            self._wake.notify()

    def _run_timers(self) -> None:
        while True:
            with self._wake:
                while not self._timers or self._timers[0][0] > time.monotonic():
                    self._wake.wait(timeout=(self._timers[0][0] - time.monotonic()) if self._timers else None)
                _, _, action = heapq.heappop(self._timers)
                self._in_flight += 1
            try:
                action()
            except Exception:  # a report that cannot be applied now is lost, as with a real gateway
                pass
            with self._wake:
                self._in_flight -= 1


def _token_of(callback_url: str) -> str:
    return parse_qs(urlsplit(callback_url).query).get("token", [""])[0]
