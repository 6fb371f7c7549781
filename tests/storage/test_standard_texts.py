"""Standard texts: who sees which, who may change them (enforced in sms_core), fields checked.

SQLite only: these are the rules of the service; the SQL beneath is plain and the same on both."""

from __future__ import annotations

import pytest

from sms_core.domain.errors import InvalidInput, NotFound, PermissionDenied
from sms_core.use_cases.accounts import load_actor, unit_id_by_code
from sms_core.use_cases.standard_texts import (
    active_standard_texts,
    create_standard_text,
    deactivate_standard_text,
    list_standard_texts,
    set_standard_text_active,
    update_standard_text,
)

pytestmark = pytest.mark.sqlite_only


def titles(texts) -> set[str]:
    return {t.title for t in texts}


def test_the_dialog_offers_active_global_texts_and_the_sending_units_own(demo_db):
    staff = load_actor(demo_db, "staff")  # Oslo (current) and Bergen
    oslo = titles(active_standard_texts(demo_db, staff))
    assert oslo == {"Appointment reminder", "Call us back", "Results ready", "Oslo: new address"}
    assert "Bergen: parking" in titles(active_standard_texts(demo_db, staff, unit_id_by_code(demo_db, "BGN")))
    with pytest.raises(PermissionDenied):  # not one of staff's units
        active_standard_texts(demo_db, staff, unit_id_by_code(demo_db, "TRD"))


def test_only_managers_of_standard_texts_may_change_them(demo_db):
    staff, admin = load_actor(demo_db, "staff"), load_actor(demo_db, "admin")
    some = list_standard_texts(demo_db, admin)[0]
    for attempt in (
        lambda: list_standard_texts(demo_db, staff),
        lambda: create_standard_text(demo_db, staff, title="Mine", body="Hello", org_unit_id=None),
        lambda: update_standard_text(demo_db, staff, some.id, title="Mine", body="Hello", org_unit_id=None),
        lambda: deactivate_standard_text(demo_db, staff, some.id),
    ):
        with pytest.raises(PermissionDenied):
            attempt()


def test_create_edit_and_deactivate_record_who_and_when(demo_db):
    admin, staff = load_actor(demo_db, "admin"), load_actor(demo_db, "staff")
    oslo = unit_id_by_code(demo_db, "OSL")
    created = create_standard_text(demo_db, admin, title=" Flu shots ", body="Flu shots on Friday 😊", org_unit_id=oslo)
    assert (created.title, created.org_unit_name, created.active) == ("Flu shots", "Oslo Sentrum", True)
    assert created.updated_by == "Ada Administrator"
    assert "Flu shots" in titles(active_standard_texts(demo_db, staff))
    edited = update_standard_text(
        demo_db, admin, created.id, title="Flu shots", body="Flu shots on Monday", org_unit_id=None
    )
    assert (edited.body, edited.org_unit_name) == ("Flu shots on Monday", "All org. units")
    assert edited.updated_at >= created.updated_at
    deactivate_standard_text(demo_db, admin, created.id)
    assert "Flu shots" not in titles(active_standard_texts(demo_db, staff))
    assert not next(t for t in list_standard_texts(demo_db, admin) if t.id == created.id).active
    assert set_standard_text_active(demo_db, admin, created.id, True).active


def test_a_unit_text_needs_the_manager_to_belong_to_that_unit(demo_db):
    admin = load_actor(demo_db, "admin")
    narrow = type(admin)(**{**admin.__dict__, "org_unit_ids": frozenset({unit_id_by_code(demo_db, "OSL")})})
    with pytest.raises(PermissionDenied):
        create_standard_text(
            demo_db, narrow, title="Bergen only", body="Hei", org_unit_id=unit_id_by_code(demo_db, "BGN")
        )
    bergen_text = next(t for t in list_standard_texts(demo_db, admin) if t.title == "Bergen: parking")
    assert "Bergen: parking" not in titles(list_standard_texts(demo_db, narrow))
    with pytest.raises(NotFound):
        deactivate_standard_text(demo_db, narrow, bergen_text.id)


@pytest.mark.parametrize(
    "title, body, field, words",
    [
        ("", "Hello", "title", "Give the standard text a title."),
        ("T" * 201, "Hello", "title", "at most 200"),
        ("Empty", "   ", "body", "Write the standard text."),
        ("Long", "x" * 1001, "body", "at most 1000 characters"),
    ],
)
def test_bad_fields_are_refused_at_their_field(demo_db, title, body, field, words):
    with pytest.raises(InvalidInput) as refused:
        create_standard_text(demo_db, load_actor(demo_db, "admin"), title=title, body=body, org_unit_id=None)
    assert refused.value.field == field and words in refused.value.message


def test_texts_for_all_org_units_need_a_manager_of_every_unit(demo_db):
    """An administrator of one unit sees the global texts but cannot rewrite, deactivate or create
    them, nor move a text between one unit and all; one associated with every unit can."""
    admin = load_actor(demo_db, "admin")  # associated with every demo unit
    oslo = unit_id_by_code(demo_db, "OSL")
    narrow = type(admin)(**{**admin.__dict__, "org_unit_ids": frozenset({oslo}), "current_org_unit_id": oslo})
    shared = next(t for t in list_standard_texts(demo_db, narrow) if t.org_unit_id is None)
    own = create_standard_text(demo_db, narrow, title="Oslo only", body="Hei fra Oslo", org_unit_id=oslo)
    for attempt in (
        lambda: update_standard_text(demo_db, narrow, shared.id, title="Mine now", body="Rewritten", org_unit_id=None),
        lambda: update_standard_text(demo_db, narrow, shared.id, title="Mine now", body="Rewritten", org_unit_id=oslo),
        lambda: deactivate_standard_text(demo_db, narrow, shared.id),
        lambda: create_standard_text(demo_db, narrow, title="For all", body="Hello all", org_unit_id=None),
        lambda: update_standard_text(demo_db, narrow, own.id, title="Oslo only", body="Hei", org_unit_id=None),
    ):
        with pytest.raises(PermissionDenied) as refused:
            attempt()
        assert "every org. unit" in refused.value.message
    unchanged = next(t for t in list_standard_texts(demo_db, admin) if t.id == shared.id)
    assert (unchanged.title, unchanged.body, unchanged.active) == (shared.title, shared.body, True)
    assert "For all" not in titles(list_standard_texts(demo_db, admin))
    assert deactivate_standard_text(demo_db, admin, shared.id).active is False
