"""The Contacts page with AppTest: search, consent shown per number, withdraw and register."""

from __future__ import annotations

from sqlalchemy import select
from test_app_shell import open_page, run_as

from sms_core.read_models.contacts import get_contact
from sms_core.storage.models import ContactPhone, SmsConsent
from sms_core.use_cases.accounts import load_actor


def consented_contact(db) -> tuple[int, int]:
    with db.session() as s:
        row = s.execute(
            select(ContactPhone.contact_id, ContactPhone.id)
            .join(SmsConsent, SmsConsent.phone_id == ContactPhone.id)
            .where(SmsConsent.withdrawn_at.is_(None))
            .order_by(ContactPhone.id)
        ).first()
    return row.contact_id, row.id


def test_contacts_page_searches_and_shows_consent(app_env):
    at = open_page(run_as("staff"), "sms-contacts")
    assert at.title[0].value == "Contacts"
    at.text_input(key="contacts_query").input("zzzz no such contact").run()
    assert "No contact matches this search" in at.info[0].value
    contact_id, _ = consented_contact(app_env)
    name = get_contact(app_env, load_actor(app_env, "staff"), contact_id).name
    at.text_input(key="contacts_query").input(name).run()
    assert any(name in str(df.value["Name"].tolist()) for df in at.dataframe)


def test_contacts_page_withdraws_and_registers_consent_with_who_and_when(app_env):
    contact_id, phone_id = consented_contact(app_env)
    at = open_page(run_as("staff"), "sms-contacts")
    at.session_state["contacts_selected"] = contact_id  # as if chosen in the list
    at.text_input(key="contacts_query").input(get_contact(app_env, load_actor(app_env, "staff"), contact_id).name).run()
    at.button(key=f"withdraw_{phone_id}").click().run()
    assert not at.exception, at.exception
    phone = next(p for p in get_contact(app_env, load_actor(app_env, "staff"), contact_id).phones if p.id == phone_id)
    assert phone.consent.label == "Withdrawn" and phone.consent.withdrawn_by == "Stian Staff"
    assert any("Withdrawn" in m.value and "Stian Staff" in m.value for m in at.markdown)
    at.text_input(key=f"source_{phone_id}").input("Phone call")  # in a form: sent with its submit button
    next(b for b in at.button if b.label == "Register consent").click().run()
    phone = next(p for p in get_contact(app_env, load_actor(app_env, "staff"), contact_id).phones if p.id == phone_id)
    assert (
        phone.consent.active and phone.consent.source == "Phone call" and phone.consent.registered_by == "Stian Staff"
    )


HEADER = "external id;name;e-mail;phone;label;consent;consent source\n"


def test_a_contact_manager_adds_a_contact_and_a_wrong_number_is_refused_at_its_field(app_env):
    at = open_page(run_as("admin"), "sms-contacts")
    at.text_input(key="contact_new_name").input("Zacharias Page")
    at.text_input(key="contact_new_phone").input("12")
    next(b for b in at.button if b.label == "Add contact").click().run()
    assert "The phone number is too short – check that no digits are missing." in [e.value for e in at.error]
    assert at.text_input(key="contact_new_name").value == "Zacharias Page"
    at.text_input(key="contact_new_phone").input("415 55 444")
    at.checkbox(key="contact_new_consent").check()
    at.text_input(key="contact_new_source").input("Signed form")
    next(b for b in at.button if b.label == "Add contact").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert at.subheader[0].value == "Zacharias Page"  # opened at once
    assert any("Registered" in m.value and "Signed form" in m.value for m in at.markdown)
    assert "added" in at.dataframe[-1].value["Change"].tolist()  # its history


def test_staff_see_no_editing_and_cannot_import(app_env):
    at = open_page(run_as("staff"), "sms-contacts")
    assert not [e for e in at.expander if e.label in ("Add a contact", "Import contacts from CSV")]
    assert not at.file_uploader


def test_an_import_is_previewed_refused_per_row_and_then_written(app_env):
    at = open_page(run_as("admin"), "sms-contacts")
    bad = HEADER + "I1;Ida Import;;12;Mobile;yes;Form\n"
    at.file_uploader(key="contacts_import_file").upload("contacts.csv", bad.encode(), "text/csv").run()
    assert not at.exception, at.exception
    problems = at.dataframe[0].value
    assert problems.iloc[0].tolist() == [
        2,
        "phone",
        "The phone number is too short – check that no digits are missing.",
    ]
    assert not [b for b in at.button if b.label.startswith("Import ")]
    good = HEADER + "I1;Ida Import;;415 55 431;Mobile;yes;Form\nI2;Ivar Import;;415 55 432;Mobile;no;\n"
    at.file_uploader(key="contacts_import_file").set_value(("contacts.csv", good.encode(), "text/csv")).run()
    assert "Would import 2 rows: 2 contacts added" in at.info[0].value
    next(b for b in at.button if b.label == "Import 2 rows").click().run()
    assert not at.exception, at.exception
    assert any(s.value.startswith("Imported 2 rows: 2 contacts added") for s in at.success)
    assert "0 contacts added, 0 changed, 2 unchanged" in at.info[0].value  # checked again: nothing left to do
    at.text_input(key="contacts_query").input("Ida Import").run()
    [found] = [df.value for df in at.dataframe if "Phone numbers" in df.value.columns]
    assert found["Phone numbers"].tolist() == ["+47 41 55 54 31"]
