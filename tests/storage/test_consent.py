"""SMS consent rules, on SQLite and PostgreSQL: per contact and number, registered and withdrawn
with who and when; a typed number is held to the consent of the contact it belongs to.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from sqlalchemy import select

from sms_core.domain.errors import InvalidInput, PermissionDenied
from sms_core.domain.permissions import Actor, Permission
from sms_core.read_models.administration import list_audit
from sms_core.read_models.contacts import get_contact
from sms_core.storage.models import Contact, ContactPhone, OrgUnit, SmsConsent, User, UserOrgUnit
from sms_core.use_cases.consent import check_consent, consent_for_number, register_consent, withdraw_consent
from sms_core.use_cases.settings import REQUIRE_CONSENT_FOR_UNKNOWN, change_setting

UNKNOWN = "+4741555123"


@dataclass(frozen=True)
class People:
    actor: Actor
    kari: int  # contact id
    kari_mobile: int  # phone ids …
    kari_work: int
    ola: int
    ola_mobile: int  # withdrawn


def make_actor(user_id: int, unit_id: int, permissions=frozenset(Permission)) -> Actor:
    return Actor(
        user_id, "tester", "Tess Tester", "administrator", frozenset(permissions), frozenset({unit_id}), unit_id
    )


@pytest.fixture
def people(db) -> People:
    """Kari: mobile with consent, work number never registered.  Ola: consent withdrawn."""
    with db.session() as s:
        unit = OrgUnit(code="OSL", name="Oslo", representative_name="Ingrid", sms_sender="OsloHelse")
        user = User(username="tester", display_name="Tess Tester", role="administrator")
        s.add_all([unit, user])
        s.flush()
        s.add(UserOrgUnit(user_id=user.id, org_unit_id=unit.id))
        kari = Contact(
            name="Kari Nordmann",
            phones=[
                ContactPhone(number="+4791234567", label="Mobile"),
                ContactPhone(number="+4722123456", label="Work"),
            ],
        )
        ola = Contact(name="Ola Hansen", phones=[ContactPhone(number="+4798765432", label="Mobile")])
        s.add_all([kari, ola])
        s.flush()
        ids = (user.id, unit.id, kari.id, kari.phones[0].id, kari.phones[1].id, ola.id, ola.phones[0].id)
    actor = make_actor(ids[0], ids[1])
    register_consent(db, actor, ids[3], "Signed form")
    register_consent(db, actor, ids[6], "Phone call")
    withdraw_consent(db, actor, ids[6])
    return People(actor, ids[2], ids[3], ids[4], ids[5], ids[6])


def check(db, number: str, contact_id: int | None = None):
    with db.session() as s:
        return check_consent(s, number, contact_id)


def test_registered_consent_allows_the_contact_and_the_typed_number(db, people):
    assert check(db, "+4791234567", people.kari).allowed
    typed = check(db, "+4791234567")
    assert typed.allowed and typed.contact_id == people.kari  # recorded on the contact it belongs to


def test_a_number_never_registered_is_refused(db, people):
    result = check(db, "+4722123456", people.kari)
    assert not result.allowed and "not registered" in result.message


def test_withdrawn_consent_is_refused_chosen_or_typed(db, people):
    assert not check(db, "+4798765432", people.ola).allowed
    typed = check(db, "+4798765432")
    assert not typed.allowed and typed.contact_id == people.ola


def test_a_number_that_is_not_the_contacts_own_is_refused(db, people):
    result = check(db, "+4798765432", people.kari)
    assert not result.allowed and result.message == "This number is not registered for the contact."


def test_a_number_shared_by_two_contacts_needs_consent_from_both(db, people):
    with db.session() as s:
        s.add(ContactPhone(contact_id=people.ola, number="+4791234567", label="Shared"))
    assert check(db, "+4791234567", people.kari).allowed  # Kari's own consent, Kari chosen
    assert not check(db, "+4791234567").allowed  # typed: Ola never consented on this number


def test_unknown_number_is_allowed_unless_the_setting_requires_consent(db, people):
    result = check(db, UNKNOWN)
    assert result.allowed and result.contact_id is None and "belongs to no contact" in result.message
    change_setting(db, people.actor, REQUIRE_CONSENT_FOR_UNKNOWN, True)
    refused = check(db, UNKNOWN)
    assert not refused.allowed and "consent is required for unknown numbers" in refused.message


def test_register_and_withdraw_record_who_when_and_source(db, people):
    register_consent(db, people.actor, people.kari_work, "  Phone call  ")
    state = {p.id: p.consent for p in get_contact(db, people.actor, people.kari).phones}[people.kari_work]
    assert state.active and state.source == "Phone call" and state.registered_by == "Tess Tester"
    assert state.registered_at is not None
    withdraw_consent(db, people.actor, people.kari_work)
    state = {p.id: p.consent for p in get_contact(db, people.actor, people.kari).phones}[people.kari_work]
    assert (
        state.label == "Withdrawn" and state.withdrawn_by == "Tess Tester" and state.withdrawn_at >= state.registered_at
    )
    assert not check(db, "+4722123456", people.kari).allowed


def test_registering_again_after_withdrawal_opens_a_new_consent_and_keeps_the_old(db, people):
    register_consent(db, people.actor, people.ola_mobile, "Signed form")
    assert check(db, "+4798765432", people.ola).allowed
    register_consent(db, people.actor, people.ola_mobile, "Signed form")  # already active: nothing new
    with db.session() as s:
        rows = s.scalars(select(SmsConsent).where(SmsConsent.phone_id == people.ola_mobile)).all()
    assert sorted(r.withdrawn_at is None for r in rows) == [False, True]


def test_consent_needs_a_source_and_the_send_permission(db, people):
    with pytest.raises(InvalidInput) as refused:
        register_consent(db, people.actor, people.kari_work, "   ")
    assert refused.value.field == "source"
    viewer = make_actor(people.actor.id, people.actor.current_org_unit_id, {Permission.VIEW_SMS})
    for action in (
        lambda: register_consent(db, viewer, people.kari_work, "Signed form"),
        lambda: withdraw_consent(db, viewer, people.kari_mobile),
        lambda: consent_for_number(db, viewer, "+4791234567", people.kari),
    ):
        with pytest.raises(PermissionDenied):
            action()
    assert consent_for_number(db, people.actor, "+4791234567", people.kari).allowed


def test_consent_registered_and_withdrawn_with_the_buttons_is_in_the_contacts_audit_trail(db, people):
    register_consent(db, people.actor, people.kari_work, "Phone call")
    register_consent(db, people.actor, people.kari_work, "Again")  # already registered: no change, no line
    withdraw_consent(db, people.actor, people.kari_work)
    withdraw_consent(db, people.actor, people.kari_work)  # nothing left to withdraw: no line
    lines = list_audit(db, people.actor, "contact", people.kari)
    assert [(line.who, line.action, line.changes) for line in lines] == [
        ("Tess Tester", "changed", (("phone +4722123456 consent", "yes", "withdrawn"),)),
        ("Tess Tester", "changed", (("phone +4722123456 consent", "no", "yes (Phone call)"),)),
        ("Tess Tester", "changed", (("phone +4791234567 consent", "no", "yes (Signed form)"),)),
    ]
