"""The worker: the work that belongs to no page request.

- dispatch: queued messages are claimed (never by two workers) and handed to the gateway;
- the status-check sweep: no final report in time → "Timeout during status check";
- recovery: a message left mid-submission by a crash becomes "Sending failed" (outcome unknown),
  never silently sent again;
- alerts: the rules evaluated every minute and their mails sent, in a thread of their own
  (``sms_core.delivery.alert_loop``);
- retention: texts, numbers and status details older than the settings say are anonymised, on
  a thread of its own so a long run never holds up dispatch (``sms_core.delivery.retention``);
- status callbacks: the outbox of the API keys' callbacks, delivered and retried
  (``sms_core.delivery.callbacks``); Idempotency-Keys older than 24 hours are forgotten.

Delivery reports arrive over HTTP (``sms_core.delivery.http``).  ``python -m sms_core worker``
runs the loop and that HTTP app as one process (several on one PostgreSQL are fine); in the
embedded default the loop is a thread of the app process, whose server carries the same routes.
"""

from __future__ import annotations

import logging
import threading
from contextlib import asynccontextmanager

import uvicorn

from sms_core.config import DEFAULTS, Config
from sms_core.delivery.alert_loop import start_alert_loop
from sms_core.delivery.api.app import build_api
from sms_core.delivery.callbacks import deliver_callbacks
from sms_core.delivery.http import announce_report_url, http_app, report_url_fix
from sms_core.delivery.incoming import ReplyBatcher
from sms_core.delivery.reports import ReportBatcher
from sms_core.delivery.retention import retention_loop
from sms_core.domain.errors import SmsError
from sms_core.gateways.base import Gateway
from sms_core.storage.database import Database
from sms_core.use_cases.api_idempotency import forget_old_keys
from sms_core.use_cases.message_lifecycle import claim_queued, recover_interrupted, sweep_status_checks
from sms_core.use_cases.submission import submit_message

log = logging.getLogger(__name__)


class Worker:
    def __init__(self, db: Database, gateway: Gateway, config: Config = DEFAULTS, batch: int = 50):
        self.db = db
        self.gateway = gateway
        self.config = config
        self.batch = batch
        # Never shorter than a submission can take, or a slow live worker would look crashed.
        self.lease_seconds = max(self.config.submit_lease, self.config.kannel_timeout * 2)

    def run_once(self) -> dict[str, int]:
        """One round of every duty; returns how much each did (for logs and tests)."""
        recovered = recover_interrupted(self.db, self.lease_seconds)
        dispatched = 0
        claimed, claimed_at = claim_queued(self.db, self.batch)
        for message_id in claimed:
            submit_message(self.db, message_id, self.gateway, claimed_at, self.config.default_region)
            dispatched += 1
        timed_out = sweep_status_checks(self.db, self.config.status_check_timeout)
        callbacks = deliver_callbacks(self.db)
        forget_old_keys(self.db)
        return {"recovered": recovered, "dispatched": dispatched, "timed_out": timed_out, "callbacks": callbacks}

    def run_forever(self, stop: threading.Event, interval: float = 1.0) -> None:
        while not stop.is_set():
            try:
                done = self.run_once()
                busy = done["dispatched"] >= self.batch or done["callbacks"] > 0
            except SmsError as exc:  # database down: say so, keep going, recover when it is back
                log.warning("worker round failed: %s", exc.message)
                busy = False
            except Exception:
                log.exception("worker round failed")
                busy = False
            if not busy:
                stop.wait(interval)


def start_in_background(db: Database, gateway: Gateway, config: Config = DEFAULTS):
    """Start the worker loop and the alert loop as daemon threads; returns a function that stops both."""
    stop = threading.Event()
    thread = threading.Thread(
        target=Worker(db, gateway, config).run_forever, args=(stop,), name="sms-worker", daemon=True
    )
    thread.start()
    stop_alerts = start_alert_loop(db, gateway, config)
    retention = threading.Thread(target=retention_loop, args=(db, stop), name="sms-retention", daemon=True)
    retention.start()

    def stopper() -> None:
        stop.set()
        stop_alerts()
        thread.join(timeout=5)
        retention.join(timeout=5)

    return stopper


def run_worker(
    db: Database, gateway: Gateway, reports: ReportBatcher, config: Config, replies: ReplyBatcher | None = None
) -> None:
    """The stand-alone worker process: the HTTP routes on SMS_WEBHOOK_ADDRESS:SMS_WEBHOOK_PORT
    and the loop, until SIGINT/SIGTERM (uvicorn's own handlers stop both)."""

    @asynccontextmanager
    async def lifespan(app):
        stop = start_in_background(db, gateway, config)
        log.info(
            "SMS worker: HTTP on %s:%s, gateway %s, %s",
            config.webhook_address,
            config.webhook_port,
            gateway.name,
            db.description,
        )
        announce_report_url(gateway, report_url_fix(config, worker=True))
        try:
            yield
        finally:
            stop()

    app = http_app(gateway, reports, lifespan, replies, api=build_api(db, config))
    uvicorn.run(app, host=config.webhook_address, port=config.webhook_port, log_level="warning", access_log=False)
