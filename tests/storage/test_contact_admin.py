"""Contacts added and edited by hand and imported from CSV, on SQLite and PostgreSQL: numbers
checked as the Send SMS dialog checks them, consent with its source, every change audited, and an
import that writes all of a file or nothing, and changes nothing when imported again."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import func, select

from sms_core.domain.errors import Conflict, InvalidInput, PermissionDenied
from sms_core.read_models.administration import list_audit
from sms_core.read_models.contacts import get_contact, search_contacts
from sms_core.storage.audit_models import AuditEvent
from sms_core.storage.models import Contact, ContactPhone, SmsConsent
from sms_core.use_cases.accounts import load_actor
from sms_core.use_cases.audit import cli_actor
from sms_core.use_cases.consent import consent_for_number
from sms_core.use_cases.contact_import import import_contacts
from sms_core.use_cases.contacts_admin import (
    ContactInput,
    PhoneInput,
    add_contact,
    add_phone,
    relabel_phone,
    update_contact,
)

HEADER = "external id;name;e-mail;phone;label;consent;consent source\n"


@pytest.fixture
def admin(demo_base_db):
    return load_actor(demo_base_db, "admin")


def counts(db) -> tuple[int, int, int, int]:
    with db.session() as s:
        return tuple(
            s.scalar(select(func.count()).select_from(model))
            for model in (Contact, ContactPhone, SmsConsent, AuditEvent)
        )


def test_a_contact_added_by_hand_is_found_by_every_user_and_can_be_sent_to(demo_base_db, admin):
    db, staff = demo_base_db, load_actor(demo_base_db, "kari")  # Trondheim only: contacts are organisation-wide
    contact_id = add_contact(
        db,
        admin,
        ContactInput("Åsmund Ny-Zeta", "ase@example.no", "P-1"),
        [PhoneInput("415 55 999", "Mobile", True, "Signed form"), PhoneInput("+47 22 11 22 33", "Home")],
    )
    assert [h.id for h in search_contacts(db, staff, "åsmund ny-zeta")] == [contact_id]
    contact = get_contact(db, staff, contact_id)
    assert [(p.number, p.label, p.consent.label) for p in contact.phones] == [
        ("+4741555999", "Mobile", "Registered"),
        ("+4722112233", "Home", "Not registered"),
    ]
    assert (
        contact.phones[0].consent.source == "Signed form"
        and contact.phones[0].consent.registered_by == "Ada Administrator"
    )
    assert consent_for_number(db, staff, "+4741555999").allowed
    [line] = list_audit(db, staff, "contact", contact_id)
    assert line.action == "added" and ("phone +4741555999", None, "Mobile, consent yes (Signed form)") in line.changes


@pytest.mark.parametrize(
    "contact, phone, field, words",
    [
        (ContactInput(""), PhoneInput("41555999"), "name", "Enter the name"),
        (ContactInput("X", "nope"), PhoneInput("41555999"), "email", "not an e-mail address"),
        (ContactInput("X"), PhoneInput("12"), "phone", "too short"),
        (ContactInput("X"), PhoneInput("abc"), "phone", "not a phone number"),
        (ContactInput("X"), PhoneInput("41555999", consent=True), "consent_source", "where the consent comes from"),
        (ContactInput("X"), PhoneInput("41555999", label="L" * 41), "label", "at most 40"),
    ],
)
def test_a_contact_that_cannot_be_added_is_refused_at_its_field(demo_base_db, admin, contact, phone, field, words):
    before = counts(demo_base_db)
    with pytest.raises(InvalidInput) as refused:
        add_contact(demo_base_db, admin, contact, [phone])
    assert refused.value.field == field and words in refused.value.message
    assert counts(demo_base_db) == before


def test_editing_a_contact_and_its_numbers_is_audited_and_needs_the_permission(demo_base_db, admin):
    db = demo_base_db
    contact_id = add_contact(db, admin, ContactInput("Per Hansen"), [PhoneInput("41555999")])
    update_contact(db, admin, contact_id, ContactInput("Per Olav Hansen", "per@example.no", "P-7"))
    update_contact(db, admin, contact_id, ContactInput("Per Olav Hansen", "PER@example.no", "P-7"))  # no change
    phone_id = add_phone(db, admin, contact_id, PhoneInput("+4741555888", "Work", True, "Phone call"))
    relabel_phone(db, admin, phone_id, "Work mobile")
    with pytest.raises(Conflict, match="already has this number"):
        add_phone(db, admin, contact_id, PhoneInput("41 55 58 88"))
    other = add_contact(db, admin, ContactInput("Other"))
    with pytest.raises(Conflict, match="external id P-7"):
        update_contact(db, admin, other, ContactInput("Other", "", "P-7"))
    lines = list_audit(db, admin, "contact", contact_id)
    assert [line.action for line in lines] == ["changed", "changed", "changed", "added"]
    assert ("name", "Per Hansen", "Per Olav Hansen") in lines[2].changes
    assert ("phone +4741555888 label", "Work", "Work mobile") in lines[0].changes
    staff = load_actor(db, "staff")
    for attempt in (
        lambda: add_contact(db, staff, ContactInput("X")),
        lambda: update_contact(db, staff, contact_id, ContactInput("X")),
        lambda: add_phone(db, staff, contact_id, PhoneInput("41555777")),
        lambda: import_contacts(db, staff, HEADER),
    ):
        with pytest.raises(PermissionDenied):
            attempt()


def test_an_import_with_any_wrong_row_writes_nothing_and_names_each_row_and_field(demo_base_db, admin):
    db = demo_base_db
    before = counts(db)
    data = HEADER + (
        "A1;Anne A;anne@example.no;415 55 001;Mobile;yes;Signed form\n"
        "A2;;b@example.no;415 55 002;Mobile;no;\n"
        "A3;Carl C;not-mail;415 55 003;Mobile;no;\n"
        "A4;Dina D;;12;Mobile;no;\n"
        "A5;Erik E;;415 55 005;Mobile;maybe;\n"
        "A6;Frid F;;415 55 006;Mobile;yes;\n"
        "A1;Anne Other;anne@example.no;415 55 007;Work;no;\n"
        ";Gro G;;415 55 001;Mobile;no;\n"
        ";Gro G;;+47 415 55 001;Mobile;no;\n"
    )
    report = import_contacts(db, admin, data.encode())
    assert not report.written and counts(db) == before
    assert [str(e) for e in report.errors] == [
        "Row 3, name: Enter the name.",
        "Row 4, e-mail: 'not-mail' is not an e-mail address (name@example.org).",
        "Row 5, phone: The phone number is too short – check that no digits are missing.",
        "Row 6, consent: write yes or no, not 'maybe'.",
        "Row 7, consent source: Say where the consent comes from (for example: signed form, phone call).",
        "Row 8, name: differs from row 2, which has the same external id.",
        "Row 10, phone: the same number is already on row 9.",
    ]
    assert report.summary.startswith("7 problem(s) in 9 rows; nothing was imported.")


def test_a_file_the_import_cannot_read_is_one_sentence(demo_base_db, admin):
    for data, words in (
        (b"", "empty"),
        (b"name;phone\nA;41555001\n", "consent is missing"),
        (b"name;phone;consent;colour\n", "column 'colour' this import does not know"),
        ("name;phone;consent\nÅse;41555001;yes\n".encode("latin-1"), "not UTF-8"),
    ):
        with pytest.raises(InvalidInput, match=words):
            import_contacts(demo_base_db, admin, data)


def test_reimporting_updates_by_external_id_else_by_number_and_changes_nothing_the_second_time(demo_base_db, admin):
    db = demo_base_db
    stored = add_contact(db, admin, ContactInput("Old Name"), [PhoneInput("41555010", "Mobile", True, "Form")])
    data = HEADER + (
        "K1;Kari Kontakt;kari.k@example.no;415 55 011;Mobile;yes;Web form\n"
        "K1;Kari Kontakt;kari.k@example.no;22 11 22 33;Home;no;\n"
        ";New Name;;+47 415 55 010;Work;no;\n"
    )
    first = import_contacts(db, cli_actor(), data)
    assert first.written and (first.contacts_added, first.contacts_changed, first.numbers_added) == (1, 1, 2)
    assert (first.consents_registered, first.consents_withdrawn) == (1, 1)
    changed = get_contact(db, admin, stored)
    assert (
        changed.name == "New Name"
        and changed.phones[0].label == "Work"
        and changed.phones[0].consent.label == "Withdrawn"
    )
    [line] = [x for x in list_audit(db, admin, "contact", stored) if x.action == "imported"]
    assert line.who == "CLI" and ("phone +4741555010", "Mobile, consent yes (Form)", "Work, consent no") in line.changes
    after_first = counts(db)
    again = import_contacts(db, admin, data)
    assert again.written and (again.contacts_added, again.contacts_changed, again.contacts_unchanged) == (0, 0, 2)
    assert counts(db) == after_first  # no new contact, number, consent or audit line
    renamed = import_contacts(db, admin, data.replace("Kari Kontakt", "Kari Kontakt-Berg"))
    assert (renamed.contacts_changed, renamed.contacts_unchanged) == (1, 1)
    [hit] = search_contacts(db, admin, "Kontakt-Berg")
    assert len(hit.numbers) == 2


def test_a_dry_run_says_what_would_happen_and_writes_nothing(demo_base_db, admin):
    before = counts(demo_base_db)
    report = import_contacts(demo_base_db, admin, HEADER + "Z1;Zoe Z;;41555020;Mobile;yes;Form\n", dry_run=True)
    assert report.summary.startswith("Would import 1 rows: 1 contacts added") and not report.written
    assert report.preview == [(2, "Zoe Z", "+4741555020", "new contact")]
    assert counts(demo_base_db) == before


def ten_thousand(prefix: str = "T") -> str:
    lines = [
        f"{prefix}{i};Kontakt {i:05d};k{i}@example.no;+47 4{i:07d};Mobile;{'yes' if i % 3 else 'no'};Import {i % 7}"
        for i in range(10_000)
    ]
    return HEADER + "\n".join(lines) + "\n"


def test_ten_thousand_contacts_import_in_bulk_and_again_change_nothing(db, capsys):
    """Speed belongs to the bench; the time is printed here so a regression shows in the output."""
    from sms_core.demo.seed import seed_demo

    seed_demo(db, messages=0)
    admin = load_actor(db, "admin")
    data = ten_thousand()
    steps: list[float] = []
    started = time.perf_counter()
    report = import_contacts(db, admin, data.encode(), progress=lambda f, _t: steps.append(f))
    first = time.perf_counter() - started
    assert report.written and report.contacts_added == 10_000 and report.consents_registered == 6_666
    assert steps[0] == 0.0 and steps[-1] == 1.0 and steps == sorted(steps) and len(steps) > 5
    after = counts(db)
    started = time.perf_counter()
    again = import_contacts(db, admin, data.encode())
    second = time.perf_counter() - started
    assert again.contacts_unchanged == 10_000 and counts(db) == after
    with capsys.disabled():
        print(f"\n10,000-contact import on {db.url.get_backend_name()}: {first:.1f} s, again unchanged: {second:.1f} s")
