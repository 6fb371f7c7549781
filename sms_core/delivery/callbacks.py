"""Sending the status callbacks of the outbox (``use_cases.api_callbacks``) to the keys' URLs.

Each POST is signed afresh (``X-Sms-Signature``, the time is part of what is signed, so a receiver
can refuse old replays) and carries the event id (``X-Sms-Event-Id`` and ``event_id``).  Anything
but a 2xx within the timeout is a failed attempt, retried with backoff; different messages'
callbacks go out side by side, one message's strictly one after the other.
"""

from __future__ import annotations

import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

from sms_core.domain.api_keys import EVENT_HEADER, SIGNATURE_HEADER, sign
from sms_core.storage.database import Database
from sms_core.use_cases.api_callbacks import DueCallback, claim_due_callbacks, record_callback_attempt

TIMEOUT = 10.0
PARALLEL = 8
USER_AGENT = "sms-messages-callbacks/1"


def post_callback(callback: DueCallback, timeout: float = TIMEOUT) -> str | None:
    """None when the receiver answered 2xx; otherwise what went wrong, in words for the log."""
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        SIGNATURE_HEADER: sign(callback.secret, int(time.time()), callback.body),
        EVENT_HEADER: str(callback.id),
    }
    request = urllib.request.Request(callback.url, data=callback.body, method="POST", headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            response.read(1024)
            return None if 200 <= response.status < 300 else f"HTTP {response.status}"
    except urllib.error.HTTPError as exc:
        return f"HTTP {exc.code} {exc.reason}".strip()
    except (OSError, ValueError) as exc:  # refused, timed out, a name that does not resolve
        reason = getattr(exc, "reason", exc)
        return f"{type(reason).__name__}: {reason}"[:500]


def deliver_callbacks(db: Database, limit: int = 100, timeout: float = TIMEOUT) -> int:
    """One round: the callbacks due now, sent; returns how many the receivers took."""
    due = claim_due_callbacks(db, limit)
    if not due:
        return 0
    with ThreadPoolExecutor(max_workers=min(PARALLEL, len(due)), thread_name_prefix="sms-callback") as pool:
        errors = list(pool.map(lambda c: post_callback(c, timeout), due))
    for callback, error in zip(due, errors, strict=True):
        record_callback_attempt(db, callback.id, error)
    return sum(error is None for error in errors)
