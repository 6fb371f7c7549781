"""What a keyword reply does: STOP withdraws consent for the number, START (when the settings
allow it) registers it again, and an opt-out may be confirmed by an SMS of the unit.

Kept apart from receiving (``use_cases.replies``), which decides which message a reply answers.
Keywords match the whole message only, case and surrounding whitespace ignored, as Twilio does:
"Stop sending me the wrong time" is a reply to read, not an opt-out.
"""

from __future__ import annotations

import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from sms_core.config import Config
from sms_core.domain.segments import count_sms
from sms_core.domain.setting_definitions import (
    OPT_IN_ENABLED,
    OPT_IN_KEYWORDS,
    OPT_OUT_CONFIRMATION,
    OPT_OUT_CONFIRMATION_TEXT,
    OPT_OUT_KEYWORDS,
)
from sms_core.domain.statuses import SmsStatus
from sms_core.storage.change_feed import mark_changed
from sms_core.storage.models import ContactPhone, DispatchState, OrgUnit, SmsConsent, SmsMessage, StatusEvent
from sms_core.storage.reply_models import OPT_IN, OPT_OUT
from sms_core.use_cases.readiness import unit_refusal
from sms_core.use_cases.settings import SmsSettings

SMS_REPLY = "SMS reply"  # the consent source of a keyword reply


def keyword_of(text: str, settings: SmsSettings) -> str | None:
    """OPT_OUT or OPT_IN when the whole text is one of the settings' keywords; else None."""
    word = text.strip().upper()
    if not word:
        return None
    if word in settings[OPT_OUT_KEYWORDS]:  # type: ignore[operator]
        return OPT_OUT
    if settings[OPT_IN_ENABLED] and word in settings[OPT_IN_KEYWORDS]:  # type: ignore[operator]
        return OPT_IN
    return None


def apply_keywords(session: Session, actions: list[tuple[str, str]], at) -> int:
    """Withdraw (OPT_OUT) or register (OPT_IN) consent for each ``(keyword, number)``, in order,
    for every contact who has the number; returns how many consents changed.  The numbers'
    phones and consents are read in two queries, however many keywords a burst of replies holds."""
    numbers = sorted({number for _, number in actions})
    if not numbers:
        return 0
    phones: dict[str, list[ContactPhone]] = {}
    for phone in session.scalars(select(ContactPhone).where(ContactPhone.number.in_(numbers))):
        phones.setdefault(phone.number, []).append(phone)
    ids = [p.id for found in phones.values() for p in found]
    active: dict[int, SmsConsent] = {}
    if ids:
        query = select(SmsConsent).where(SmsConsent.phone_id.in_(ids), SmsConsent.withdrawn_at.is_(None))
        active = {c.phone_id: c for c in session.scalars(query)}
    changed = 0
    for keyword, number in actions:
        for phone in phones.get(number, []):
            consent = active.get(phone.id)
            if keyword == OPT_OUT and consent is not None:
                consent.withdrawn_at, consent.withdrawn_by_user_id, consent.withdrawn_source = at, None, SMS_REPLY
                del active[phone.id]
                changed += 1
            elif keyword == OPT_IN and consent is None:
                active[phone.id] = SmsConsent(
                    contact_id=phone.contact_id, phone_id=phone.id, source=SMS_REPLY, registered_at=at
                )
                session.add(active[phone.id])
                changed += 1
    return changed


def confirm_opt_out(
    session: Session, settings: SmsSettings, unit_id: int, number: str, contact_id: int | None, at, config: Config
) -> SmsMessage | None:
    """The confirmation SMS, when the settings ask for one: recorded as an ordinary message of the
    unit and left to the worker.  The consent just withdrawn is the very thing it confirms, so
    that check is not run; the unit's own checks (sending on, a valid sender) are."""
    if not settings[OPT_OUT_CONFIRMATION]:
        return None
    unit = session.get(OrgUnit, unit_id)
    if unit is None:
        return None
    text = str(settings[OPT_OUT_CONFIRMATION_TEXT])
    refusal, detail = unit_refusal(session, unit, config.default_region)
    message = SmsMessage(
        text=text,
        phone=number,
        contact_id=contact_id,
        org_unit_id=unit_id,
        sent_on=at,
        status=refusal or SmsStatus.UNKNOWN,
        segments=max(1, count_sms(text, config.chars_per_sms, config.unicode_chars_per_sms).segments),
        dispatch_state=DispatchState.NOT_SENT if refusal else DispatchState.QUEUED,
        dlr_token=None if refusal else secrets.token_urlsafe(18),
        updated_at=at,
    )
    session.add(message)
    session.flush()
    explained = detail or (refusal.explanation if refusal else "Confirmation of an opt-out by SMS reply")
    session.add(StatusEvent(message_id=message.id, status=message.status, at=at, source="opt-out", detail=explained))
    mark_changed(session, [unit_id])
    return message
