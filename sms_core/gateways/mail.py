"""Sending one e-mail through SMTP (SMTP_HOST, SMTP_PORT, SMTP_STARTTLS, SMTP_USERNAME,
SMTP_PASSWORD, SMTP_FROM).  Like the SMS gateways it never touches the database: the outbox
(``use_cases.mail_outbox``) decides what to send and what a failure means."""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage

from sms_core.config import Config
from sms_core.domain.errors import SmsError


class MailNotSent(SmsError):
    """The mail was not handed over; ``server_down`` says whether trying the next one now is pointless."""

    def __init__(self, message: str, server_down: bool):
        super().__init__(message)
        self.server_down = server_down


class SmtpMailer:
    def __init__(self, config: Config):
        self.host = config.smtp_host
        self.port = config.smtp_port
        self.starttls = config.smtp_starttls
        self.username = config.smtp_username
        self._password = config.smtp_password
        self.sender = config.smtp_from
        self.timeout = config.smtp_timeout

    @property
    def configured(self) -> bool:
        return bool(self.host)

    def send(self, recipient: str, subject: str, body: str) -> None:
        """Hand one mail to the server; MailNotSent in one sentence (never the password) otherwise."""
        if not self.configured:
            raise MailNotSent("SMTP_HOST is not set, so alert mails wait in the outbox.", server_down=True)
        mail = EmailMessage()
        mail["From"], mail["To"], mail["Subject"] = self.sender, recipient, subject
        mail.set_content(body)
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
                if self.starttls:
                    smtp.starttls(context=ssl.create_default_context())
                if self.username:
                    smtp.login(self.username, self._password)
                smtp.send_message(mail)
        except smtplib.SMTPRecipientsRefused as exc:
            codes = ", ".join(f"{code} {reason.decode(errors='replace')}" for code, reason in exc.recipients.values())
            raise MailNotSent(f"The mail server refused {recipient}: {codes}"[:480], server_down=False) from None
        except smtplib.SMTPResponseException as exc:
            words = exc.smtp_error.decode(errors="replace") if isinstance(exc.smtp_error, bytes) else exc.smtp_error
            raise MailNotSent(f"The mail server answered {exc.smtp_code} {words}"[:480], server_down=True) from None
        except (OSError, smtplib.SMTPException) as exc:
            raise MailNotSent(
                f"The mail server {self.host}:{self.port} cannot be reached ({exc or type(exc).__name__}).",
                server_down=True,
            ) from None
