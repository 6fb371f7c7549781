"""The one small protocol every SMS gateway adapter implements.

An adapter only talks to its gateway: it never touches the database.  The worker and the
services decide what an outcome means for a message (statuses.py holds the rules).  Each adapter
also reads its own delivery reports (``parse_report``) and incoming SMS (``parse_reply``), so the
webhook knows no gateway's format.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import Protocol, runtime_checkable

from sms_core.domain.errors import InvalidInput


class SubmitOutcome(Enum):
    ACCEPTED = "accepted"  # the gateway took the message and will try to deliver it
    REJECTED = "rejected"  # the gateway refused this message (bad number, not routable, …)
    FAILED = "failed"  # we could not hand it over: connection refused, 5xx, our credentials refused
    UNKNOWN = "unknown"  # the request went out but no answer came: it may or may not be sent


@dataclass(frozen=True)
class OutgoingSms:
    message_id: int
    to: str  # E.164
    text: str
    sender: str  # the org unit representative's sender: alphanumeric or E.164
    unicode: bool
    callback_url: str | None  # where the gateway reports delivery (carries the per-message token)


@dataclass(frozen=True)
class SubmitResult:
    outcome: SubmitOutcome
    detail: str  # the gateway's own words, shown to people as the reason
    gateway_message_id: str | None = None


class DeliveryReportKind(Enum):
    """What a delivery report says, in gateway-neutral words."""

    DELIVERED = "delivered"  # delivered to phone → Received
    UNDELIVERED = "undelivered"  # not delivered to phone → Sending failed
    REJECTED = "rejected"  # rejected by the SMSC → Rejected
    BUFFERED = "buffered"  # intermediate (queued / submitted to SMSC): recorded, status unchanged


@dataclass(frozen=True)
class GatewayReport:
    """A delivery report as a gateway sent it, in gateway-neutral words."""

    kind: DeliveryReportKind
    detail: str  # the gateway's (or SMSC's) own words, recorded in the message's history


class UnknownReport(InvalidInput):
    """A delivery report this gateway does not send: the webhook must not guess what it means."""

    field = "type"


@dataclass(frozen=True)
class IncomingMessage:
    """An incoming SMS (a reply) as a gateway delivered it, in gateway-neutral words."""

    sender: str  # the phone that sent it, as the gateway wrote it
    text: str
    receiver: str | None = None  # the number or sender it was sent to, when the gateway says
    gateway_id: str = ""  # the gateway's own id of this SMS: what makes a retry recognisable
    received_at: datetime | None = None  # when the gateway got it (None: now)


class UnknownReply(InvalidInput):
    """An incoming-SMS request this gateway would not send: it must not be guessed at."""

    field = "text"


@runtime_checkable
class Gateway(Protocol):
    name: str
    # Where this gateway is told to deliver reports (our delivery-report route), the per-message
    # id and token added; None asks for no reports.  Set once, by sms_core.bootstrap.
    report_url: str | None

    def submit(self, sms: OutgoingSms) -> SubmitResult:
        """Hand one SMS to the gateway; never raises for gateway trouble, returns FAILED/UNKNOWN."""
        ...

    def problem(self) -> str | None:
        """None when the gateway answers; otherwise a sentence saying what is wrong."""
        ...

    def parse_report(self, params: Mapping[str, str]) -> GatewayReport:
        """The report in a delivery-report request's parameters; UnknownReport if it is none of ours."""
        ...

    def parse_reply(self, params: Mapping[str, str]) -> IncomingMessage:
        """The incoming SMS in an incoming-SMS request's parameters; UnknownReply if it is none."""
        ...
