"""A team lead's delivery rates in headless Chromium, and the click-through to the overview."""

from urllib.parse import parse_qs, urlsplit

import pytest


@pytest.mark.parametrize("live_app", [{"SMS_DEMO_USER": "lead", "messages": 400}], indirect=True)
def test_lead_clicks_through_from_the_failed_figure_to_those_messages(live_app, page):
    page.goto(f"{live_app.url}/sms-delivery-rates")
    page.get_by_role("heading", name="Delivery rates").first.wait_for()
    failed = page.get_by_test_id("stMetric").filter(has_text="Failed")
    failed.wait_for()
    assert "%" in failed.inner_text()
    page.get_by_role("link", name="Show messages").nth(3).click()  # under Messages sent, segments, Delivered, Failed
    page.wait_for_url("**/sms-messages?**")
    page.get_by_role("heading", name="SMS messages").first.wait_for()
    query = parse_qs(urlsplit(page.url).query)
    assert sorted(query["status"]) == ["Rejected", "Sending failed"]
    assert query["unit"] == ["all"] and query["from"] and query["to"]
    page.wait_for_timeout(1500)
    assert page.get_by_text("Page not found").count() == 0
