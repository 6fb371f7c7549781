"""The administration page with AppTest: an administrator adds and edits users and org units,
sees refusals at their field with what they typed kept, and reads the audit trail; others are
refused the page."""

from __future__ import annotations

from test_app_shell import open_page, run_as

from sms_core.read_models.administration import list_users
from sms_core.use_cases.accounts import load_actor, unit_id_by_code


def button(at, label: str):
    return next(b for b in at.button if b.label == label)


def test_administrator_adds_a_user_and_a_refusal_keeps_what_was_typed(app_env):
    at = open_page(run_as("admin"), "sms-administration")
    assert at.title[0].value == "Administration"
    assert "Ada Administrator" in at.dataframe[0].value["Name"].tolist()
    at.text_input(key="admin_user_new_name").input("Nina Ny")
    at.text_input(key="admin_user_new_email").input("STAFF@example.org")
    at.multiselect(key="admin_user_new_units").select(unit_id_by_code(app_env, "OSL"))
    button(at, "Add user").click().run()
    assert not at.exception, at.exception
    assert "Another user is already registered with staff@example.org." in [e.value for e in at.error]
    assert at.text_input(key="admin_user_new_name").value == "Nina Ny"  # nothing typed is lost
    at.text_input(key="admin_user_new_email").input("nina@example.org")
    button(at, "Add user").click().run()
    assert not [e.value for e in at.error]
    assert "Nina Ny" in at.dataframe[0].value["Name"].tolist()
    nina = load_actor(app_env, "nina")
    assert nina.role == "staff" and nina.org_unit_ids == {unit_id_by_code(app_env, "OSL")}
    assert at.text_input(key="admin_user_new_name").value == ""  # ready for the next one


def test_administrator_edits_and_deactivates_a_user_but_not_the_last_administrator(app_env):
    at = open_page(run_as("admin"), "sms-administration")
    users = list_users(app_env, load_actor(app_env, "admin"))
    kari = next(u for u in users if u.username == "kari")
    at.session_state["admin_user_selected"] = kari.id  # as if chosen in the list
    at.session_state["admin_user_edit_name"] = kari.name
    at.session_state["admin_user_edit_email"] = kari.email
    at.session_state["admin_user_edit_role"] = kari.role
    at.session_state["admin_user_edit_units"] = list(kari.unit_ids)
    at.run()
    at.selectbox(key="admin_user_edit_role").select("team_lead")
    button(at, "Save").click().run()
    assert load_actor(app_env, "kari").role == "team_lead"
    button(at, "Deactivate").click().run()
    assert "Kari Nordmann" in at.dataframe[0].value["Name"].tolist()
    assert not next(u for u in list_users(app_env, load_actor(app_env, "admin")) if u.id == kari.id).active
    admin = next(u for u in users if u.username == "admin")
    at.session_state["admin_user_selected"] = admin.id
    at.run()
    button(at, "Deactivate").click().run()
    assert any("last active administrator" in e.value for e in at.error)
    audit = at.dataframe[-1].value
    assert {"deactivated", "changed"} <= set(audit["Change"])
    assert "role: staff → team_lead" in audit["Before → after"].tolist()


def test_administrator_adds_renames_and_deactivates_an_org_unit(app_env):
    at = open_page(run_as("admin"), "sms-administration")
    at.text_input(key="admin_unit_code").input("OSL")
    at.text_input(key="admin_unit_name").input("Oslo again")
    button(at, "Add org. unit").click().run()
    assert "There is already an org. unit with the code OSL." in [e.value for e in at.error]
    at.text_input(key="admin_unit_code").input("drm")
    button(at, "Add org. unit").click().run()
    unit = unit_id_by_code(app_env, "DRM")
    assert "DRM" in at.dataframe[1].value["Code"].tolist()
    at.session_state["admin_unit_selected"] = unit
    at.session_state["admin_unit_rename"] = "Drammen"
    at.run()
    button(at, "Rename").click().run()
    button(at, "Deactivate").click().run()
    row = at.dataframe[1].value.set_index("Code").loc["DRM"]
    assert (row["Name"], bool(row["Active"])) == ("Drammen", False)
    offered = at.multiselect(key="admin_user_new_units").options
    assert not any("DRM" in o for o in offered)  # not offered for new users


def test_the_page_is_not_for_those_who_do_not_manage_users(app_env):
    at = open_page(run_as("lead"), "sms-administration")
    assert "do not have permission to manage users, org units and contacts" in at.error[0].value
