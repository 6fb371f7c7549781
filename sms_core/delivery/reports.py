"""Receiving delivery reports: what every report goes through, whether it came over HTTP or from
the simulated gateway in this process.

The gateway reads its own report format (``Gateway.parse_report``); the id and token are ours,
from the callback URL; the batcher stores the report and gives the verdict the gateway is answered.
"""

from __future__ import annotations

import logging
import queue
import re
import threading
from collections.abc import Mapping
from concurrent.futures import Future, InvalidStateError

from sms_core.config import DEFAULTS
from sms_core.domain.errors import SmsError
from sms_core.gateways.base import DeliveryReportKind, Gateway
from sms_core.storage.database import Database
from sms_core.use_cases.message_lifecycle import (
    LARGEST_ID,
    NOT_OURS,
    DeliveryReport,
    ReportVerdict,
    apply_delivery_reports,
)

log = logging.getLogger(__name__)
_STOP = object()
_ID = re.compile(r"[0-9]{1,19}")  # ASCII digits only: int() would also read "１" or " 7_0"


class ReportBatcher:
    """Group commit for delivery reports: reports arriving together share one transaction.

    Each caller still waits for its own verdict, so the gateway is only told OK once the report
    is stored; under light load a batch is a single report and nothing waits longer.  A batch
    that fails is applied again report by report, so one report that cannot be stored fails
    alone: a gateway does not retry a report answered 500, so the others would be lost.
    ``max_age``: seconds after submission until which a message takes reports
    (``Config.report_deadline``).
    """

    def __init__(self, db: Database, max_age: float = DEFAULTS.report_deadline, max_batch: int = 500):
        self.db = db
        self.max_age = max_age
        self.max_batch = max_batch
        self._queue: queue.Queue = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="sms-report-batcher", daemon=True)
        self._thread.start()

    def apply(self, report: DeliveryReport, timeout: float = 30) -> ReportVerdict:
        return self.submit(report).result(timeout=timeout)

    def submit(self, item) -> Future:
        """Hand in an item without waiting: an event loop awaits the future (``asyncio.wrap_future``)
        instead of parking a thread on it.  Cancelling the future does not withdraw the item."""
        future: Future = Future()
        self._queue.put((item, future))
        return future

    def sink(self, message_id: int, token: str, kind: DeliveryReportKind, detail: str) -> ReportVerdict:
        """The simulated gateway's way in: the same path a report over HTTP takes."""
        return self.apply(DeliveryReport(message_id, token, kind, detail))

    def close(self) -> None:
        """Finish the reports already handed in, then stop."""
        self._queue.put(_STOP)
        self._thread.join(timeout=5)

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            if first is _STOP:
                return
            batch, stop = [first], False
            while len(batch) < self.max_batch:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is _STOP:
                    stop = True
                    break
                batch.append(item)
            self._apply(batch)
            if stop:
                return

    def _apply(self, batch: list[tuple[object, Future]]) -> None:
        items = [item for item, _ in batch]
        try:
            verdicts = self._store_together(items)
        except Exception as exc:
            if len(items) == 1:
                verdicts = [self._failure(exc)]
            else:
                log.warning("%d %s failed together (%s); applying each alone", len(items), self.what, exc)
                verdicts = [self._apply_alone(item) for item in items]
        for (_, future), verdict in zip(batch, verdicts, strict=True):
            try:
                future.set_result(verdict)
            except InvalidStateError:  # its waiter went away (cancelled): the others still get theirs
                pass

    def _apply_alone(self, item) -> ReportVerdict:
        try:
            return self._store_alone(item)
        except Exception as exc:
            return self._failure(exc)

    # What is stored, and how: a subclass (incoming SMS, the API's sends) replaces these.
    what = "delivery reports"

    def _failure(self, exc: Exception) -> ReportVerdict:
        """What the caller gets for an item that could not be stored."""
        return _failed(exc)

    def _store_together(self, reports: list[DeliveryReport]) -> list[ReportVerdict]:
        return apply_delivery_reports(self.db, reports, max_age=self.max_age)

    def _store_alone(self, report: DeliveryReport) -> ReportVerdict:
        return apply_delivery_reports(self.db, [report], max_age=self.max_age)[0]


def _failed(exc: Exception) -> ReportVerdict:
    if isinstance(exc, SmsError):  # database down: the gateway may retry later
        return ReportVerdict(503, exc.message)
    log.exception("a delivery report or incoming SMS could not be applied", exc_info=exc)
    return ReportVerdict(500, f"internal error: {type(exc).__name__}")


def handle_report(params: Mapping[str, str], gateway: Gateway, batcher: ReportBatcher) -> ReportVerdict:
    """A delivery-report callback: ``id`` and ``token`` from our URL, the rest in the gateway's words."""
    raw_id = params.get("id", "")
    if not _ID.fullmatch(raw_id) or not 0 < int(raw_id) <= LARGEST_ID:
        return ReportVerdict(400, "missing or malformed id")
    message_id = int(raw_id)
    token = params.get("token", "")
    if not token:
        return ReportVerdict(403, NOT_OURS)
    try:
        report = gateway.parse_report(params)
    except SmsError as exc:
        return ReportVerdict(400, exc.message)
    return batcher.apply(DeliveryReport(message_id, token, report.kind, report.detail))
