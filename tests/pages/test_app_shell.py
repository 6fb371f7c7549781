"""The app shell with AppTest: menu from permissions, demo user switcher, org-unit switcher.

AppTest has no navigation menu to read, so the menu is app.py's own ``menu`` for the user the run
signed in; that every page in it opens, and every other page answers its URL with a refusal, is
what the runs show.
"""

from streamlit.runtime.pages_manager import PagesManager
from streamlit.testing.v1 import AppTest

import app
from sms_core.app_server import build_app
from sms_core.bootstrap import bootstrap
from sms_core.config import PROJECT_ROOT, Config
from sms_core.storage.models import RolePermission
from sms_core.use_cases.accounts import load_actor

APP = str(PROJECT_ROOT / "app.py")
FILES = {page.url_path: page.file for page in app.PAGES}


def run_as(username: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=30)
    at.session_state["demo_user"] = username
    at.run()
    assert not at.exception, at.exception
    return at


def menu(at: AppTest) -> list[str]:
    """Titles of the pages in the menu of the user this run signed in."""
    return [page.title for page in app.menu(at.session_state["actor"])]


def open_page(at: AppTest, url_path: str) -> AppTest:
    """Open a page by its URL, as someone following a link would (after a first run, which tells
    AppTest the pages st.navigation registered)."""
    at.switch_page(FILES[url_path])
    at.run()
    assert not at.exception, at.exception
    return at


def test_menu_follows_permissions(app_env):
    assert menu(run_as("staff")) == ["SMS messages", "Replies", "Contacts"]
    assert menu(run_as("lead")) == ["SMS messages", "Replies", "Contacts", "Delivery rates", "Alerts"]
    assert menu(run_as("admin")) == [
        "SMS messages",
        "Replies",
        "Contacts",
        "Standard texts",
        "Delivery rates",
        "Alerts",
        "SMS settings",
        "Administration",
        "HTTP API",
    ]


def test_every_page_in_the_menu_opens_and_every_other_page_is_refused(app_env):
    for username in ("staff", "lead", "admin"):
        at = run_as(username)
        titles = menu(at)
        for page in app.PAGES:
            open_page(at, page.url_path)
            refused = [e.value for e in at.error if "do not have permission" in e.value]
            assert at.title[0].value == page.title and bool(refused) == (page.title not in titles), (username, page)


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


def test_streamlit_still_has_the_switch_the_server_turns_off_for_deep_links(sqlite_url):
    """``sms_core.app_server`` sets Streamlit's private ``PagesManager.uses_pages_directory`` to
    False: with a pages/ folder beside app.py, Streamlit otherwise takes it for old-style pages,
    and every deep link (/sms-contacts, /sms-messages?contact=6) flashed "Page not found" (the
    links themselves: tests/browser/test_browser_shell.py).  This fails as soon as Streamlit
    renames or drops the switch, or stops reading the folder: then the patch must change or go."""
    assert "uses_pages_directory" in vars(PagesManager)
    saved = PagesManager.uses_pages_directory
    runtime = bootstrap(Config(database_url=sqlite_url))
    try:
        PagesManager.uses_pages_directory = None
        PagesManager(APP)
        assert PagesManager.uses_pages_directory is True  # the pages/ folder alone: old-style pages assumed
        build_app(runtime)
        assert PagesManager.uses_pages_directory is False
    finally:
        PagesManager.uses_pages_directory = saved
        runtime.close()
