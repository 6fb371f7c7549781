"""Recording a message: the steps a send, a resend and a batch of API sends share.

``prepare_send`` does everything that needs no database (permission, text, number, key), in the
caller's thread; ``record_prepared`` and ``record_message`` write inside the caller's transaction,
so one transaction can hold one message (the dialog) or a whole batch (``record_sends``: the API's
group commit, where a refused send fails alone and the messages are inserted together).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from sms_core.config import Config
from sms_core.domain.errors import Conflict, InvalidInput, NotFound, SmsError, Unauthorized
from sms_core.domain.permissions import Actor, Permission
from sms_core.domain.phones import InvalidPhoneNumber, parse_e164
from sms_core.domain.segments import count_sms
from sms_core.domain.sms_text import validate_text
from sms_core.domain.statuses import SmsStatus
from sms_core.read_models.message_detail import MessageView
from sms_core.storage.change_feed import mark_changed
from sms_core.storage.database import Database
from sms_core.storage.models import DispatchState, OrgUnit, SmsMessage, StatusEvent, utcnow
from sms_core.use_cases._send_keys import scoped_key
from sms_core.use_cases.api_callbacks import enqueue_status_callback
from sms_core.use_cases.api_keys import REFUSED, sending_keys
from sms_core.use_cases.consent import check_consent, contact_numbers, hold_consents
from sms_core.use_cases.readiness import unit_refusal
from sms_core.use_cases.settings import hold_settings
from sms_core.use_cases.standard_texts import usable_standard_text

T = TypeVar("T")


@dataclass(frozen=True)
class PreparedSend:
    """A send that passed every check that needs no database."""

    actor: Actor
    unit_id: int
    text: str
    number: str | None  # E.164, or None when the contact's number is to be used
    contact_id: int | None
    idempotency_key: str | None  # scoped to the sender
    submit: bool
    config: Config
    reference: str | None
    standard_text_id: int | None


def prepare_send(
    actor: Actor,
    *,
    text: str,
    phone: str | None,
    contact_id: int | None,
    org_unit_id: int | None,
    idempotency_key: str | None,
    submit: bool,
    config: Config,
    reference: str | None,
    standard_text_id: int | None,
) -> PreparedSend:
    unit_id = org_unit_id if org_unit_id is not None else actor.current_org_unit_id
    if unit_id is None:
        raise InvalidInput("Choose the org. unit to send from.", field="org_unit")
    actor.require(Permission.SEND_SMS, unit_id)
    return PreparedSend(
        actor,
        unit_id,
        validate_text(text),
        typed_number(phone, config.default_region),
        contact_id,
        scoped_key(actor, idempotency_key),
        submit,
        config,
        reference,
        standard_text_id,
    )


def record_prepared(session: Session, send: PreparedSend) -> SmsMessage | None:
    """The message and its first event; None if its idempotency key was taken meanwhile."""
    return record_message(session, send.actor, send.unit_id, *_message_args(session, send))


def _message_args(session: Session, send: PreparedSend) -> tuple:
    """``record_message``'s arguments after the actor and unit: refuses (raises) before anything is added."""
    number = send.number
    if send.contact_id is not None:
        number = _contact_number(session, send.contact_id, number)
    standard_text_id = usable_standard_text(session, send.standard_text_id, send.unit_id)
    made_from = (send.reference, standard_text_id)
    return send.text, number, send.contact_id, send.idempotency_key, None, send.submit, send.config, made_from


