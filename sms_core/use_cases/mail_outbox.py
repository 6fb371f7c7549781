"""Sending the mails of the outbox: each exactly once, a mail server that is down only delays them.

A mail is claimed, handed to the server and marked sent in one transaction: on PostgreSQL the
claim is ``FOR UPDATE SKIP LOCKED``, so two workers never take the same mail; on SQLite a write
first takes the database's write lock.  A mail that could not be handed over stays in the
outbox and is tried again later, each wait twice as long as the one before (at most half an
hour); when the server itself is down the round stops, rather than trying every mail in turn.
(A worker killed between the server's "250 OK" and the commit would send that one mail again:
no transaction spans both machines.)
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from sms_core.gateways.mail import MailNotSent
from sms_core.storage.alert_models import MailOutbox
from sms_core.storage.database import Database
from sms_core.storage.models import utcnow

log = logging.getLogger(__name__)

FIRST_RETRY_SECONDS = 30.0
LONGEST_RETRY_SECONDS = 1800.0


class Mailer(Protocol):
    def send(self, recipient: str, subject: str, body: str) -> None: ...


@dataclass(frozen=True)
class MailRound:
    sent: int = 0
    failed: int = 0


def retry_delay(attempts: int) -> timedelta:
    """How long a mail waits after its ``attempts``-th failed attempt."""
    return timedelta(seconds=min(LONGEST_RETRY_SECONDS, FIRST_RETRY_SECONDS * 2 ** max(0, attempts - 1)))


def send_due_mails(db: Database, mailer: Mailer, *, now: datetime | None = None, limit: int = 20) -> MailRound:
    """Send up to ``limit`` mails that are due; one transaction per mail."""
    sent = failed = 0
    for _ in range(limit):
        outcome = _send_one(db, mailer, now or utcnow())
        if outcome is None:
            break
        if outcome is True:
            sent += 1
            continue
        failed += 1
        if outcome == "server down":
            break
    return MailRound(sent, failed)


def _send_one(db: Database, mailer: Mailer, now: datetime) -> bool | str | None:
    """True: sent; "failed" / "server down": left for later; None: nothing is due."""
    with db.session() as session:
        mail = _claim(session, db, now)
        if mail is None:
            return None
        try:
            mailer.send(mail.recipient, mail.subject, mail.body)
        except MailNotSent as exc:
            mail.attempts += 1
            mail.last_error = exc.message[:500]
            mail.next_attempt_at = now + retry_delay(mail.attempts)
            log.warning("alert mail %s to %s not sent (attempt %s): %s", mail.id, mail.recipient, mail.attempts, exc)
            return "server down" if exc.server_down else "failed"
        mail.sent_at = now
        return True


def _due(now: datetime):
    return (
        select(MailOutbox)
        .where(MailOutbox.sent_at.is_(None), MailOutbox.next_attempt_at <= now)
        .order_by(MailOutbox.next_attempt_at, MailOutbox.id)
        .limit(1)
    )


def _claim(session: Session, db: Database, now: datetime) -> MailOutbox | None:
    if db.is_postgres:
        return session.scalars(_due(now).with_for_update(skip_locked=True)).first()
    first = session.scalars(_due(now)).first()  # a plain read: no lock while nothing is due
    if first is None:
        return None
    # Take SQLite's write lock, then read again: another process may have sent it meanwhile.
    session.execute(update(MailOutbox).where(MailOutbox.id == first.id).values(attempts=MailOutbox.attempts))
    return session.scalars(_due(now).execution_options(populate_existing=True)).first()
