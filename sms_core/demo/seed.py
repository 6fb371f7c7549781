"""Demo data: org units, users, contacts with consent, standard texts and a realistic SMS history.

Running it twice adds nothing.  Messages are streamed to the database in bulk (COPY on
PostgreSQL, executemany on SQLite) so that a million rows take seconds, which the benchmarks need.
"""

from __future__ import annotations

import random
import secrets
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import case, func, insert, literal, select

from sms_core.domain.phones import InvalidPhoneNumber, parse_phone
from sms_core.domain.segments import count_sms
from sms_core.domain.senders import sender_problem
from sms_core.domain.statuses import NOT_SENT, PENDING
from sms_core.domain.statuses import SmsStatus as S
from sms_core.storage.database import Database
from sms_core.storage.models import (
    Contact,
    ContactPhone,
    DispatchState,
    OrgUnit,
    SmsConsent,
    SmsMessage,
    StandardText,
    StatusEvent,
    User,
    UserOrgUnit,
)

# code, name, representative, SMS sender (Tromsø's sender is too long: a broken configuration)
ORG_UNITS = [
    ("OSL", "Oslo Sentrum", "Ingrid Berg", "OsloHelse"),
    ("BGN", "Bergen Bryggen", "Lars Haugen", "BergenHlse"),
    ("TRD", "Trondheim Midtbyen", "Sofie Nilsen", "+4791500100"),
    ("SVG", "Stavanger Sentrum", "Ole Johansen", "StavangerHC"),
    ("TOS", "Tromsø Nord", "Mari Olsen", "Tromsø Helse Nord"),
]
# username, display name, role, units (first is the current one)
USERS = [
    ("admin", "Ada Administrator", "administrator", ["OSL", "BGN", "TRD", "SVG", "TOS"]),
    ("lead", "Liv Lead", "team_lead", ["OSL", "BGN", "TOS"]),
    ("staff", "Stian Staff", "staff", ["OSL", "BGN"]),
    ("kari", "Kari Nordmann", "staff", ["TRD"]),
]
FIRST = [
    "Anne",
    "Bjørn",
    "Cecilie",
    "Dag",
    "Eva",
    "Fredrik",
    "Guro",
    "Håkon",
    "Ida",
    "Jonas",
    "Kristin",
    "Lars",
    "Maja",
    "Nils",
    "Oda",
    "Per",
    "Randi",
    "Sindre",
    "Tone",
    "Ulrik",
    "Vilde",
    "Øystein",
    "Åse",
    "Emil",
]
LAST = [
    "Hansen",
    "Johansen",
    "Olsen",
    "Larsen",
    "Andersen",
    "Pedersen",
    "Nilsen",
    "Kristiansen",
    "Jensen",
    "Karlsen",
    "Johnsen",
    "Pettersen",
    "Eriksen",
    "Berg",
    "Haugen",
    "Hagen",
    "Johannessen",
    "Andreassen",
    "Jacobsen",
    "Dahl",
    "Jørgensen",
    "Halvorsen",
    "Henriksen",
    "Lund",
    "Sørensen",
]
TEMPLATES = [
    "Hi {first}, this is a reminder of your appointment at {unit} on {date} at {time}. Reply STOP to opt out.",
    "Hei {first}! Timen din hos {unit} er {date} kl. {time}. Gi beskjed dersom du ikke kan møte.",
    "Your test results are ready. Log in to the patient portal to read them. Regards, {unit}",
    "{unit}: your prescription is ready for collection.",
    "Hi {first}, we could not reach you by phone. Please call us back on 22 00 00 00. Best regards, {unit}",
    "Påminnelse: husk å ta med legitimasjon til timen {date} kl. {time}. Hilsen {unit}",
    "Hi {first}, thank you for your visit to {unit} today. We would love to hear how it went: reply 1-5 😊",
    "Your appointment on {date} at {time} has been moved. Contact {unit} if the new time does not suit you. "
    "You can also change it yourself in the patient portal under My appointments.",
    "Hei {first}, vi minner om at faktura for konsultasjonen {date} forfaller om 7 dager. Betal i nettbanken "
    "med KID-nummeret på fakturaen. Har du spørsmål, ring oss i åpningstiden. Med vennlig hilsen {unit}",
]
STANDARD_TEXTS = [
    ("Appointment reminder", "Hi, this is a reminder of your appointment tomorrow. Reply STOP to opt out.", None, True),
    ("Call us back", "We tried to reach you by phone. Please call us back when you can.", None, True),
    ("Results ready", "Your results are ready. Log in to the patient portal to read them.", None, True),
    ("Bergen: parking", "Parking at Bryggen is limited – take the Bybanen to Byparken.", "BGN", True),
    ("Oslo: new address", "Oslo Sentrum has moved to Karl Johans gate 12, 2nd floor.", "OSL", True),
    ("Old opening hours", "We are open 8–15 on weekdays.", None, False),
]
GATEWAY_ERRORS = {
    S.REJECTED: ["Not routable", "Unknown subscriber", "Rejected by SMSC: blacklisted number"],
    S.SENDING_FAILED: [
        "Connection refused",
        "HTTP 503 Service Unavailable",
        "Not delivered to phone: absent subscriber",
    ],
}
# Outcome of a message handed to the gateway, with weights that look like a real month.
SENT_OUTCOMES = [(S.RECEIVED, 86), (S.ACCEPTED, 2), (S.REJECTED, 3), (S.SENDING_FAILED, 4), (S.STATUS_CHECK_TIMEOUT, 3)]
PRECHECK_OUTCOMES = [(S.CONSENT_NOT_REGISTERED, 55), (S.PHONE_NOT_ENTERED, 20), (S.SENDING_NOT_ALLOWED, 25)]

