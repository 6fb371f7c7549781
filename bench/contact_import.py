"""The CSV import of 10,000 contacts, and importing the same file again (which changes nothing).

Ours is ``sms_core.use_cases.contact_import.import_contacts`` as the page and the CLI call it:
every row checked, the stored contacts matched in chunks, then bulk inserts.  The naive baseline
does what one would write first: per row, look the contact up by its external id, add it, flush
for its id, add its number and its consent, each a statement of its own, in one transaction.
Each run imports contacts of its own (external ids unique to the run) and deletes them after, so
the bench database stays as seeded.
"""

from __future__ import annotations

import itertools
import uuid

from sqlalchemy import delete, select

from bench.timing import Result, Stats, check_max, measure
from sms_core.domain.permissions import Actor
from sms_core.domain.phones import parse_phone
from sms_core.storage.audit_models import AuditEvent
from sms_core.storage.database import Database
from sms_core.storage.models import Contact, ContactPhone, SmsConsent, utcnow
from sms_core.use_cases.contact_import import import_contacts

HEADER = "external id;name;e-mail;phone;label;consent;consent source\n"
TARGET_MS = 30_000  # the issue: 10,000 contacts in under 30 s


def csv_file(prefix: str, rows: int) -> bytes:
    lines = (
        f"{prefix}-{i};Bench Kontakt {i:05d};b{i}@example.no;+47 4{i % 10_000_000:07d};Mobile;"
        f"{'yes' if i % 3 else 'no'};Bench {i % 7}"
        for i in range(rows)
    )
    return (HEADER + "\n".join(lines) + "\n").encode()


def naive_import(db: Database, data: bytes) -> None:
    """Row by row through the ORM: a query, and a flush per contact and per number."""
    lines = data.decode().splitlines()[1:]
    with db.session() as session:
        for line in lines:
            external, name, email, phone, label, consent, source = line.split(";")
            number = parse_phone(phone).e164
            contact = session.scalar(select(Contact).where(Contact.external_id == external))
            if contact is None:
                contact = Contact(name=name, email=email, external_id=external)
                session.add(contact)
                session.flush()
            stored = session.scalar(
                select(ContactPhone).where(ContactPhone.contact_id == contact.id, ContactPhone.number == number)
            )
            if stored is None:
                stored = ContactPhone(contact_id=contact.id, number=number, label=label)
                session.add(stored)
                session.flush()
                if consent == "yes":
                    session.add(
                        SmsConsent(contact_id=contact.id, phone_id=stored.id, source=source, registered_at=utcnow())
                    )
                session.add(
                    AuditEvent(
                        actor_name="bench", entity="contact", entity_id=contact.id, action="imported", after="{}"
                    )
                )


def remove(db: Database, prefix: str) -> None:
    """The run's contacts, with their numbers, consents (cascade) and audit lines."""
    with db.session() as session:
        ids = select(Contact.id).where(Contact.external_id.like(f"{prefix}-%"))
        session.execute(delete(AuditEvent).where(AuditEvent.entity == "contact", AuditEvent.entity_id.in_(ids)))
        session.execute(delete(Contact).where(Contact.external_id.like(f"{prefix}-%")))


def measure_import(db: Database, admin: Actor, rows: int = 10_000, runs: int = 3) -> list[Result]:
    counter = itertools.count()
    prefixes: list[str] = []

    def fresh() -> str:
        prefix = f"bench-{uuid.uuid4().hex[:8]}-{next(counter)}"
        prefixes.append(prefix)
        return prefix

    def ours() -> None:
        prefix = fresh()
        report = import_contacts(db, admin, csv_file(prefix, rows))
        assert report.contacts_added == rows, report.summary
        remove(db, prefix)

    def naive() -> None:
        prefix = fresh()
        naive_import(db, csv_file(prefix, rows))
        remove(db, prefix)

    try:
        first = measure(ours, runs=runs, warmup=0, budget=300, min_runs=1)
        baseline = measure(naive, runs=runs, warmup=0, budget=300, min_runs=1)
        again_prefix = fresh()
        data = csv_file(again_prefix, rows)
        import_contacts(db, admin, data)

        def reimport() -> None:
            report = import_contacts(db, admin, data)
            assert report.contacts_unchanged == rows, report.summary

        again = measure(reimport, runs=runs, warmup=0, budget=300, min_runs=1)
    finally:
        for prefix in prefixes:
            remove(db, prefix)
    item = f"{rows:,} contacts from CSV"
    return [
        _result(item, first, baseline),
        _result(f"{item}, imported again (nothing changes)", again, None),
    ]


def _result(item: str, ours: Stats, naive: Stats | None) -> Result:
    return Result(
        "Contact import",
        item,
        ours,
        naive,
        target=f"p95 < {TARGET_MS / 1000:.0f} s",
        met=check_max(ours, TARGET_MS),
        note="naive: a query and a flush per row" if naive else "",
    )
