"""The Kannel adapter: submit through Kannel's HTTP ``sendsms`` interface, learn the outcome from
delivery reports that Kannel pushes to our webhook.

Submitting
    One ``GET {kannel_sendsms_url}?username=…&password=…&from=…&to=…&text=…&charset=UTF-8``
    (plus ``coding=2`` for Unicode texts and, when the message has a callback URL, ``dlr-mask=31``
    and ``dlr-url``).  GET, because Kannel 1.4's sendsms refuses a form-encoded POST body
    ("Invalid content-type"); the price is that the password is in Kannel's access log.
    ``charset=UTF-8`` is always sent because every parameter is UTF-8 percent-encoded: without it
    Kannel would guess.  Kannel's sendsms returns no message id, so the id we report is our own
    ``str(sms.message_id)``: stable, and it is what the webhook gets back through the callback URL.

Delivery reports (what the webhook receives)
    ``dlr-mask=31`` asks for every report type: 1 delivered to phone, 2 not delivered to phone,
    4 queued on the SMSC, 8 accepted by the SMSC, 16 rejected by the SMSC.  For each one Kannel
    calls, with a plain GET::

        {callback_url}?type={1|2|4|8|16}&answer={SMSC answer, percent-encoded}
        {callback_url}&type=…&answer=…          (when callback_url already has a query string)

    so every query parameter of ``callback_url`` (the per-message token) comes back unchanged,
    followed by ``type`` (``%d``: the report type) and ``answer`` (``%A``: the SMSC's own text,
    e.g. ``ACK/`` for type 8, ``id:… stat:DELIVRD …`` from an SMPP SMSC; it may be empty).
    Kannel treats ``%`` in a dlr-url as the start of one of its substitutions (``%C3`` would become
    "charset" + "3"), so every ``%`` already in ``callback_url`` is sent doubled (``%%``), which
    Kannel turns back into one ``%``.  ``KannelGateway.parse_report`` turns ``type``/``answer``
    into a gateway-neutral report.

Outcomes of a submit
    HTTP 202 "0: Accepted for delivery" / "3: Queued for later delivery" → ACCEPTED.
    A refusal of this message (HTTP 400, or 403 other than "Authorization failed", such as
    "Not routable. Do not try again.") → REJECTED with Kannel's words.
    Our own configuration refused (403 "Authorization failed", 404 and other 4xx), any 5xx, or no
    connection at all → FAILED: the message was not handed over, so resending is safe.
    The request was sent but no answer came (timeout, connection dropped) or the answer is not
    Kannel's → UNKNOWN: it may have been sent, so it must never be resubmitted automatically.
"""

from __future__ import annotations

import http.client
import socket
from collections.abc import Mapping
from urllib.parse import SplitResult, parse_qsl, urlencode, urlsplit

from sms_core.config import Config, redact_url
from sms_core.domain.errors import ConfigurationError
from sms_core.gateways.base import (
    DeliveryReportKind,
    GatewayReport,
    IncomingMessage,
    OutgoingSms,
    SubmitOutcome,
    SubmitResult,
    UnknownReport,
)
from sms_core.gateways.kannel_incoming import parse_kannel_reply

# Kannel's DLR types (its dlr-mask bits): what each means for us, and the words used when the
# SMSC sent no text of its own.
_REPORT_TYPES: dict[int, tuple[DeliveryReportKind, str]] = {
    1: (DeliveryReportKind.DELIVERED, "Delivered to phone"),
    2: (DeliveryReportKind.UNDELIVERED, "Not delivered to phone"),
    4: (DeliveryReportKind.BUFFERED, "Queued on the SMSC"),
    8: (DeliveryReportKind.BUFFERED, "Accepted by the SMSC"),
    16: (DeliveryReportKind.REJECTED, "Rejected by the SMSC"),
}
DLR_MASK = 1 | 2 | 4 | 8 | 16  # = 31: every report type above
UCS2 = "2"  # Kannel's coding for Unicode (UCS-2) messages


