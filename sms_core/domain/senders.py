"""An org unit representative's SMS sender: what the recipient sees as "from".

A sender is either alphanumeric (at most 11 GSM characters, at least one letter — the limit of the
GSM originator field) or a valid phone number.  A unit whose sender is missing or invalid cannot
send: its attempts are recorded as "Invalid representative for unit".
"""

from __future__ import annotations

from sms_core.domain.phones import DEFAULT_REGION, InvalidPhoneNumber, parse_phone
from sms_core.domain.segments import GSM_BASIC

_ALPHANUMERIC_SENDER_CHARS = frozenset(ch for ch in GSM_BASIC if ch.isalnum() or ch in " -_.&")


def sender_problem(sender: str | None, representative: str | None = "x", region: str = DEFAULT_REGION) -> str | None:
    """Why this representative/sender cannot send SMS, as a sentence; None when it can."""
    if not (representative or "").strip():
        return "The unit has no representative."
    value = (sender or "").strip()
    if not value:
        return "The representative has no SMS sender configured."
    if value.lstrip("+").replace(" ", "").isdigit():
        try:
            parse_phone(value, region)
        except InvalidPhoneNumber as exc:
            return f"The SMS sender is not a valid phone number: {exc.message}"
        return None
    if len(value) > 11:
        return f"An alphanumeric SMS sender can have at most 11 characters (this one has {len(value)})."
    bad = sorted({ch for ch in value if ch not in _ALPHANUMERIC_SENDER_CHARS})
    if bad:
        return f"An alphanumeric SMS sender cannot contain {' '.join(bad)}."
    if not any(ch.isalpha() for ch in value):
        return "An alphanumeric SMS sender needs at least one letter."
    return None


def normalise_sender(sender: str, region: str = DEFAULT_REGION) -> str:
    """The form stored and given to the gateway: E.164 for numbers, trimmed text otherwise."""
    value = sender.strip()
    if value.lstrip("+").replace(" ", "").isdigit():
        return parse_phone(value, region).e164
    return value
