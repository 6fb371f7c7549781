"""The use cases that create messages: send and resend.  Nothing else writes new messages.

Each records the message (and its first event) before any gateway call, so no SMS is ever sent
without a row; an idempotency key makes a repeated submission return the first message; a
resend is unique per original in the database, so two servers at once still make one.

The caller hands over the gateway and the configuration (the default region, the SMS sizes):
a use case reads neither from the environment.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from sms_core.config import DEFAULTS, Config
from sms_core.domain.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from sms_core.domain.permissions import Actor, Permission
from sms_core.domain.phones import InvalidPhoneNumber, parse_phone
from sms_core.domain.segments import count_sms
from sms_core.domain.sms_text import validate_text
from sms_core.domain.statuses import SmsStatus
from sms_core.gateways.base import Gateway
from sms_core.read_models.message_detail import MessageView, visible_message
from sms_core.storage.change_feed import mark_changed
from sms_core.storage.database import Database
from sms_core.storage.models import DispatchState, OrgUnit, SmsMessage, StatusEvent, utcnow
from sms_core.use_cases._send_keys import earlier_submission, scoped_key
from sms_core.use_cases.api_callbacks import enqueue_status_callback
from sms_core.use_cases.consent import check_consent, contact_numbers
from sms_core.use_cases.readiness import unit_refusal
from sms_core.use_cases.resend_rules import resend_problem
from sms_core.use_cases.standard_texts import usable_standard_text
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
    unit_id = org_unit_id if org_unit_id is not None else actor.current_org_unit_id
    if unit_id is None:
        raise InvalidInput("Choose the org. unit to send from.", field="org_unit")
    actor.require(Permission.SEND_SMS, unit_id)
    text = validate_text(text)
    idempotency_key = scoped_key(actor, idempotency_key)
    if idempotency_key and (earlier := earlier_submission(db, actor, idempotency_key)):
        return SendResult(earlier, created=False)
    _require_gateway(gateway, submit)
    number = _typed_number(phone, config.default_region)
    with db.session() as session:
        if contact_id is not None:
            number = _contact_number(session, contact_id, number)
        standard_text_id = usable_standard_text(session, standard_text_id, unit_id)
        message = _record(
            session,
            actor,
            unit_id,
            text,
            number,
            contact_id,
            idempotency_key,
            None,
            submit,
            config,
            (reference, standard_text_id),
        )
    if message is None:  # a concurrent submission with the same key won the race
        earlier = earlier_submission(db, actor, idempotency_key)
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
                message = _record(
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


def _typed_number(phone: str | None, region: str) -> str | None:
    if phone is None or not phone.strip():
        return None
    try:
        return parse_phone(phone, region).e164
    except InvalidPhoneNumber as exc:
        raise InvalidInput(exc.message, field="phone") from None


def _contact_number(session: Session, contact_id: int, number: str | None) -> str | None:
    numbers = [p.number for p in contact_numbers(session, contact_id)]
    if number is not None:
        if number not in numbers:
            raise InvalidInput("This number is not registered for the contact.", field="phone")
        return number
    if len(numbers) > 1:
        raise InvalidInput("The contact has several numbers: choose one.", field="phone")
    return numbers[0] if numbers else None


def _pre_send_status(
    session: Session, unit: OrgUnit, number: str | None, contact_id: int | None, region: str
) -> tuple[SmsStatus | None, int | None, str | None]:
    """DESIGN.md's checks, in order: (refusal status or None, contact the number belongs to, detail)."""
    refusal, detail = unit_refusal(session, unit, region)
    if refusal is not None:
        return refusal, contact_id, detail
    if not number:
        return SmsStatus.PHONE_NOT_ENTERED, contact_id, None
    consent = check_consent(session, number, contact_id)
    if not consent.allowed:
        return SmsStatus.CONSENT_NOT_REGISTERED, consent.contact_id, consent.message
    return None, consent.contact_id, None


def _record(
    session: Session,
    actor: Actor,
    unit_id: int,
    text: str,
    number: str | None,
    contact_id: int | None,
    idempotency_key: str | None,
    original_id: int | None,
    submit: bool,
    config: Config,
    made_from: tuple[str | None, int | None] = (None, None),
) -> SmsMessage | None:
    """Insert the message and its first event; None if the idempotency key was taken meanwhile.
    ``made_from``: the API caller's reference and the standard text the message was made from."""
    reference, standard_text_id = made_from
    unit = session.get(OrgUnit, unit_id)
    if unit is None:
        raise NotFound("That org. unit does not exist.")
    refusal, contact_id, detail = _pre_send_status(session, unit, number, contact_id, config.default_region)
    now = utcnow()
    message = SmsMessage(
        text=text,
        phone=number,
        contact_id=contact_id,
        org_unit_id=unit_id,
        sent_on=now,
        status=refusal or SmsStatus.UNKNOWN,
        resent=original_id is not None,
        original_id=original_id,
        segments=max(1, count_sms(text, config.chars_per_sms, config.unicode_chars_per_sms).segments),
        sent_by_user_id=actor.user_id,
        sent_by_api_key_id=actor.api_key_id,
        reference=reference,
        standard_text_id=standard_text_id,
        idempotency_key=idempotency_key,
        dispatch_state=DispatchState.NOT_SENT
        if refusal
        else (DispatchState.SUBMITTING if submit else DispatchState.QUEUED),
        submitted_at=now if (submit and not refusal) else None,
        dlr_token=None if refusal else secrets.token_urlsafe(18),
        updated_at=now,
    )
    try:
        with session.begin_nested():
            session.add(message)
            session.flush()
    except IntegrityError:
        if idempotency_key and original_id is None:
            return None
        raise
    session.add(
        StatusEvent(
            message_id=message.id,
            status=message.status,
            at=now,
            source="send",
            detail=detail or (refusal.explanation if refusal else "Recorded"),
        )
    )
    enqueue_status_callback(session, message)
    mark_changed(session, [unit_id])
    return message


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
