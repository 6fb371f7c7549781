"""Alert mails through a real SMTP server (aiosmtpd on a free port): a server that is down only
delays a mail, which is then sent exactly once — also with several workers at once."""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import timedelta

import pytest
from smtp_server import SmtpServer
from sqlalchemy import select
from support import accepting

from sms_core.config import DEFAULTS
from sms_core.delivery.alert_loop import AlertLoop
from sms_core.gateways.mail import SmtpMailer
from sms_core.storage.alert_models import MailOutbox
from sms_core.storage.models import utcnow
from sms_core.use_cases.mail_outbox import retry_delay, send_due_mails


def queue(db, count: int) -> None:
    now = utcnow()
    with db.session() as session:
        session.add_all(
            MailOutbox(
                recipient=f"lead{i}@example.org",
                subject=f"SMS alert {i}",
                body="Failure spike in Oslo Sentrum.\n",
                created_at=now,
                next_attempt_at=now,
                attempts=0,
            )
            for i in range(count)
        )


def outbox(db) -> list[MailOutbox]:
    with db.session() as session:
        return list(session.scalars(select(MailOutbox).order_by(MailOutbox.id)))


@pytest.fixture
def smtp():
    server = SmtpServer()
    yield server
    server.stop()


def mailer_for(server: SmtpServer) -> SmtpMailer:
    return SmtpMailer(replace(DEFAULTS, smtp_host="127.0.0.1", smtp_port=server.port, smtp_from="sms@example.org"))


def test_a_mail_server_that_is_down_delays_the_mail_which_is_sent_once_when_it_is_back(db, smtp):
    queue(db, 2)
    mailer, now = mailer_for(smtp), utcnow()
    down = send_due_mails(db, mailer, now=now)
    assert (down.sent, down.failed) == (0, 1)  # the server is down: the round stops at the first mail
    first, second = outbox(db)
    assert (first.attempts, first.sent_at, second.attempts) == (1, None, 0)
    assert "cannot be reached" in first.last_error and first.next_attempt_at == now + timedelta(seconds=30)

    smtp.start()
    assert send_due_mails(db, mailer, now=now + timedelta(seconds=10)).sent == 1  # the second; the first waits
    assert send_due_mails(db, mailer, now=now + timedelta(seconds=31)).sent == 1
    assert send_due_mails(db, mailer, now=now + timedelta(hours=1)).sent == 0
    assert sorted(to for to, _ in smtp.received()) == ["lead0@example.org", "lead1@example.org"]  # once each
    received = dict(smtp.received())["lead0@example.org"]
    assert (received["From"], received["Subject"]) == ("sms@example.org", "SMS alert 0")
    assert received.get_content().strip() == "Failure spike in Oslo Sentrum."
    assert all(m.sent_at is not None for m in outbox(db))


def test_retries_wait_twice_as_long_each_time_at_most_half_an_hour():
    assert [retry_delay(n).total_seconds() for n in (1, 2, 3, 7, 50)] == [30, 60, 120, 1800, 1800]


def test_several_workers_sending_at_once_send_each_mail_exactly_once(db, smtp):
    smtp.start()
    queue(db, 12)
    mailer, start = mailer_for(smtp), threading.Barrier(3)

    def drain() -> None:
        start.wait()
        while send_due_mails(db, mailer, limit=2).sent:
            pass

    threads = [threading.Thread(target=drain) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(to for to, _ in smtp.received()) == sorted(f"lead{i}@example.org" for i in range(12))


def test_without_smtp_host_the_worker_leaves_mails_untried_and_sends_them_once_a_server_is_set(db, smtp):
    queue(db, 1)
    AlertLoop(db, accepting(), DEFAULTS).send_mails()  # SMTP_HOST unset
    [mail] = outbox(db)
    assert (mail.attempts, mail.sent_at, mail.last_error) == (0, None, None)
    smtp.start()
    configured = replace(DEFAULTS, smtp_host="127.0.0.1", smtp_port=smtp.port)
    assert AlertLoop(db, accepting(), configured).send_mails().sent == 1
    assert [to for to, _ in smtp.received()] == ["lead0@example.org"]
