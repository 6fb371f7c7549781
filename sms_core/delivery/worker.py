"""The worker: the work that belongs to no page request.

- dispatch: queued messages are claimed (never by two workers) and handed to the gateway;
- the delivery-report webhook: authenticated per message, idempotent for replays;
- the status-check sweep: no final report in time → "Timeout during status check";
- recovery: a message left mid-submission by a crash becomes "Sending failed" (outcome unknown),
  never silently sent again.

``python -m sms_core worker`` runs it as its own process (several on one PostgreSQL are fine);
in the embedded default it runs as a thread of the app process.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Mapping
from concurrent.futures import Future
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from sms_core.config import Config, get_config
from sms_core.domain.errors import SmsError
from sms_core.gateways.base import DeliveryReportKind, Gateway
from sms_core.storage.database import Database, one_per_database
from sms_core.use_cases.message_lifecycle import (
    DeliveryReport,
    ReportVerdict,
    apply_delivery_reports,
    claim_queued,
    recover_interrupted,
    sweep_status_checks,
)
from sms_core.use_cases.sending import submit_message

log = logging.getLogger(__name__)

_NAMED_KINDS = {kind.value: kind for kind in DeliveryReportKind}


class Worker:
    def __init__(self, db: Database, gateway: Gateway, config: Config | None = None, batch: int = 50):
        self.db = db
        self.gateway = gateway
        self.config = config or get_config()
        self.batch = batch
        # Never shorter than a submission can take, or a slow live worker would look crashed.
        self.lease_seconds = max(self.config.submit_lease, self.config.kannel_timeout * 2)

    def run_once(self) -> dict[str, int]:
        """One round of every duty; returns how much each did (for logs and tests)."""
        recovered = recover_interrupted(self.db, self.lease_seconds)
        dispatched = 0
        claimed, claimed_at = claim_queued(self.db, self.batch)
        for message_id in claimed:
            submit_message(self.db, message_id, self.gateway, claimed_at)
            dispatched += 1
        timed_out = sweep_status_checks(self.db, self.config.status_check_timeout)
        return {"recovered": recovered, "dispatched": dispatched, "timed_out": timed_out}

    def run_forever(self, stop: threading.Event, interval: float = 1.0) -> None:
        while not stop.is_set():
            try:
                done = self.run_once()
                busy = done["dispatched"] >= self.batch
            except SmsError as exc:  # database down: say so, keep going, recover when it is back
                log.warning("worker round failed: %s", exc.message)
                busy = False
            except Exception:
                log.exception("worker round failed")
                busy = False
            if not busy:
                stop.wait(interval)


class ReportBatcher:
    """Group commit for delivery reports: reports arriving together share one transaction.

    Each caller still waits for its own verdict, so the gateway is only told OK once the report
    is stored; under light load a batch is a single report and nothing waits longer.
    """

    def __init__(self, db: Database, max_batch: int = 500):
        self.db = db
        self.max_batch = max_batch
        self._queue: queue.Queue[tuple[DeliveryReport, Future]] = queue.Queue()
        threading.Thread(target=self._run, name="sms-report-batcher", daemon=True).start()

    def apply(self, report: DeliveryReport, timeout: float = 30) -> ReportVerdict:
        future: Future = Future()
        self._queue.put((report, future))
        return future.result(timeout=timeout)

    def _run(self) -> None:
        while True:
            batch = [self._queue.get()]
            while len(batch) < self.max_batch:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            try:
                verdicts = apply_delivery_reports(self.db, [report for report, _ in batch])
            except SmsError as exc:  # database down: the gateway will retry later
                verdicts = [ReportVerdict(503, exc.message)] * len(batch)
            except Exception as exc:
                log.exception("delivery reports could not be applied")
                verdicts = [ReportVerdict(500, f"internal error: {type(exc).__name__}")] * len(batch)
            for (_, future), verdict in zip(batch, verdicts, strict=False):
                future.set_result(verdict)


def batcher_for(db: Database) -> ReportBatcher:
    """One batcher per database per process."""
    return one_per_database("report-batcher", db, ReportBatcher)


def handle_report(db: Database, params: Mapping[str, str]) -> ReportVerdict:
    """A delivery-report callback: ``id`` and ``token`` from our URL, ``type``/``answer`` from the gateway."""
    try:
        message_id = int(params.get("id", ""))
    except ValueError:
        return ReportVerdict(400, "missing or malformed id")
    token = params.get("token", "")
    if not token:
        return ReportVerdict(403, "missing token")
    kind_text, answer = params.get("type", ""), params.get("answer", "")
    try:
        if kind_text.isdigit():
            from sms_core.gateways.kannel import parse_kannel_report

            kind, detail = parse_kannel_report(kind_text, answer)
        else:
            kind, detail = _NAMED_KINDS[kind_text], answer
    except (KeyError, ValueError):
        return ReportVerdict(400, f"unknown report type {kind_text!r}")
    return batcher_for(db).apply(DeliveryReport(message_id, token, kind, detail))


def _flatten(query: str) -> dict[str, str]:
    return {key: values[-1] for key, values in parse_qs(query, keep_blank_values=True).items()}


def webhook_server(db: Database, port: int, address: str = "0.0.0.0") -> ThreadingHTTPServer:
    """The stand-alone webhook: GET or POST /dlr?id=…&token=…&type=…&answer=…"""

    class Handler(BaseHTTPRequestHandler):
        def _answer(self, query: str) -> None:
            if urlsplit(self.path).path.rstrip("/") not in ("/dlr", "/api/dlr"):
                self.send_error(404)
                return
            try:
                verdict = handle_report(db, _flatten(query))
            except Exception:  # answer, log, and let the gateway retry later
                log.exception("delivery report could not be handled")
                verdict = ReportVerdict(500, "internal error")
            body = verdict.text.encode()
            self.send_response(verdict.http_status)
            self.send_header("Content-Type", "text/plain; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self):  # noqa: N802 (http.server's naming)
            self._answer(urlsplit(self.path).query)

        def do_POST(self):  # noqa: N802
            length = int(self.headers.get("Content-Length") or 0)
            form = self.rfile.read(length).decode("utf-8", "replace") if length else ""
            self._answer("&".join(part for part in (urlsplit(self.path).query, form) if part))

        def log_message(self, *args):  # reports are logged as status events, not on stderr
            pass

    server = ThreadingHTTPServer((address, port), Handler)
    server.daemon_threads = True
    return server


def start_in_background(db: Database, gateway: Gateway, config: Config | None = None):
    """Start the worker loop as a daemon thread; returns a function that stops it."""
    stop = threading.Event()
    thread = threading.Thread(
        target=Worker(db, gateway, config).run_forever, args=(stop,), name="sms-worker", daemon=True
    )
    thread.start()

    def stopper() -> None:
        stop.set()
        thread.join(timeout=5)

    return stopper


def run_worker(db: Database, gateway: Gateway, config: Config) -> None:
    """The stand-alone worker process: webhook server plus the loop, until interrupted."""
    server = webhook_server(db, config.webhook_port)
    threading.Thread(target=server.serve_forever, name="sms-webhook", daemon=True).start()
    log.warning("SMS worker: webhook on port %s, gateway %s, %s", config.webhook_port, gateway.name, db.description)
    stop = threading.Event()
    try:
        Worker(db, gateway, config).run_forever(stop)
    except KeyboardInterrupt:
        pass
    finally:
        stop.set()
        server.shutdown()
