"""The incoming-SMS route, ``GET|POST /api/mo``: how a gateway hands us replies, and who may.

Kannel calls it from an ``sms-service`` (``python -m sms_core kannel-config`` prints the group).
A call is taken only from an allowed address (SMS_INCOMING_ALLOWED_ADDRESSES, default this host,
where smsbox usually runs) and with the secret (SMS_INCOMING_SECRET) in its ``secret`` parameter,
compared in constant time; a wrong address and a wrong secret are answered alike, and without a
secret configured every call is refused — the route never fails open.  The route's limits (size,
methods, plain-text answers) are those of every route (``delivery.http``).  What the gateway sends
is read by its adapter (``Gateway.parse_reply``); storing is ``use_cases.replies``, in groups
(``ReplyBatcher``), so a burst of replies shares transactions as delivery reports do.
"""

from __future__ import annotations

import hmac
import ipaddress
from collections.abc import Mapping

from sms_core.config import Config
from sms_core.delivery.reports import ReportBatcher
from sms_core.domain.errors import SmsError
from sms_core.gateways.base import Gateway, IncomingMessage
from sms_core.storage.database import Database
from sms_core.use_cases.message_lifecycle import ReportVerdict
from sms_core.use_cases.replies import receive_replies, receive_reply_alone

INCOMING_PATH = "/api/mo"
NOT_ALLOWED = "not allowed"  # the same for a wrong address and a wrong secret


class ReplyBatcher(ReportBatcher):
    """Group commit for incoming SMS, with ``ReportBatcher``'s guarantees (each caller waits for
    its own verdict; a failed group is stored again one by one)."""

    what = "incoming SMS"

    def __init__(self, db: Database, gateway_name: str, config: Config):
        self.gateway_name = gateway_name
        self.config = config
        self.networks = tuple(ipaddress.ip_network(item, strict=False) for item in config.incoming_allowed)
        super().__init__(db)

    def receive(self, sms: IncomingMessage) -> ReportVerdict:
        """The simulated gateway's way in (its ``reply_sink``): the path an HTTP call takes."""
        return self.apply(sms)  # type: ignore[arg-type]

    def _store_together(self, batch: list[IncomingMessage]) -> list[ReportVerdict]:  # type: ignore[override]
        return receive_replies(self.db, self.gateway_name, batch, self.config)

    def _store_alone(self, sms: IncomingMessage) -> ReportVerdict:  # type: ignore[override]
        return receive_reply_alone(self.db, self.gateway_name, sms, self.config)

    def allowed(self, address: str | None, secret: str) -> bool:
        """The caller's address is allowed and the secret matches (in constant time)."""
        configured = self.config.incoming_secret
        if not configured or not address:
            return False
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        matches = hmac.compare_digest(configured.encode(), secret.encode("utf-8", "replace"))
        return matches and any(ip in network for network in self.networks if network.version == ip.version)


def handle_incoming(
    params: Mapping[str, str], address: str | None, gateway: Gateway, replies: ReplyBatcher | None
) -> ReportVerdict:
    """One call of the route: authenticate, let the gateway read it, store it (once)."""
    if replies is None or not replies.config.incoming_secret:
        return ReportVerdict(403, "incoming SMS are not taken here: SMS_INCOMING_SECRET is not set")
    if not replies.allowed(address, params.get("secret", "")):
        return ReportVerdict(403, NOT_ALLOWED)
    try:
        sms = gateway.parse_reply(params)
    except SmsError as exc:
        return ReportVerdict(400, exc.message)
    return replies.receive(sms)


def incoming_url(report_url: str) -> str:
    """Where the gateway delivers incoming SMS: beside the delivery-report route it is given."""
    base, sep, query = report_url.partition("?")
    head = base[: -len("/api/dlr")] if base.endswith("/api/dlr") else base.rstrip("/")
    return f"{head}{INCOMING_PATH}"
