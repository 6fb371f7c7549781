"""The standard texts page with AppTest: an administrator creates, edits and deactivates; staff
are refused."""

from __future__ import annotations

from test_app_shell import open_page, run_as

from sms_core.use_cases.accounts import load_actor
from sms_core.use_cases.standard_texts import list_standard_texts

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
