"""The use cases that create messages: send and resend.  Nothing else writes new messages.

Each records the message (and its first event) before any gateway call, so no SMS is ever sent
without a row; an idempotency key makes a repeated submission return the first message; a
resend is unique per original in the database, so two servers at once still make one.

The caller hands over the gateway and the configuration (the default region, the SMS sizes):
a use case reads neither from the environment.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from sms_core.config import DEFAULTS, Config
from sms_core.domain.errors import Conflict, NotFound, PermissionDenied
from sms_core.domain.permissions import Actor, Permission
from sms_core.domain.statuses import SmsStatus
from sms_core.gateways.base import Gateway
from sms_core.read_models.message_detail import MessageView, visible_message
from sms_core.storage.database import Database
from sms_core.storage.models import DispatchState, SmsMessage
from sms_core.use_cases._send_keys import earlier_submission
from sms_core.use_cases.recording import prepare_send, record_message, record_prepared
from sms_core.use_cases.resend_rules import resend_problem
from sms_core.use_cases.submission import submit_message


@dataclass(frozen=True)
class SendResult:
    message: MessageView
    created: bool  # False: the idempotency key returned the message of an earlier submission

    @property
    def summary(self) -> str:
        """The confirmation shown to the person who pressed Send."""
        m = self.message
        match m.status:
            case SmsStatus.ACCEPTED | SmsStatus.RESENT | SmsStatus.RECEIVED:
                return f"The SMS to {m.phone_display} was accepted by the SMS gateway."
            case SmsStatus.UNKNOWN:
                return f"The SMS to {m.phone_display} is recorded and waiting to be handed to the gateway."
            case SmsStatus.REJECTED | SmsStatus.SENDING_FAILED:
                return f"The SMS was not sent: {m.status.label.lower()} – {m.gateway_error or m.status.explanation}"
            case _:  # a pre-send check refused it; some explanations say "not sent" themselves
                reason = m.status.explanation
                if not reason.startswith("The SMS was not sent"):
                    reason = f"The SMS was not sent: {reason}"
                return f"{reason} {m.status.next_step}"

    @property
    def ok(self) -> bool:
        return self.message.status in (SmsStatus.ACCEPTED, SmsStatus.RESENT, SmsStatus.RECEIVED, SmsStatus.UNKNOWN)


def send_sms(
    db: Database,
    actor: Actor,
    *,
    text: str,
    phone: str | None = None,
    contact_id: int | None = None,
    org_unit_id: int | None = None,
    idempotency_key: str | None = None,
    gateway: Gateway | None = None,
    submit: bool = True,
    config: Config = DEFAULTS,
    reference: str | None = None,
    standard_text_id: int | None = None,
) -> SendResult:
    """Send one SMS from the user's (current) org unit through ``gateway``; ``submit=False``
    leaves it to the worker (and needs no gateway).  ``standard_text_id``: the text it was made from."""
    send = prepare_send(
        actor,
        text=text,
        phone=phone,
        contact_id=contact_id,
        org_unit_id=org_unit_id,
        idempotency_key=idempotency_key,
        submit=submit,
        config=config,
        reference=reference,
        standard_text_id=standard_text_id,
    )
    if send.idempotency_key and (earlier := earlier_submission(db, actor, send.idempotency_key)):
        return SendResult(earlier, created=False)
    _require_gateway(gateway, submit)
    with db.session() as session:
        message = record_prepared(session, send)
    if message is None:  # a concurrent submission with the same key won the race
        earlier = earlier_submission(db, actor, send.idempotency_key)
        if earlier is None:
            raise Conflict("This submission has already been recorded.")
        return SendResult(earlier, created=False)
    return _finish(db, actor, message, gateway, submit, config.default_region)


def resend_sms(
    db: Database,
    actor: Actor,
    message_id: int,
    *,
    gateway: Gateway | None = None,
    submit: bool = True,
    config: Config = DEFAULTS,
) -> SendResult:
    """Send a message again: same text, recipient, contact and unit; allowed once per message."""
    actor.require(Permission.SEND_SMS)
    with db.session() as session:
        original = _resendable_original(session, actor, message_id)
        problem = resend_problem(actor, MessageView.of(original), already_resent=_resend_of(session, original.id))
        if problem:
            raise Conflict(problem)
        _require_gateway(gateway, submit)
        try:
            with session.begin_nested():
                message = record_message(
                    session,
                    actor,
                    original.org_unit_id,
                    original.text,
                    original.phone,
                    original.contact_id,
                    None,
                    original.id,
                    submit,
                    config,
                    (original.reference, original.standard_text_id),
                )
        except IntegrityError:
            raise Conflict(
                "This SMS has just been resent by someone else; resend the newest message instead."
            ) from None
    return _finish(db, actor, message, gateway, submit, config.default_region)


# ---- the steps -------------------------------------------------------------------------


def _require_gateway(gateway: Gateway | None, submit: bool) -> None:
    if submit and gateway is None:
        raise TypeError("Sending needs the gateway to submit to (or submit=False, to leave it to the worker).")


def _finish(
    db: Database, actor: Actor, message: SmsMessage, gateway: Gateway | None, submit: bool, region: str
) -> SendResult:
    if submit and message.dispatch_state == DispatchState.SUBMITTING:
        submit_message(db, message.id, gateway, region=region)
    with db.session() as session:
        return SendResult(MessageView.of(session.get(SmsMessage, message.id)), created=True)


def _resendable_original(session: Session, actor: Actor, message_id: int) -> SmsMessage:
    """A resend shows the original's text, number and status, so it needs the view permission
    too; without it every message looks exactly as one that does not exist."""
    try:
        return visible_message(session, actor, message_id)
    except PermissionDenied:
        raise NotFound(f"There is no SMS message with id {message_id} that you can see.") from None


def _resend_of(session: Session, message_id: int) -> int | None:
    return session.scalar(select(SmsMessage.id).where(SmsMessage.original_id == message_id))
