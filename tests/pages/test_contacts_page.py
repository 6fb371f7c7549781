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