def record_sends(
    db: Database, sends: list[PreparedSend], describe: Callable[[SmsMessage], T] = MessageView.of, alone: bool = False
) -> list[T | SmsError]:
    """Record many sends in one transaction: each the message (as ``describe`` makes it), or the
    refusal that stopped it.  A send whose idempotency key is already taken (earlier, or earlier
    in this batch) is answered with the message that holds it.

    What every send of the batch reads alike is read once: the settings, the units and API keys
    the sends name (held here so the session's weak identity map answers each lookup), the
    idempotency keys already taken, and the phones and consents of the numbers the sends name.
    A send whose key was revoked is refused (``Unauthorized``) here, in the recording
    transaction: the API checks a key it has seen before from memory.

    Together, a refused send fails alone because every check raises before its message is added;
    the messages are inserted in one flush, and anything that fails there (a key taken by a
    concurrent transaction, say) fails the batch, which the caller records again send by send
    with ``alone``: a savepoint per send, as the dialog records one."""
    outcomes: list[SmsMessage | SmsError] = []
    with db.session(cached_plans=True) as session:
        hold_settings(session)
        keys, refused = sending_keys(session, {s.actor.api_key_id for s in sends})
        hold_consents(session, {s.number for s in sends if s.number})
        held = [*session.scalars(select(OrgUnit).where(OrgUnit.id.in_({s.unit_id for s in sends}))), *keys]
        taken = _taken(session, {s.idempotency_key for s in sends if s.idempotency_key and not alone})
        added: list[tuple[SmsMessage, str]] = []
        # Together, each send's reads must not insert the messages added before it one by one.
        with nullcontext() if alone else session.no_autoflush:
            for send in sends:
                if send.actor.api_key_id in refused:
                    outcomes.append(Unauthorized(REFUSED, field="Authorization"))
                elif alone:
                    outcomes.append(_record_alone(session, send))
                elif send.idempotency_key in taken:
                    outcomes.append(taken[send.idempotency_key])
                else:
                    try:
                        message, detail = _new_message(session, send.actor, send.unit_id, *_message_args(session, send))
                    except SmsError as refusal:
                        outcomes.append(refusal)
                        continue
                    session.add(message)
                    added.append((message, detail))
                    outcomes.append(message)
                    if send.idempotency_key:
                        taken[send.idempotency_key] = message
        if added:
            session.flush()
            for message, detail in added:
                _first_event(session, message, detail)
        described = [o if isinstance(o, SmsError) else describe(o) for o in outcomes]
        del held  # kept until the last send is recorded
    return described


def _taken(session: Session, keys: set[str]) -> dict[str, SmsMessage]:
    if not keys:
        return {}
    found = session.scalars(select(SmsMessage).where(SmsMessage.idempotency_key.in_(keys)))
    return {message.idempotency_key: message for message in found}


def _record_alone(session: Session, send: PreparedSend) -> SmsMessage | SmsError:
    try:
        with session.begin_nested():
            message = record_prepared(session, send)
            if message is None:
                message = session.scalar(select(SmsMessage).where(SmsMessage.idempotency_key == send.idempotency_key))
            if message is None:
                raise Conflict("This submission has already been recorded.")
            return message
    except SmsError as refusal:
        return refusal


def typed_number(phone: str | None, region: str) -> str | None:
    if phone is None or not phone.strip():
        return None
    try:
        return parse_e164(phone, region)
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


def record_message(
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
    message, detail = _new_message(
        session, actor, unit_id, text, number, contact_id, idempotency_key, original_id, submit, config, made_from
    )
    try:
        with session.begin_nested():
            session.add(message)
            session.flush()
    except IntegrityError:
        if idempotency_key and original_id is None:
            return None
        raise
    _first_event(session, message, detail)
    return message


def _new_message(
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
    made_from: tuple[str | None, int | None],
) -> tuple[SmsMessage, str]:
    """The message (not yet added) and its first event's detail, after the pre-send checks."""
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
    return message, detail or (refusal.explanation if refusal else "Recorded")


def _first_event(session: Session, message: SmsMessage, detail: str) -> None:
    """Once the message has its id: its first status event, its callback, the overview's notice."""
    session.add(
        StatusEvent(message_id=message.id, status=message.status, at=message.sent_on, source="send", detail=detail)
    )
    enqueue_status_callback(session, message)
    mark_changed(session, [message.org_unit_id])
