"""Demo mode in Chromium: a banner on every page, and the user picked in the sidebar kept by this
browser (a cookie) across a reload and links — while another browser opening the same link starts
as the default user, since the link itself carries no choice."""

from __future__ import annotations

from playwright.sync_api import expect


def signed_in_as(page, name: str) -> None:
    expect(page.get_by_role("combobox", name="Signed in as")).to_have_value(name)


def test_the_demo_user_picked_stays_picked_in_this_browser_only(live_app, page, browser):
    page.goto(f"{live_app.url}/sms-messages")
    page.get_by_role("heading", name="SMS messages").first.wait_for()
    signed_in_as(page, "Stian Staff")
    expect(page.get_by_test_id("sms-demo-banner")).to_be_visible()
    page.get_by_role("combobox", name="Signed in as").click()
    page.get_by_role("option", name="Kari Nordmann", exact=True).click()
    signed_in_as(page, "Kari Nordmann")
    page.wait_for_function("() => document.cookie.includes('sms_demo_user=kari')")
    page.reload()
    signed_in_as(page, "Kari Nordmann")
    page.goto(f"{live_app.url}/sms-contacts")
    page.get_by_role("heading", name="Contacts").first.wait_for()
    signed_in_as(page, "Kari Nordmann")
    expect(page.get_by_test_id("sms-demo-banner")).to_be_visible()
    assert "kari" not in page.url
    other = browser.new_context()  # someone the link was shared with
    try:
        tab = other.new_page()
        tab.goto(page.url)
        tab.get_by_role("heading", name="Contacts").first.wait_for()
        signed_in_as(tab, "Stian Staff")
    finally:
        other.close()
