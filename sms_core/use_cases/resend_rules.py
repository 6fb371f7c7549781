"""The article's resend rules as one sentence each: why Resend SMS is not possible for a message.

Kept apart from sending so the page can ask (for its button's help text) without the send path,
and the send path asks the same rules before it resends."""

from __future__ import annotations

from sms_core.domain.permissions import Actor, Permission
from sms_core.read_models.message_detail import MessageView


def resend_problem(actor: Actor, message: MessageView, already_resent: int | None = None) -> str | None:
    """Why Resend SMS is not possible for this message, as the help text; None when it is."""
    if not actor.can(Permission.SEND_SMS):
        return "You do not have permission to send and resend SMS."
    if not actor.can(Permission.VIEW_SMS):
        return "You do not have permission to view SMS messages, so you cannot resend them."
    if message.org_unit_id not in actor.org_unit_ids:
        return "You are not associated with this message's org. unit."
    if not message.status.resendable:
        return (
            f"Only messages with status Accepted, Timeout during status check or Sending failed can be "
            f"resent; this one is {message.status.label}."
        )
    if message.anonymised_at is not None:
        return "Its text and number were removed after the retention period, so there is nothing to send again."
    if already_resent:
        return f"This SMS has already been resent (message {already_resent}); resend the newest one instead."
    return None
