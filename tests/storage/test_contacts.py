"""Contacts: search by name or number (on both databases: case, accents and wildcards are where
they differ), each number with its consent state, and who may look."""

from __future__ import annotations

import pytest

from sms_core.domain.errors import NotFound, PermissionDenied
from sms_core.domain.permissions import Actor
from sms_core.domain.phones import format_international
from sms_core.read_models.contacts import get_contact, search_contacts
from sms_core.storage.models import Contact, ContactPhone


@pytest.fixture(autouse=True)
def our_contacts(demo_db) -> None:
    """Three contacts of our own among the demo's, whose names and numbers we know."""
    with demo_db.session() as s:
        s.add_all(
            [
                Contact(name="Åse Øvrebø", phones=[ContactPhone(number="+4791112233", label="Mobile")]),
                Contact(name="Åse Hansen-Test", phones=[ContactPhone(number="+4740005000", label="Work")]),
                Contact(name="Zed 100% Test", phones=[ContactPhone(number="+4798989898", label="Mobile")]),
            ]
        )


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
