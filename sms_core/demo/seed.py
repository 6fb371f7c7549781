"""Demo data: org units, users, contacts with consent, standard texts and a realistic SMS history.

Running it twice adds nothing.  Messages are streamed to the database in bulk (COPY on
PostgreSQL, executemany on SQLite) so that a million rows take seconds, which the benchmarks need.
"""

from __future__ import annotations

import math
import random
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from sms_core.demo.bulk_insert import copy_postgres, insert_sqlite
from sms_core.demo.sample_data import (
    FIRST,
    GATEWAY_ERRORS,
    ORG_UNITS,
    PRECHECK_OUTCOMES,
    SENT_OUTCOMES,
    STANDARD_TEXTS,
    TEMPLATES,
    USERS,
)
from sms_core.demo.seed_contacts import seed_contacts
from sms_core.demo.seed_replies import seed_replies
from sms_core.domain.alert_rules import RuleKind
from sms_core.domain.segments import count_sms
from sms_core.domain.senders import sender_problem
from sms_core.domain.statuses import NOT_SENT, PENDING
from sms_core.domain.statuses import SmsStatus as S
from sms_core.storage.alert_models import AlertRuleRow
from sms_core.storage.database import Database
from sms_core.storage.models import (
    ContactPhone,
    DispatchState,
    OrgUnit,
    SmsConsent,
    SmsMessage,
    StandardText,
    User,
    UserOrgUnit,
)


@dataclass
class SeedResult:
    created_base: bool
    messages_added: int


def seed_demo(
    db: Database, messages: int = 3000, now: datetime | None = None, days: int = 90, rng_seed: int = 7
) -> SeedResult:
    rng = random.Random(rng_seed)
    now = now or datetime.now(UTC)
    created = _seed_base(db, rng)
    with db.session() as session:
        if session.scalar(select(func.count()).select_from(SmsMessage)):
            return SeedResult(created, 0)
        world = _World.load(session)
    added = _bulk_messages(db, world, messages, now, days, rng)
    seed_replies(db, rng, added)
    return SeedResult(created, added)


def _seed_base(db: Database, rng: random.Random) -> bool:
    with db.session() as session:
        if session.scalar(select(func.count()).select_from(OrgUnit)):
            return False
        units = {}
        for code, name, rep, sender in ORG_UNITS:
            units[code] = OrgUnit(code=code, name=name, representative_name=rep, sms_sender=sender)
            session.add(units[code])
        session.flush()
        session.add_all(_demo_alert_rule(unit.id) for unit in units.values())
        users = []
        for username, display, role, codes in USERS:
            user = User(
                username=username,
                display_name=display,
                email=f"{username}@example.org",
                role=role,
                current_org_unit_id=units[codes[0]].id,
                active=True,
            )
            session.add(user)
            session.flush()
            users.append(user)
            session.add_all(UserOrgUnit(user_id=user.id, org_unit_id=units[c].id) for c in codes)
        for title, body, code, active in STANDARD_TEXTS:
            session.add(
                StandardText(title=title, body=body, org_unit_id=units[code].id if code else None, active=active)
            )
        seed_contacts(session, rng, users)
    return True


def _demo_alert_rule(unit_id: int) -> AlertRuleRow:
    """The demo's failure-spike rule.  Its traffic (an SMS every few seconds over five units)
    would take ten minutes to bring the default 20 messages to one unit, so the demo looks at 10
    minutes and 5 messages: ``SMS_SIMULATED_FAILED_SHARE=0.3`` then raises an incident within
    about two minutes, while 20 % stays well above the simulated gateway's usual 7 % failures."""
    return AlertRuleRow(
        org_unit_id=unit_id, kind=RuleKind.FAILED_SHARE.value, enabled=True, minutes=10, percent=20, min_messages=5
    )


@dataclass
class _World:
    units: list[tuple[int, str, bool]]  # id, name, sender is broken
    senders: dict[int, list[int]]  # unit id → user ids that may send there
    phones: list[tuple[int, str, bool]]  # contact id, number, consent active
    first_id: int
    standard_texts: dict[int, list[tuple[int, str]]]  # unit id → (id, body) of the texts it may use

    @classmethod
    def load(cls, session) -> _World:
        units = [
            (u.id, u.name, sender_problem(u.sms_sender, u.representative_name) is not None)
            for u in session.scalars(select(OrgUnit).order_by(OrgUnit.id))
        ]
        senders: dict[int, list[int]] = {}
        for user_id, unit_id in session.execute(select(UserOrgUnit.user_id, UserOrgUnit.org_unit_id)):
            senders.setdefault(unit_id, []).append(user_id)
        active = set(session.scalars(select(SmsConsent.phone_id).where(SmsConsent.withdrawn_at.is_(None))))
        phones = [(p.contact_id, p.number, p.id in active) for p in session.scalars(select(ContactPhone))]
        first_id = (session.scalar(select(func.max(SmsMessage.id))) or 0) + 1
        texts = session.execute(
            select(StandardText.id, StandardText.body, StandardText.org_unit_id).where(StandardText.active)
        )
        usable: dict[int, list[tuple[int, str]]] = {}
        for text_id, body, unit_id in texts:
            for unit in [u[0] for u in units] if unit_id is None else [unit_id]:
                usable.setdefault(unit, []).append((text_id, body))
        return cls(units, senders, phones, first_id, usable)