MESSAGE_COLUMNS = (
    "id",
    "text",
    "phone",
    "contact_id",
    "org_unit_id",
    "sent_on",
    "status",
    "resent",
    "original_id",
    "segments",
    "sent_by_user_id",
    "gateway",
    "gateway_message_id",
    "gateway_error",
    "idempotency_key",
    "dispatch_state",
    "submitted_at",
    "dlr_token",
    "updated_at",
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
        _seed_contacts(session, rng, users)
    return True


def _seed_contacts(session, rng: random.Random, users: list[User], count: int = 200) -> None:
    used: set[str] = set()
    for i in range(count):
        name = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
        contact = Contact(name=name, email=f"{name.lower().replace(' ', '.')}{i}@example.com")
        session.add(contact)
        for label in rng.sample(["Mobile", "Work", "Home"], k=rng.choice([1, 1, 1, 2, 2, 3])):
            fixed_line = label == "Home" and rng.random() < 0.5  # some home numbers cannot take SMS
            number = _random_number(rng, used, mobile=not fixed_line)
            contact.phones.append(ContactPhone(number=number, label=label))
        session.flush()
        for phone in contact.phones:
            roll = rng.random()
            if roll < 0.78:
                session.add(
                    SmsConsent(
                        contact_id=contact.id,
                        phone_id=phone.id,
                        source="Signed form",
                        registered_at=datetime.now(UTC) - timedelta(days=rng.randrange(100, 900)),
                        registered_by_user_id=rng.choice(users).id,
                    )
                )
            elif roll < 0.86:
                registered = datetime.now(UTC) - timedelta(days=rng.randrange(100, 900))
                session.add(
                    SmsConsent(
                        contact_id=contact.id,
                        phone_id=phone.id,
                        source="Patient portal",
                        registered_at=registered,
                        withdrawn_at=registered + timedelta(days=rng.randrange(1, 90)),
                    )
                )


def _random_number(rng: random.Random, used: set[str], mobile: bool = True) -> str:
    """A valid Norwegian number not used yet: a mobile, or a fixed line (Oslo, 22/23)."""
    while True:
        candidate = (
            f"+47{rng.choice('49') if mobile else rng.choice(['22', '23'])}{rng.randrange(10**6, 10**7 - 1):07d}"[:11]
        )
        if candidate in used:
            continue
        try:
            phone = parse_phone(candidate, "NO")
        except InvalidPhoneNumber:
            continue
        if phone.can_receive_sms == mobile:
            used.add(candidate)
            return candidate


@dataclass
class _World:
    units: list[tuple[int, str, bool]]  # id, name, sender is broken
    senders: dict[int, list[int]]  # unit id → user ids that may send there
    phones: list[tuple[int, str, bool]]  # contact id, number, consent active
    first_id: int

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
        return cls(units, senders, phones, first_id)


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
        yield _row(next_id, body, phone, contact_id, unit_id, sent_on, status, False, None, segments, user_id, rng)
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
                )
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
    settled_at = sent_on + timedelta(seconds=rng.randrange(2, 90)) if sent and status not in PENDING else sent_on
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


def _history_statements(first_id: int) -> list:
    """The status events of the seeded messages, derived by the database from the rows:
    recorded → accepted by the gateway (when it took it) → the final word (when there is one)."""
    m = SmsMessage.__table__.c
    mine = m.id >= first_id
    went_out = m.dispatch_state != int(DispatchState.NOT_SENT)
    explanation = case({int(s): s.explanation for s in NOT_SENT}, value=m.status, else_="Recorded")
    recorded = select(m.id, case((went_out, int(S.UNKNOWN)), else_=m.status), m.sent_on, literal("send"), explanation)
    accepted = select(
        m.id,
        case((m.resent, int(S.RESENT)), else_=int(S.ACCEPTED)),
        m.sent_on,
        literal("gateway"),
        literal("Accepted for delivery"),
    ).where(mine, m.gateway_message_id.is_not(None))
    source = case(
        (m.status == int(S.STATUS_CHECK_TIMEOUT), "status-check"),
        (m.gateway_message_id.is_(None), "gateway"),
        else_="delivery-report",
    )
    final = select(m.id, m.status, m.updated_at, source, m.gateway_error).where(
        mine, went_out, m.status.not_in([int(s) for s in PENDING])
    )
    columns = ["message_id", "status", "at", "source", "detail"]
    return [insert(StatusEvent).from_select(columns, q) for q in (recorded.where(mine), accepted, final)]