def kannel_dlr_url(callback_url: str) -> str:
    """The dlr-url handed to Kannel for ``callback_url`` (see the module docstring for the shape)."""
    escaped = callback_url.replace("%", "%%")  # keep the callback's own %XX out of Kannel's hands
    if "?" not in escaped:
        separator = "?"
    elif escaped.endswith(("?", "&")):
        separator = ""
    else:
        separator = "&"
    return f"{escaped}{separator}type=%d&answer=%A"


class KannelGateway:
    """Submits to Kannel's sendsms; never raises for gateway trouble (see the module docstring)."""

    name = "kannel"

    def __init__(
        self, sendsms_url: str, username: str, password: str, timeout: float = 10.0, report_url: str | None = None
    ):
        parts = urlsplit(sendsms_url)
        if parts.scheme not in {"http", "https"} or not parts.hostname or not _port_readable(parts):
            shown = redact_url(sendsms_url)
            raise ConfigurationError(
                f"KANNEL_SENDSMS_URL={shown!r} is not an http:// or https:// URL with a port number."
            )
        self.sendsms_url = sendsms_url
        self.username = username
        self.password = password
        self.timeout = timeout
        self.report_url = report_url
        self._parts = parts
        self._fixed_query = parse_qsl(parts.query, keep_blank_values=True)

    @classmethod
    def from_config(cls, config: Config, report_url: str | None = None) -> KannelGateway:
        return cls(
            config.kannel_sendsms_url,
            config.kannel_username,
            config.kannel_password,
            config.kannel_timeout,
            report_url,
        )

    def parse_report(self, params: Mapping[str, str]) -> GatewayReport:
        """Kannel's ``type`` (%d) and ``answer`` (%A) → what the report says and the detail to record.

        The detail is the SMSC's answer when it gave one, else a plain description of the type.
        Anything that is not one of Kannel's five report types is refused: a webhook must not
        guess what an unknown report means.
        """
        type_code = params.get("type", "")
        try:
            kind, description = _REPORT_TYPES[int(type_code.strip())]
        except (ValueError, KeyError):
            known = ", ".join(str(code) for code in _REPORT_TYPES)
            raise UnknownReport(f"Kannel delivery report type {type_code!r} is not one of {known}.") from None
        return GatewayReport(kind, params.get("answer", "").strip() or description)

    def parse_reply(self, params: Mapping[str, str]) -> IncomingMessage:
        """An incoming SMS from Kannel's sms-service (gateways/kannel_incoming.py)."""
        return parse_kannel_reply(params)

    def __repr__(self) -> str:  # never shows the password
        return f"KannelGateway({self._where!r}, username={self.username!r})"

    @property
    def _where(self) -> str:
        """The sendsms URL without its query, for messages people read (no credentials in it)."""
        p = self._parts
        return f"{p.scheme}://{p.netloc.rpartition('@')[2]}{p.path}"

    def request_params(self, sms: OutgoingSms) -> list[tuple[str, str]]:
        """The sendsms query parameters for ``sms``, in order (they include the password)."""
        params = [
            *self._fixed_query,
            ("username", self.username),
            ("password", self.password),
            ("from", sms.sender),
            ("to", sms.to),
            ("text", sms.text),
            ("charset", "UTF-8"),
        ]
        if sms.unicode:
            params.append(("coding", UCS2))
        if sms.callback_url:
            params += [("dlr-mask", str(DLR_MASK)), ("dlr-url", kannel_dlr_url(sms.callback_url))]
        return params

    def submit(self, sms: OutgoingSms) -> SubmitResult:
        if not sms.to or any(ch.isspace() for ch in sms.to):
            # Kannel reads spaces in "to" as a list of recipients: never let one message go to two.
            return SubmitResult(SubmitOutcome.REJECTED, f"'{sms.to}' is not a single phone number.")
        target = f"{self._parts.path or '/'}?{urlencode(self.request_params(sms))}"
        connection = self._connection()
        try:
            try:
                connection.connect()
                connection.request("GET", target)
            except OSError as exc:  # not handed over: no complete request reached Kannel
                reason = _describe(exc, self.timeout)
                return SubmitResult(SubmitOutcome.FAILED, f"Could not send to Kannel at {self._where}: {reason}")
            except Exception as exc:  # refused before sending (http.client.InvalidURL, a host IDNA cannot
                # encode): its message quotes the whole request, password and dlr-url token, so not shown
                return SubmitResult(
                    SubmitOutcome.FAILED,
                    f"Could not send to Kannel at {self._where}: the request could not be made "
                    f"({type(exc).__name__}); check KANNEL_SENDSMS_URL.",
                )
            try:
                response = connection.getresponse()
                status, body = response.status, response.read().decode("utf-8", "replace").strip()
            except OSError as exc:  # sent, but Kannel's answer is lost
                reason = _describe(exc, self.timeout)
                return SubmitResult(
                    SubmitOutcome.UNKNOWN,
                    f"No answer from Kannel at {self._where} after the "
                    f"message was sent ({reason}); it may or may not have been accepted.",
                )
            except http.client.HTTPException as exc:  # sent, and whatever answered does not speak HTTP
                reason = _describe(exc, self.timeout)
                return SubmitResult(
                    SubmitOutcome.UNKNOWN,
                    f"Unexpected answer from {self._where}: {reason}; it may or may not have been accepted.",
                )
        finally:
            connection.close()
        return self._outcome(sms, status, body)

    def _outcome(self, sms: OutgoingSms, status: int, body: str) -> SubmitResult:
        code, _, words = body.partition(":")
        if 200 <= status < 300 and code.strip() in {"0", "3"}:  # 0 accepted, 3 queued for later
            return SubmitResult(SubmitOutcome.ACCEPTED, words.strip() or body, str(sms.message_id))
        detail = body or http.client.responses.get(status, "no text")
        if status == 400 or (status == 403 and "authoriz" not in body.lower()):
            return SubmitResult(SubmitOutcome.REJECTED, detail)
        if status == 403:
            return SubmitResult(SubmitOutcome.FAILED, f"Kannel refused our credentials: {detail} (HTTP 403)")
        if 400 <= status < 600:
            return SubmitResult(SubmitOutcome.FAILED, f"Kannel answered HTTP {status}: {detail}")
        # A 1xx/2xx/3xx that is not Kannel's "0:"/"3:": whatever answered may have taken the message.
        return SubmitResult(
            SubmitOutcome.UNKNOWN,
            f"Unexpected answer from {self._where}: HTTP {status} {detail!r}; it may or may not have been accepted.",
        )

    def problem(self) -> str | None:
        """Asks the sendsms port without credentials: any HTTP answer (even 403) means it is up."""
        connection = self._connection(timeout=min(self.timeout, 5.0))
        try:
            connection.request("GET", self._parts.path or "/")
            connection.getresponse().read()
        except (OSError, http.client.HTTPException) as exc:
            return f"Kannel at {self._where} does not answer: {_describe(exc, min(self.timeout, 5.0))}."
        except Exception as exc:  # as in submit: the exception's own words may quote the URL
            return f"Kannel at {self._where} cannot be asked ({type(exc).__name__}); check KANNEL_SENDSMS_URL."
        finally:
            connection.close()
        return None

    def _connection(self, timeout: float | None = None) -> http.client.HTTPConnection:
        kind = http.client.HTTPSConnection if self._parts.scheme == "https" else http.client.HTTPConnection
        return kind(self._parts.hostname, self._parts.port, timeout=timeout or self.timeout)


def _port_readable(parts: SplitResult) -> bool:
    """False when the URL's port is not a number (reading it raises, later, wherever it is read)."""
    try:
        parts.port  # noqa: B018
    except ValueError:
        return False
    return True


def _describe(exc: BaseException, timeout: float) -> str:
    """A short human phrase for a network error ("connection refused", "no answer within 10 s")."""
    if isinstance(exc, (TimeoutError, socket.timeout)):
        return f"no answer within {timeout:g} s"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, (ConnectionResetError, http.client.RemoteDisconnected)):
        return "the connection was closed without an answer"
    if isinstance(exc, http.client.BadStatusLine):  # quoted, so a stray CR/LF cannot reach the page
        return f"{exc.line.strip()[:60]!r} is not HTTP"
    if isinstance(exc, socket.gaierror):
        return f"the host name cannot be resolved ({exc.strerror})"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror[0].lower() + exc.strerror[1:]
    return str(exc) or type(exc).__name__
