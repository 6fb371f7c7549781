"""SMS statuses: labels, explanations, the resendable and final sets, and the transition rule.

Everything the rest of the code knows about statuses is here, so the overview, the worker and
the services cannot disagree about what a status means or where it may move next.
"""

from __future__ import annotations

from enum import IntEnum


class SmsStatus(IntEnum):
    """Stored as a small integer; the order is the order the article lists the statuses in."""

    UNKNOWN = 0
    ACCEPTED = 1
    REJECTED = 2
    RECEIVED = 3
    CONSENT_NOT_REGISTERED = 4
    SENDING_FAILED = 5
    PHONE_NOT_ENTERED = 6
    STATUS_CHECK_TIMEOUT = 7
    SENDING_NOT_ALLOWED = 8
    INVALID_REPRESENTATIVE = 9
    RESENT = 10

    @property
    def label(self) -> str:
        return _LABELS[self]

    @property
    def explanation(self) -> str:
        return _EXPLANATIONS[self][0]

    @property
    def next_step(self) -> str:
        return _EXPLANATIONS[self][1]

    @property
    def resendable(self) -> bool:
        return self in RESENDABLE

    @property
    def final(self) -> bool:
        return self in FINAL

    @classmethod
    def from_label(cls, label: str) -> SmsStatus:
        try:
            return _BY_LABEL[label.strip().casefold()]
        except KeyError:
            raise ValueError(f"'{label}' is not an SMS status.") from None


_LABELS = {
    SmsStatus.UNKNOWN: "Unknown",
    SmsStatus.ACCEPTED: "Accepted",
    SmsStatus.REJECTED: "Rejected",
    SmsStatus.RECEIVED: "Received",
    SmsStatus.CONSENT_NOT_REGISTERED: "Consent is not registered",
    SmsStatus.SENDING_FAILED: "Sending failed",
    SmsStatus.PHONE_NOT_ENTERED: "SMS phone number is not entered",
    SmsStatus.STATUS_CHECK_TIMEOUT: "Timeout during status check",
    SmsStatus.SENDING_NOT_ALLOWED: "Sending SMS is not allowed",
    SmsStatus.INVALID_REPRESENTATIVE: "Invalid representative for unit",
    SmsStatus.RESENT: "Resent",
}
_BY_LABEL = {label.casefold(): status for status, label in _LABELS.items()}

# (what it means — the article's words, what the user can do next)
_EXPLANATIONS = {
    SmsStatus.UNKNOWN: (
        "The system has not yet received status information from the SMS gateway.",
        "Wait a moment: the status updates by itself when the gateway answers.",
    ),
    SmsStatus.ACCEPTED: (
        "The SMS gateway has accepted the message for sending, but delivery is not confirmed.",
        "Wait for the delivery report, or resend the SMS if it does not arrive.",
    ),
    SmsStatus.REJECTED: (
        "The SMS gateway has rejected the message and will not attempt to send it.",
        "Check the phone number and the gateway's error text; send a new SMS once it is fixed.",
    ),
    SmsStatus.RECEIVED: (
        "The SMS message has been delivered and confirmed received by the recipient.",
        "Nothing to do.",
    ),
    SmsStatus.CONSENT_NOT_REGISTERED: (
        "The SMS was not sent because no consent for SMS sending is registered for the recipient.",
        "Register the contact's consent for this number, then send a new SMS.",
    ),
    SmsStatus.SENDING_FAILED: (
        "A technical problem prevented the send.",
        "Resend the SMS. If it fails again, contact support.",
    ),
    SmsStatus.PHONE_NOT_ENTERED: (
        "The SMS was not sent because no phone number is registered for the recipient.",
        "Register a phone number for the contact, then send a new SMS.",
    ),
    SmsStatus.STATUS_CHECK_TIMEOUT: (
        "The system asked for the delivery status but got no answer within the allowed time.",
        "Resend the SMS if the recipient has not received it.",
    ),
    SmsStatus.SENDING_NOT_ALLOWED: (
        "SMS sending is disabled in the system settings.",
        "Ask an administrator to switch SMS sending on, then send a new SMS.",
    ),
    SmsStatus.INVALID_REPRESENTATIVE: (
        "The org. unit's representative is missing or has an incorrect SMS configuration.",
        "Ask an administrator to correct the unit's SMS sender in Settings, then send again.",
    ),
    SmsStatus.RESENT: (
        "The message is a resend of a previous SMS, accepted by the gateway.",
        "Wait for the delivery report.",
    ),
}

STATUS_LABELS: tuple[str, ...] = tuple(_LABELS[s] for s in SmsStatus)

RESENDABLE = frozenset({SmsStatus.ACCEPTED, SmsStatus.STATUS_CHECK_TIMEOUT, SmsStatus.SENDING_FAILED})

# Final: no later report can change them.  Timeout is deliberately not final, because a late
# "delivered" report must still move the message to Received.
FINAL = frozenset(
    {
        SmsStatus.REJECTED,
        SmsStatus.RECEIVED,
        SmsStatus.SENDING_FAILED,
        SmsStatus.CONSENT_NOT_REGISTERED,
        SmsStatus.PHONE_NOT_ENTERED,
        SmsStatus.SENDING_NOT_ALLOWED,
        SmsStatus.INVALID_REPRESENTATIVE,
    }
)

# Statuses that mean "never handed to the gateway" (the pre-send checks).
NOT_SENT = frozenset(
    {
        SmsStatus.CONSENT_NOT_REGISTERED,
        SmsStatus.PHONE_NOT_ENTERED,
        SmsStatus.SENDING_NOT_ALLOWED,
        SmsStatus.INVALID_REPRESENTATIVE,
    }
)

# Waiting for the gateway's final word.
STATUS_CHECK_SECONDS = 120.0  # the status-check window, unless SMS_STATUS_CHECK_TIMEOUT says otherwise
PENDING = frozenset({SmsStatus.UNKNOWN, SmsStatus.ACCEPTED, SmsStatus.RESENT, SmsStatus.STATUS_CHECK_TIMEOUT})

_RANK = {
    SmsStatus.UNKNOWN: 0,
    SmsStatus.ACCEPTED: 1,
    SmsStatus.RESENT: 1,
    SmsStatus.STATUS_CHECK_TIMEOUT: 2,
}


def can_transition(current: SmsStatus, new: SmsStatus) -> bool:
    """Whether a message in ``current`` may move to ``new``.

    Final states never change.  Among the pending states a message only moves forward
    (Unknown → Accepted/Resent → Timeout), so a late or duplicated report cannot drag it back,
    while any final state may still follow a pending one — a late "delivered" beats a timeout.
    """
    if current == new or current in FINAL:
        return False
    if new in FINAL:
        return True
    return _RANK[new] > _RANK[current]
