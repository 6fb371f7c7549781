"""Time to delivery as a lead sees it in headless Chromium: the figures, and both charts drawn
with what a lead reads off them (the five groups, this period beside the one before, the days)."""

import re

import pytest


@pytest.mark.parametrize("live_app", [{"SMS_DEMO_USER": "lead", "messages": 400}], indirect=True)
def test_lead_sees_the_time_to_delivery_charts(live_app, page):
    page.goto(f"{live_app.url}/sms-delivery-rates")
    page.get_by_role("heading", name="Time to delivery").first.wait_for()
    median = page.get_by_test_id("stMetric").filter(has_text="Median time to delivery")
    median.scroll_into_view_if_needed()
    assert re.search(r"\d+(\.\d)? s|\d+ min", median.inner_text())
    groups = page.get_by_test_id("stVegaLiteChart").filter(has_text="Received within")
    groups.locator("svg").wait_for()
    labels = groups.locator("text").all_text_contents()
    for group in ("Under 10 s", "10–60 s", "1–5 min", "5–15 min", "Over 15 min", "This period", "Period before"):
        assert group in labels
    assert groups.locator('[aria-roledescription="bar"]').count() >= 6  # most groups, in both periods
    trend = page.get_by_test_id("stVegaLiteChart").filter(has_text="By day")
    trend.locator("svg").wait_for()
    assert {"Median", "95th percentile"} <= set(trend.locator("text").all_text_contents())
    assert trend.locator('[aria-roledescription="line mark"]').count() == 2