def _message_rows(world: _World, count: int, now: datetime, days: int, rng: random.Random) -> Iterator[tuple]:
    """Yield message rows in sent-on order, resends right after their originals."""
    now = now.astimezone(UTC).replace(tzinfo=None)  # bulk paths write naive UTC
    start = now - timedelta(days=days)
    span = (now - start).total_seconds()
    offsets = sorted(rng.random() * span for _ in range(count))
    texts: dict[tuple[int, int], tuple[str, int]] = {}
    unit_weights = [5, 3, 2, 2, 1][: len(world.units)] + [1] * max(0, len(world.units) - 5)
    next_id = world.first_id
    produced = 0
    consented = [p for p in world.phones if p[2]] or world.phones
    skip = 0  # a resend takes the place of the next original, so the history runs up to now
    for offset in offsets:
        if skip:
            skip -= 1
            continue
        if produced >= count:
            break
        sent_on = start + timedelta(seconds=offset)
        unit_id, unit_name, broken = rng.choices(world.units, unit_weights)[0]
        contact_id, phone, consent = rng.choice(world.phones)
        if not consent and rng.random() < 0.85:  # systems mostly write to numbers with consent
            contact_id, phone, consent = rng.choice(consented)
        key = (unit_id, rng.randrange(40))
        if key not in texts:
            body = rng.choice(TEMPLATES).format(
                first=rng.choice(FIRST),
                unit=unit_name,
                date=(sent_on + timedelta(days=rng.randrange(1, 14))).strftime("%d.%m"),
                time=f"{rng.randrange(8, 16):02d}:{rng.choice(['00', '15', '30', '45'])}",
            )
            texts[key] = (body, count_sms(body, 147, 67).segments)
        body, segments = texts[key]
        standard_text_id = None
        if world.standard_texts.get(unit_id) and rng.random() < 0.3:  # a third start from a standard text
            standard_text_id, body = rng.choice(world.standard_texts[unit_id])
            segments = count_sms(body, 147, 67).segments
        user_id = rng.choice(world.senders.get(unit_id) or [None])
        age = (now - sent_on).total_seconds()
        if broken and age < 12 * 86400:
            status = S.INVALID_REPRESENTATIVE
        elif not consent:
            status = S.CONSENT_NOT_REGISTERED
        elif rng.random() < 0.04:
            status = rng.choices(*zip(*PRECHECK_OUTCOMES, strict=False))[0]
        elif age < 60:
            status = S.UNKNOWN
        else:
            status = rng.choices(*zip(*SENT_OUTCOMES, strict=False))[0]
        if status == S.PHONE_NOT_ENTERED:
            phone, contact_id = None, contact_id
        yield _row(next_id, body, phone, contact_id, unit_id, sent_on, status, False, None, segments, user_id, rng) + (
            standard_text_id,
        )
        produced += 1
        original_id, next_id = next_id, next_id + 1
        if status.resendable and produced < count and rng.random() < 0.35 and offset != offsets[-1]:
            resend_on = sent_on + timedelta(minutes=rng.randrange(5, 240))
            if resend_on < now:
                outcome = rng.choices([S.RECEIVED, S.RESENT, S.SENDING_FAILED], [85, 5, 10])[0]
                yield _row(
                    next_id,
                    body,
                    phone,
                    contact_id,
                    unit_id,
                    resend_on,
                    outcome,
                    True,
                    original_id,
                    segments,
                    user_id,
                    rng,
                ) + (standard_text_id,)
                produced += 1
                next_id += 1
                skip += 1


def _row(mid, body, phone, contact_id, unit_id, sent_on, status, resent, original_id, segments, user_id, rng):
    sent = status not in NOT_SENT
    error = rng.choice(GATEWAY_ERRORS[status]) if status in GATEWAY_ERRORS else None
    refused_at_submit = error in ("Connection refused", "HTTP 503 Service Unavailable", "Not routable")
    gateway_id = f"sim-{mid}" if sent and status != S.UNKNOWN and not refused_at_submit else None
    if status == S.UNKNOWN:
        dispatch = DispatchState.QUEUED
    else:
        dispatch = DispatchState.SETTLED if sent else DispatchState.NOT_SENT
    settled_at = sent_on + timedelta(seconds=report_delay(rng)) if sent and status not in PENDING else sent_on
    stored_status = S.RESENT if (resent and status == S.ACCEPTED) else status
    return (
        mid,
        body,
        phone,
        contact_id,
        unit_id,
        sent_on,
        int(stored_status),
        resent,
        original_id,
        segments,
        user_id,
        "simulated" if sent else None,
        gateway_id,
        error,
        None,
        int(dispatch),
        sent_on if sent else None,
        secrets.token_hex(8) if sent else None,
        settled_at,
    )


def report_delay(rng: random.Random) -> float:
    """Seconds until the final delivery report, as operators' networks give them: most within
    seconds (median about 6 s), a long tail of a minute or more, and now and then a congested
    SMSC that takes a quarter of an hour — so the demo's time-to-delivery chart has a shape."""
    if rng.random() < 0.03:
        return rng.uniform(300, 2400)
    return min(1 + rng.lognormvariate(math.log(5), 1.2), 3 * 3600)


def _bulk_messages(db: Database, world: _World, count: int, now: datetime, days: int, rng: random.Random) -> int:
    rows = _message_rows(world, count, now, days, rng)
    if db.is_postgres:
        return copy_postgres(db, rows, world.first_id)
    return insert_sqlite(db, rows, world.first_id)
