"""Kannel's side of incoming SMS: what its ``sms-service`` sends us, and the configuration that
makes it send exactly that (``python -m sms_core kannel-config`` prints it).

Kannel hands an incoming SMS (MO) to an ``sms-service`` whose ``get-url`` it calls with its own
substitutions filled in::

    {incoming_url}&from=%p&to=%P&text=%b&coding=%c&charset=%C&ts=%T&id=%I

``%p`` the sender's number, ``%P`` the number (or sender) it was sent to, ``%b`` the text exactly
as received (``%a`` would join its words with single spaces), ``%c``/``%C`` its coding and charset,
``%T`` when Kannel got it (Unix time) and ``%I`` Kannel's own id of the message (a UUID), which
stays the same when smsbox retries the call.  With ``mo-recode = true`` in the smsbox group a
Unicode (UCS-2) text arrives as UTF-8 like any other; without it the text would be UTF-16 bytes,
which this adapter refuses rather than guesses at.  ``max-messages = 0`` keeps Kannel from
sending our plain-text answer back to the phone as an SMS.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime

from sms_core.gateways.base import IncomingMessage, UnknownReply

MO_PARAMETERS = "from=%p&to=%P&text=%b&coding=%c&charset=%C&ts=%T&id=%I"
_TEXT_CHARSETS = {"", "UTF-8", "UTF8"}


def parse_kannel_reply(params: Mapping[str, str]) -> IncomingMessage:
    """The incoming SMS in a call of the sms-service's get-url (see the module docstring)."""
    sender = params.get("from", "").strip()
    if not sender:
        raise UnknownReply("An incoming SMS from Kannel needs the sender (from=%p).", field="from")
    if "text" not in params:
        raise UnknownReply("An incoming SMS from Kannel needs its text (text=%b).")
    coding = params.get("coding", "0").strip() or "0"
    charset = params.get("charset", "").strip().upper()
    if coding != "0" or charset not in _TEXT_CHARSETS:
        raise UnknownReply(
            f"Kannel sent the text with coding {coding!r} and charset {charset!r}, not as UTF-8 text: "
            "set mo-recode = true in Kannel's smsbox group."
        )
    return IncomingMessage(
        sender=sender,
        text=params["text"],
        receiver=params.get("to", "").strip() or None,
        gateway_id=params.get("id", "").strip()[:100],
        received_at=_unix_time(params.get("ts", "")),
    )


def _unix_time(raw: str) -> datetime | None:
    """Kannel's %T; None (that is: now) when it is missing or not a plausible time."""
    raw = raw.strip()
    if not raw.isdigit() or len(raw) > 12:
        return None
    try:
        return datetime.fromtimestamp(int(raw), UTC)
    except (OverflowError, OSError, ValueError):
        return None


def kannel_groups(username: str, password: str, incoming_url: str) -> str:
    """The ``sendsms-user`` and ``sms-service`` groups for kannel.conf, ready to paste."""
    escaped = incoming_url.replace("%", "%%")  # Kannel reads % as the start of a substitution
    separator = "&" if "?" in escaped else "?"
    return f"""\
# Outgoing SMS: the sendsms user this app submits as (KANNEL_USERNAME / KANNEL_PASSWORD).
# max-messages: a 1000-character Unicode text needs up to 30 parts; Kannel cuts at max-messages.
group = sendsms-user
username = {_quoted(username)}
password = {_quoted(password)}
max-messages = 30
concatenation = true

# Incoming SMS (replies, STOP): every MO goes to this app's /api/mo.  Also set
#   mo-recode = true
# in the smsbox group, so Unicode replies arrive as UTF-8.
group = sms-service
keyword = default
catch-all = true
get-url = {_quoted(f"{escaped}{separator}{MO_PARAMETERS}")}
max-messages = 0
"""


def _quoted(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
