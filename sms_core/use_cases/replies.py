"""Receiving an incoming SMS: store it once, link it to the message it answers, and let a keyword
act (``use_cases.reply_keywords``).  The incoming-SMS route and the simulated gateway both come here.

- The message a reply answers is the newest one sent to the sender's number; when the gateway
  says which number or sender the reply went to, the newest one sent from there wins.
- The reply belongs to that message's org unit, so unit visibility holds for replies as for
  messages; without a message it goes to the settings' default unit, or to none (kept, unseen).
- A gateway retries an incoming SMS it got no answer for: the dedupe key (a hash of the gateway's
  id of it, sender, time and text) is unique in the database, so a retry is "already received"
  and acts once.  Replies arriving together share one transaction; if that fails each is stored
  alone, so one the database refuses cannot cost the others theirs.
"""

from __future__ import annotations

import hashlib
import unicodedata
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from sms_core.config import DEFAULTS, Config
from sms_core.domain.phones import InvalidPhoneNumber, parse_phone
from sms_core.domain.senders import normalise_sender
from sms_core.domain.setting_definitions import REPLY_DEFAULT_UNIT
from sms_core.gateways.base import IncomingMessage
from sms_core.storage.change_feed import mark_changed
from sms_core.storage.database import Database
from sms_core.storage.models import ContactPhone, OrgUnit, SmsMessage, utcnow
from sms_core.storage.reply_models import OPT_OUT, IncomingSms
from sms_core.use_cases.message_lifecycle import ReportVerdict, gateway_words
from sms_core.use_cases.reply_keywords import apply_keyword, confirm_opt_out, keyword_of
from sms_core.use_cases.settings import SmsSettings, read_settings

MAX_REPLY = 1600  # characters kept of an incoming text (ten concatenated parts)
CANDIDATES = 20  # newest messages to the number looked at when the receiving number decides


def dedupe_key(gateway: str, sms: IncomingMessage) -> str:
    at = sms.received_at.isoformat() if sms.received_at else ""
    parts = "\x1f".join((gateway, sms.gateway_id, sms.sender, sms.receiver or "", at, sms.text))
    return hashlib.sha256(parts.encode("utf-8", "surrogatepass")).hexdigest()


def receive_reply(db: Database, gateway: str, sms: IncomingMessage, config: Config = DEFAULTS) -> ReportVerdict:
    return receive_replies(db, gateway, [sms], config)[0]


def receive_replies(
    db: Database, gateway: str, batch: Sequence[IncomingMessage], config: Config = DEFAULTS
) -> list[ReportVerdict]:
    """Store incoming SMS in one transaction; a retry of one already stored is answered OK."""
    keys = [dedupe_key(gateway, sms) for sms in batch]
    with db.session() as session:
        settings = read_settings(session)
        known = set(session.scalars(select(IncomingSms.dedupe_key).where(IncomingSms.dedupe_key.in_(keys))))
        verdicts = []
        for sms, key in zip(batch, keys, strict=True):
            if key in known:
                verdicts.append(ReportVerdict(200, "already received"))
                continue
            known.add(key)
            verdicts.append(_store(session, settings, gateway, sms, key, config))
        return verdicts


def receive_reply_alone(db: Database, gateway: str, sms: IncomingMessage, config: Config = DEFAULTS) -> ReportVerdict:
    """One reply on its own: a concurrent retry that stored it first makes this one a duplicate."""
    try:
        return receive_reply(db, gateway, sms, config)
    except IntegrityError:
        return ReportVerdict(200, "already received")


def _store(
    session: Session, settings: SmsSettings, gateway: str, sms: IncomingMessage, key: str, config: Config
) -> ReportVerdict:
    now = utcnow()
    number = _number(sms.sender, config.default_region)
    text = _text(sms.text)
    receiver = gateway_words(sms.receiver)[:40] or None
    answered = _answered(session, number, receiver, config.default_region)
    unit_id = answered.org_unit_id if answered else _default_unit(session, settings)
    contact_id = answered.contact_id if answered and answered.contact_id else _owner(session, number)
    keyword = keyword_of(text, settings)
    if keyword:
        apply_keyword(session, keyword, number, now)
    session.add(
        IncomingSms(
            sender=number,
            receiver=receiver,
            text=text,
            received_at=sms.received_at or now,
            org_unit_id=unit_id,
            message_id=answered.id if answered else None,
            contact_id=contact_id,
            keyword=keyword,
            gateway=gateway[:40],
            dedupe_key=key,
        )
    )
    if unit_id is not None:
        mark_changed(session, [unit_id])
        if keyword == OPT_OUT:
            confirm_opt_out(session, settings, unit_id, number, contact_id, now, config)
    return ReportVerdict(200, "received", True)


def _number(sender: str, region: str) -> str:
    """E.164 when the sender is a phone number; otherwise its words, as the gateway gave them."""
    cleaned = gateway_words(sender)[:40]
    try:
        return parse_phone(cleaned, region).e164
    except InvalidPhoneNumber:
        return cleaned


def _text(text: str) -> str:
    """Line breaks kept, other control characters dropped (PostgreSQL refuses NUL), cut to MAX_REPLY."""
    kept = "".join(
        ch for ch in text.replace("\r\n", "\n") if ch == "\n" or unicodedata.category(ch) not in {"Cc", "Cs"}
    )
    return kept.strip()[:MAX_REPLY]


def _answered(session: Session, number: str, receiver: str | None, region: str) -> SmsMessage | None:
    """The newest message that went to ``number`` (from ``receiver``, when one of them did)."""
    newest = session.execute(
        select(SmsMessage, OrgUnit.sms_sender)
        .join(OrgUnit, OrgUnit.id == SmsMessage.org_unit_id)
        .where(SmsMessage.phone == number, SmsMessage.dlr_token.is_not(None))
        .order_by(SmsMessage.sent_on.desc(), SmsMessage.id.desc())
        .limit(CANDIDATES if receiver else 1)
    ).all()
    if not newest:
        return None
    if receiver:
        ours = _sender_form(receiver, region)
        for message, sender in newest:
            if sender and _sender_form(sender, region) == ours:
                return message
    return newest[0][0]


def _sender_form(sender: str, region: str) -> str:
    try:
        return normalise_sender(sender, region).upper()
    except InvalidPhoneNumber:
        return sender.strip().upper()


def _default_unit(session: Session, settings: SmsSettings) -> int | None:
    code = str(settings[REPLY_DEFAULT_UNIT]).strip()
    return session.scalar(select(OrgUnit.id).where(OrgUnit.code == code)) if code else None


def _owner(session: Session, number: str) -> int | None:
    """The contact the number belongs to, when exactly one contact has it."""
    owners = set(session.scalars(select(ContactPhone.contact_id).where(ContactPhone.number == number).limit(2)))
    return owners.pop() if len(owners) == 1 else None
