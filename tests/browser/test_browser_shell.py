"""The real app in headless Chromium: what a person sees first."""

import pytest


def test_staff_opens_the_app_and_sees_their_menu(live_app, page):
    page.goto(live_app.url)
    page.get_by_role("heading", name="SMS messages").first.wait_for()
    sidebar = page.get_by_test_id("stSidebar")
    assert sidebar.get_by_text("Demo mode").is_visible()
    nav = page.get_by_test_id("stSidebarNav")
    assert nav.get_by_role("link", name="Contacts").is_visible()
    assert nav.get_by_role("link", name="SMS settings").count() == 0


def test_a_refused_page_opened_by_url_says_why(live_app, page):
    page.goto(f"{live_app.url}/sms-settings")
    page.get_by_text("You do not have permission to manage SMS settings").wait_for()


@pytest.mark.parametrize("path, heading", [("/sms-contacts", "Contacts"), ("/sms-messages?contact=1", "SMS messages")])
def test_shared_links_open_their_page_directly(live_app, page, path, heading):
    """A deep link opens its page with no "Page not found" dialog: the reason for the server's
    PagesManager patch (tests/pages/test_app_shell.py checks the patch still has its target)."""
    page.goto(f"{live_app.url}{path}")
    page.get_by_role("heading", name=heading).first.wait_for()
    page.wait_for_timeout(1000)
    assert page.get_by_text("Page not found").count() == 0
    assert page.url.endswith(path)


def test_user_without_view_permission_has_no_overview_in_the_menu(live_app, page):
    from sms_core.storage.models import RolePermission

    with live_app.db.session() as s:
        s.query(RolePermission).filter_by(role="staff", permission="view_sms").delete()
    page.goto(live_app.url)
    page.get_by_text("You do not have permission to use any SMS page").wait_for()
    assert page.get_by_test_id("stSidebarNav").get_by_role("link", name="SMS messages").count() == 0
    page.goto(f"{live_app.url}/sms-messages")
    page.get_by_text("You do not have permission to view SMS messages").wait_for()
