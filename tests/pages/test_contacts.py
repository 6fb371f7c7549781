"""Contacts: search by name or number on both databases, and the Contacts page with AppTest."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from sms_core.domain.errors import NotFound, PermissionDenied
from sms_core.domain.permissions import Actor
from sms_core.domain.phones import format_international
from sms_core.read_models.contacts import get_contact, search_contacts
from sms_core.storage.models import Contact, ContactPhone, SmsConsent
from sms_core.use_cases.accounts import load_actor
from tests.pages.test_app_shell import open_page, run_as


@pytest.fixture
def staff(db) -> Actor:
    """Staff of the demo, with three contacts of our own whose names and numbers we know."""
    from sms_core.demo.seed import seed_demo

    seed_demo(db, messages=0)
    with db.session() as s:
        s.add_all(
            [
                Contact(name="Åse Øvrebø", phones=[ContactPhone(number="+4791112233", label="Mobile")]),
                Contact(name="Åse Hansen-Test", phones=[ContactPhone(number="+4740005000", label="Work")]),
                Contact(name="Zed 100% Test", phones=[ContactPhone(number="+4798989898", label="Mobile")]),
            ]
        )
    return load_actor(db, "staff")


def names(hits) -> list[str]:
    return [h.name for h in hits]


def test_search_by_name_matches_every_word_anywhere_ignoring_case(db, staff):
    assert names(search_contacts(db, staff, "hansen-test")) == ["Åse Hansen-Test"]
    assert names(search_contacts(db, staff, "test åse")) == ["Åse Hansen-Test"]
    assert names(search_contacts(db, staff, "Zed 100%")) == ["Zed 100% Test"]  # % is a character, not a wildcard
    assert search_contacts(db, staff, "nobody by this name") == []


def test_search_by_number_in_any_notation_or_part(db, staff):
    for typed in ("+47 911 12 233", "0047 91112233", "91112233", "111 22", "+47 91 11 22 33"):
        hits = search_contacts(db, staff, typed)
        assert names(hits) == ["Åse Øvrebø"], typed
        assert hits[0].numbers == (format_international("+4791112233"),)


def test_an_empty_search_lists_contacts_by_name_up_to_the_limit(db, staff):
    hits = search_contacts(db, staff, "  ", limit=5)
    assert len(hits) == 5 and names(hits) == sorted(names(hits))


def test_a_contact_shows_each_number_with_its_consent_state(db, staff):
    [hit] = search_contacts(db, staff, "Øvrebø")
    contact = get_contact(db, staff, hit.id)
    [phone] = contact.phones
    assert (
        phone.consent.label == "Not registered" and phone.display == f"{format_international('+4791112233')} (Mobile)"
    )
    with pytest.raises(NotFound):
        get_contact(db, staff, 10**9)


def test_contacts_need_the_view_permission(db, staff):
    nobody = Actor(staff.id, "x", "X", "staff", frozenset(), staff.org_unit_ids, staff.current_org_unit_id)
    with pytest.raises(PermissionDenied):
        search_contacts(db, nobody, "")


# ---- the page ----------------------------------------------------------------------------


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
