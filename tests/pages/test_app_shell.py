"""The app shell with AppTest: menu from permissions, demo user switcher, org-unit switcher."""

from streamlit.testing.v1 import AppTest

from sms_core.config import PROJECT_ROOT
from sms_core.storage.models import RolePermission
from sms_core.use_cases.accounts import load_actor

APP = str(PROJECT_ROOT / "app.py")


def run_as(username: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=30)
    at.session_state["demo_user"] = username
    at.run()
    assert not at.exception, at.exception
    return at


def menu(at: AppTest) -> list[str]:
    """Titles of the pages in the menu; pages refused to the user are registered without a file."""
    return [p["page_name"] for p in at._registered_pages.values() if p.get("script_path")]


def open_page(at: AppTest, url_path: str) -> AppTest:
    """Open a page by its URL, as someone pasting the link would."""
    at._page_hash = next(h for h, p in at._registered_pages.items() if p["url_pathname"] == url_path)
    at.run()
    assert not at.exception, at.exception
    return at


def test_menu_follows_permissions(app_env):
    assert menu(run_as("staff")) == ["SMS messages", "Contacts"]
    assert menu(run_as("lead")) == ["SMS messages", "Contacts", "Delivery rates"]
    assert menu(run_as("admin")) == ["SMS messages", "Contacts", "Standard texts", "Delivery rates", "SMS settings"]


def test_overview_is_the_first_page_and_demo_mode_is_labelled(app_env):
    at = run_as("staff")
    assert at.title[0].value == "SMS messages"
    assert at.sidebar.selectbox(key="demo_user").value == "staff"
    assert any("Demo mode" in c.value for c in at.sidebar.caption)


def test_a_page_opened_by_url_without_permission_is_refused(app_env):
    at = open_page(run_as("staff"), "sms-settings")
    assert "do not have permission to manage SMS settings" in at.error[0].value


def test_user_without_view_permission_does_not_see_the_overview(app_env):
    with app_env.session() as s:
        s.query(RolePermission).filter_by(role="staff", permission="view_sms").delete()
    at = run_as("staff")
    assert "SMS messages" not in menu(at)
    open_page(at, "sms-messages")
    assert "do not have permission to view SMS messages" in at.error[0].value


def test_switching_user_and_org_unit(app_env):
    at = run_as("staff")
    unit_box = at.sidebar.selectbox(key="current_unit_staff")
    assert len(unit_box.options) == 2
    before = unit_box.value
    unit_box.select_index(1 - unit_box.index).run()
    assert not at.exception
    after = load_actor(app_env, "staff").current_org_unit_id
    assert after != before and at.sidebar.selectbox(key="current_unit_staff").value == after
    at.sidebar.selectbox(key="demo_user").set_value("kari").run()
    assert len(at.sidebar.selectbox(key="current_unit_kari").options) == 1
