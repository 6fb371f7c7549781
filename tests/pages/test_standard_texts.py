"""Standard texts: who sees which, who may change them (enforced in sms_core), and the page."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from sms_core.domain.errors import InvalidInput, NotFound, PermissionDenied
from sms_core.storage.models import OrgUnit
from sms_core.use_cases.accounts import load_actor
from sms_core.use_cases.standard_texts import (
    active_standard_texts,
    create_standard_text,
    deactivate_standard_text,
    list_standard_texts,
    set_standard_text_active,
    update_standard_text,
)
from tests.pages.test_app_shell import open_page, run_as


@pytest.fixture
def seeded(db):
    from sms_core.demo.seed import seed_demo

    seed_demo(db, messages=0)
    return db


def unit_id(db, code: str) -> int:
    with db.session() as s:
        return s.scalar(select(OrgUnit.id).where(OrgUnit.code == code))


def titles(texts) -> set[str]:
    return {t.title for t in texts}


def test_the_dialog_offers_active_global_texts_and_the_sending_units_own(seeded):
    staff = load_actor(seeded, "staff")  # Oslo (current) and Bergen
    oslo = titles(active_standard_texts(seeded, staff))
    assert oslo == {"Appointment reminder", "Call us back", "Results ready", "Oslo: new address"}
    assert "Bergen: parking" in titles(active_standard_texts(seeded, staff, unit_id(seeded, "BGN")))
    with pytest.raises(PermissionDenied):  # not one of staff's units
        active_standard_texts(seeded, staff, unit_id(seeded, "TRD"))


def test_only_managers_of_standard_texts_may_change_them(seeded):
    staff, admin = load_actor(seeded, "staff"), load_actor(seeded, "admin")
    some = list_standard_texts(seeded, admin)[0]
    for attempt in (
        lambda: list_standard_texts(seeded, staff),
        lambda: create_standard_text(seeded, staff, title="Mine", body="Hello", org_unit_id=None),
        lambda: update_standard_text(seeded, staff, some.id, title="Mine", body="Hello", org_unit_id=None),
        lambda: deactivate_standard_text(seeded, staff, some.id),
    ):
        with pytest.raises(PermissionDenied):
            attempt()


def test_create_edit_and_deactivate_record_who_and_when(seeded):
    admin, staff = load_actor(seeded, "admin"), load_actor(seeded, "staff")
    oslo = unit_id(seeded, "OSL")
    created = create_standard_text(seeded, admin, title=" Flu shots ", body="Flu shots on Friday 😊", org_unit_id=oslo)
    assert (created.title, created.org_unit_name, created.active) == ("Flu shots", "Oslo Sentrum", True)
    assert created.updated_by == "Ada Administrator"
    assert "Flu shots" in titles(active_standard_texts(seeded, staff))
    edited = update_standard_text(
        seeded, admin, created.id, title="Flu shots", body="Flu shots on Monday", org_unit_id=None
    )
    assert (edited.body, edited.org_unit_name) == ("Flu shots on Monday", "All org. units")
    assert edited.updated_at >= created.updated_at
    deactivate_standard_text(seeded, admin, created.id)
    assert "Flu shots" not in titles(active_standard_texts(seeded, staff))
    assert not next(t for t in list_standard_texts(seeded, admin) if t.id == created.id).active
    assert set_standard_text_active(seeded, admin, created.id, True).active


def test_a_unit_text_needs_the_manager_to_belong_to_that_unit(seeded):
    admin = load_actor(seeded, "admin")
    narrow = type(admin)(**{**admin.__dict__, "org_unit_ids": frozenset({unit_id(seeded, "OSL")})})
    with pytest.raises(PermissionDenied):
        create_standard_text(seeded, narrow, title="Bergen only", body="Hei", org_unit_id=unit_id(seeded, "BGN"))
    bergen_text = next(t for t in list_standard_texts(seeded, admin) if t.title == "Bergen: parking")
    assert "Bergen: parking" not in titles(list_standard_texts(seeded, narrow))
    with pytest.raises(NotFound):
        deactivate_standard_text(seeded, narrow, bergen_text.id)


@pytest.mark.parametrize(
    "title, body, field, words",
    [
        ("", "Hello", "title", "Give the standard text a title."),
        ("T" * 201, "Hello", "title", "at most 200"),
        ("Empty", "   ", "body", "Write the standard text."),
        ("Long", "x" * 1001, "body", "at most 1000 characters"),
    ],
)
def test_bad_fields_are_refused_at_their_field(seeded, title, body, field, words):
    with pytest.raises(InvalidInput) as refused:
        create_standard_text(seeded, load_actor(seeded, "admin"), title=title, body=body, org_unit_id=None)
    assert refused.value.field == field and words in refused.value.message


# ---- the page ----------------------------------------------------------------------------

BODY = "standard_text_body__text"  # Python's copy of the body typed in the text box


def test_administrator_creates_a_text_and_sees_errors_at_their_field(app_env):
    at = open_page(run_as("admin"), "sms-standard-texts")
    assert at.title[0].value == "Standard texts" and len(at.dataframe[0].value) == 6
    next(b for b in at.button if b.label == "New standard text").click().run()
    at.text_input(key="standard_text_title").input("Parking in Oslo").run()
    next(b for b in at.button if b.label == "Save").click().run()
    assert "Write the standard text." in [e.value for e in at.error]
    at.session_state[BODY] = "Park in the garage under the building."
    next(b for b in at.button if b.label == "Save").click().run()
    assert not at.exception, at.exception
    assert "Parking in Oslo" in at.dataframe[0].value["Title"].tolist()
    admin = load_actor(app_env, "admin")
    saved = next(t for t in list_standard_texts(app_env, admin) if t.title == "Parking in Oslo")
    assert saved.body == "Park in the garage under the building." and saved.org_unit_id is None
    next(b for b in at.button if b.label == "Deactivate").click().run()
    assert not next(t for t in list_standard_texts(app_env, admin) if t.id == saved.id).active


def test_the_page_is_refused_to_staff(app_env):
    at = open_page(run_as("staff"), "sms-standard-texts")
    assert "do not have permission to manage standard texts" in at.error[0].value
