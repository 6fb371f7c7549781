"""A team lead's delivery rates in headless Chromium, and the click-throughs to the overview."""

from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from test_browser_overview import wait_for_rows

from sms_core.domain.statuses import SmsStatus
from sms_core.storage.models import SmsMessage
from sms_core.use_cases.accounts import unit_id_by_code

ERROR = "Absent subscriber *27*"  # the gateway's words: shown as written, not as Markdown
OURS = "Your appointment is tomorrow at 10"


def add_failures(db, count: int) -> None:
    """Failures of our own with one error, among the demo's, in two of the lead's units."""
    with db.session() as s:
        for n in range(count):
            s.add(
                SmsMessage(
                    text=OURS,
                    phone="+4791234567",
                    org_unit_id=unit_id_by_code(db, ("OSL", "BGN")[n % 2]),
                    status=SmsStatus.SENDING_FAILED,
                    sent_on=datetime.now(UTC) - timedelta(days=2, minutes=n),
                    gateway_error=ERROR,
                )
            )


@pytest.mark.parametrize("live_app", [{"SMS_DEMO_USER": "lead", "messages": 400}], indirect=True)
def test_lead_clicks_through_from_the_failed_figure_and_a_failure_reason_to_those_messages(live_app, page):
    add_failures(live_app.db, 9)
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

    page.goto(f"{live_app.url}/sms-delivery-rates")
    page.get_by_role("link", name=f"9 · Sending failed: {ERROR}").click()  # a top reason
    page.wait_for_url("**/sms-messages?**error=**")
    page.get_by_text(f"Gateway error: {ERROR}").wait_for()
    page.get_by_text("9 messages match.").wait_for()
    rows = wait_for_rows(page, lambda rows: len(rows) == 9)
    assert {(r["text"], r["status"]) for r in rows} == {(OURS, "Sending failed")}  # none of the demo's failures
    assert parse_qs(urlsplit(page.url).query)["error"] == [ERROR]
    page.locator(".st-key-ov_clear_gateway_error").get_by_role("button", name="Clear", exact=True).click()
    wait_for_rows(page, lambda rows: any(r["text"] != OURS for r in rows))  # every failed message again
    page.wait_for_function("() => !location.search.includes('error=')")
    assert page.get_by_text("Gateway error:").count() == 0
