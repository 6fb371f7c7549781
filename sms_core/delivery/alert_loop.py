"""The worker's alert loop: evaluate the alert rules every SMS_ALERT_INTERVAL seconds (a minute)
and send the outbox's mails every few seconds.

Its own thread beside the dispatch loop, so a gateway slow to answer ``problem()`` or a mail
server that hangs never holds up an SMS.
"""

from __future__ import annotations

import logging
import threading
import time

from sms_core.config import DEFAULTS, Config
from sms_core.domain.errors import SmsError
from sms_core.gateways.base import Gateway
from sms_core.gateways.mail import SmtpMailer
from sms_core.storage.database import Database
from sms_core.use_cases.alerting import evaluate_alerts
from sms_core.use_cases.mail_outbox import Mailer, send_due_mails

log = logging.getLogger(__name__)

MAIL_INTERVAL = 5.0  # seconds between looks at the outbox


class AlertLoop:
    def __init__(self, db: Database, gateway: Gateway, config: Config = DEFAULTS, mailer: Mailer | None = None):
        self.db, self.gateway, self.config = db, gateway, config
        self.mailer = mailer or SmtpMailer(config)

    def evaluate(self):
        try:
            problem = self.gateway.problem()
        except Exception as exc:  # a gateway that cannot even say what is wrong is unreachable too
            problem = f"The gateway could not be asked ({type(exc).__name__})."
        result = evaluate_alerts(self.db, problem, public_url=self.config.public_url)
        if result.opened or result.resolved:
            log.info("alerts: %s opened, %s resolved", result.opened, result.resolved)
        return result

    def run_forever(self, stop: threading.Event) -> None:
        next_evaluation = 0.0
        while not stop.is_set():
            if time.monotonic() >= next_evaluation:
                next_evaluation = time.monotonic() + self.config.alert_interval
                _guarded(self.evaluate)
            _guarded(self.send_mails)
            stop.wait(min(MAIL_INTERVAL, self.config.alert_interval))

    def send_mails(self):
        """Without SMTP_HOST the mails wait in the outbox untried, so they go out as soon as a
        worker with a mail server starts, not after a backoff earned while there was none."""
        if not getattr(self.mailer, "configured", True):
            return None
        return send_due_mails(self.db, self.mailer)


def _guarded(duty) -> None:
    try:
        duty()
    except SmsError as exc:  # the database is down: say so and try again next round
        log.warning("alert loop: %s", exc.message)
    except Exception:
        log.exception("alert loop failed")


def start_alert_loop(db: Database, gateway: Gateway, config: Config = DEFAULTS):
    """Start the alert loop as a daemon thread; returns a function that stops it."""
    stop = threading.Event()
    loop = AlertLoop(db, gateway, config)
    thread = threading.Thread(target=loop.run_forever, args=(stop,), name="sms-alerts", daemon=True)
    thread.start()

    def stopper() -> None:
        stop.set()
        thread.join(timeout=5)

    return stopper