def _bulk_messages(db: Database, world: _World, count: int, now: datetime, days: int, rng: random.Random) -> int:
    rows = _message_rows(world, count, now, days, rng)
    if db.is_postgres:
        return _copy_postgres(db, rows, world.first_id)
    return _insert_sqlite(db, rows, world.first_id)


def _insert_sqlite(db: Database, rows, first_id: int) -> int:
    msg_sql = (
        f"INSERT INTO sms_messages ({', '.join(MESSAGE_COLUMNS)}) VALUES ({', '.join('?' * len(MESSAGE_COLUMNS))})"
    )
    added = 0
    raw = db.engine.raw_connection()
    try:
        cur = raw.cursor()
        batch = []
        for row in rows:
            batch.append(tuple(_sqlite_value(v) for v in row))
            if len(batch) >= 5000:
                cur.executemany(msg_sql, batch)
                added += len(batch)
                batch = []
        cur.executemany(msg_sql, batch)
        added += len(batch)
        raw.commit()
    finally:
        raw.close()
    with db.engine.begin() as conn:
        for statement in _history_statements(first_id):
            conn.execute(statement)
    return added


def _sqlite_value(value):
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, bool):
        return int(value)
    return value


def _copy_postgres(db: Database, rows, first_id: int) -> int:
    """COPY with the secondary indexes dropped, then rebuild them on two connections at once.

    Building the text trigram index is most of the time, so it gets a connection of its own.
    """
    added = 0
    raw = db.engine.raw_connection()
    indexes: list[str] = []
    try:
        cur = raw.cursor()
        indexes = _drop_secondary_indexes(cur, ("sms_messages", "sms_status_events"))
        cur.execute("ALTER TABLE sms_messages DISABLE TRIGGER USER")  # roll-up counted once, below
        with cur.copy(f"COPY sms_messages ({', '.join(MESSAGE_COLUMNS)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
                added += 1
        for statement in _history_statements(first_id):
            compiled = statement.compile(dialect=db.engine.dialect, compile_kwargs={"render_postcompile": True})
            cur.execute(str(compiled), compiled.params)
        cur.execute(
            """INSERT INTO sms_daily_counts AS d (day, org_unit_id, status, messages, segments)
               SELECT sent_on::date, org_unit_id, status, count(*), sum(segments) FROM sms_messages
                WHERE id >= %s GROUP BY 1, 2, 3
               ON CONFLICT (day, org_unit_id, status)
               DO UPDATE SET messages = d.messages + excluded.messages, segments = d.segments + excluded.segments""",
            (first_id,),
        )
        cur.execute("ALTER TABLE sms_messages ENABLE TRIGGER USER")
        cur.execute("SELECT setval(pg_get_serial_sequence('sms_messages', 'id'), (SELECT max(id) FROM sms_messages))")
        raw.commit()
    finally:
        raw.close()  # without the commit, the rollback brings the dropped indexes back
    _build_indexes(db, indexes)
    return added


def _build_indexes(db: Database, definitions: list[str]) -> None:
    slow = [d for d in definitions if "gin_trgm_ops" in d and "(text " in d]
    groups = [slow, [d for d in definitions if d not in slow] + ["ANALYZE sms_messages", "ANALYZE sms_status_events"]]

    def run(statements: list[str]) -> None:
        with db.engine.connect() as conn:
            conn.exec_driver_sql("SET maintenance_work_mem = '512MB'")
            for statement in statements:
                conn.exec_driver_sql(statement)
            conn.commit()

    with ThreadPoolExecutor(max_workers=2) as pool:
        for future in [pool.submit(run, group) for group in groups if group]:
            future.result()


def _drop_secondary_indexes(cur, tables: tuple[str, ...]) -> list[str]:
    """Drop foreign keys and the indexes that back no constraint; return what rebuilds them.

    Checking foreign keys row by row and updating indexes during COPY costs several times more
    than validating and building them once afterwards.
    """
    cur.execute(
        """SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid)
             FROM pg_constraint WHERE conrelid = ANY(%s::regclass[]) AND contype = 'f'""",
        (list(tables),),
    )
    foreign_keys = cur.fetchall()
    for table, name, _ in foreign_keys:
        cur.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
    cur.execute(
        """SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid)
             FROM pg_index i
            WHERE i.indrelid = ANY(%s::regclass[])
              AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)""",
        (list(tables),),
    )
    indexes = cur.fetchall()
    for name, _ in indexes:
        cur.execute(f'DROP INDEX "{name}"')
    return [definition for _, definition in indexes] + [
        f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}' for table, name, definition in foreign_keys
    ]
