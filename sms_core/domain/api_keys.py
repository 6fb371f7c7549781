"""API key secrets and callback signatures: plain functions, so the rules are tested without I/O.

A key reads ``sms_<prefix>_<secret>``: the prefix is public (it finds the key's row and is shown in
lists), the secret is 32 random bytes and only its SHA-256 is stored.  That is enough for a
machine-made secret of that entropy (a slow password hash protects guessable passwords, and would
cost every API request tens of milliseconds); comparing the digests in constant time keeps the
answer's timing from telling anything about the secret.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets

KEY_PREFIX = "sms"
_KEY = re.compile(r"^sms_([A-Za-z0-9]{12})_([A-Za-z0-9_-]{43})$")
SIGNATURE_HEADER = "X-Sms-Signature"
EVENT_HEADER = "X-Sms-Event-Id"


def new_key() -> tuple[str, str, str]:
    """(prefix, whole key to show once, digest to store)."""
    prefix = "".join(secrets.choice("abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789") for _ in range(12))
    key = f"{KEY_PREFIX}_{prefix}_{secrets.token_urlsafe(32)}"
    return prefix, key, digest(key)


def new_callback_secret() -> str:
    return f"whsec_{secrets.token_urlsafe(32)}"


def digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def key_prefix(key: str) -> str | None:
    """The prefix of something shaped like one of our keys; None for anything else."""
    found = _KEY.match(key or "")
    return found.group(1) if found else None


def matches(key: str, stored_digest: str) -> bool:
    return hmac.compare_digest(digest(key), stored_digest)


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The X-Sms-Signature value: ``t=<unix time>,v1=<hex HMAC-SHA256 of "t.body">``."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def verify(secret: str, header: str, body: bytes, now: int, tolerance: int = 300) -> bool:
    """What a receiver does (the README shows it): the signature matches and is recent."""
    parts = dict(item.split("=", 1) for item in header.split(",") if "=" in item)
    if not parts.get("t", "").isdigit() or abs(now - int(parts["t"])) > tolerance:
        return False
    return hmac.compare_digest(sign(secret, int(parts["t"]), body), f"t={parts['t']},v1={parts.get('v1', '')}")
