"""The contact-import bench compares like with like: the naive row-by-row import stores the same
contacts, numbers and consents as ours, and each run's contacts are removed again."""

from __future__ import annotations

from sqlalchemy import func, select

from bench.contact_import import csv_file, measure_import, naive_import, remove
from sms_core.demo.seed import seed_demo
from sms_core.storage.models import Contact, ContactPhone, SmsConsent
from sms_core.use_cases.accounts import load_actor
from sms_core.use_cases.contact_import import import_contacts


def stored(db, prefix: str) -> set[tuple]:
    with db.session() as s:
        rows = s.execute(
            select(Contact.name, Contact.email, ContactPhone.number, ContactPhone.label, SmsConsent.source)
            .join(ContactPhone, ContactPhone.contact_id == Contact.id)
            .outerjoin(SmsConsent, SmsConsent.phone_id == ContactPhone.id)
            .where(Contact.external_id.like(f"{prefix}-%"))
        )
        return {tuple(r) for r in rows}


def test_the_naive_import_stores_what_ours_stores_and_runs_clean_up(db):
    seed_demo(db, messages=0)
    admin = load_actor(db, "admin")
    import_contacts(db, admin, csv_file("ours", 60))
    naive_import(db, csv_file("naive", 60))
    assert stored(db, "ours") == stored(db, "naive") and len(stored(db, "ours")) == 60
    with db.session() as s:
        before = s.scalar(select(func.count()).select_from(Contact))
    results = measure_import(db, admin, rows=30, runs=1)
    assert [r.item for r in results] == [
        "30 contacts from CSV",
        "30 contacts from CSV, imported again (nothing changes)",
    ]
    assert all(r.met for r in results) and results[0].naive is not None
    remove(db, "ours")
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(Contact)) == before - 60
