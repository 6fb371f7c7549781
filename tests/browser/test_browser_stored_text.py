"""Stored text in Chromium: a message's text and its gateway's error, shown in the selected
message's details, neither link nor become an icon or an emoji, and read as they were written."""

from datetime import UTC, datetime

from test_browser_overview import select_first_row, wait_for_rows

from sms_core.domain.statuses import SmsStatus
from sms_core.storage.models import SmsMessage
from sms_core.use_cases.accounts import load_actor

PLANTED = "Win :material/home: :smile: https://evil.example www.evil.example kari@evil.example"


def test_stored_links_icons_and_shortcodes_stay_text_in_the_details(live_app, page):
    staff = load_actor(live_app.db, "staff")
    with live_app.db.session() as s:
        s.add(
            SmsMessage(
                text="Planted " + PLANTED,
                phone="+4791234567",
                org_unit_id=staff.current_org_unit_id,
                status=SmsStatus.SENDING_FAILED,
                gateway_error="Error " + PLANTED,
                sent_on=datetime.now(UTC),
            )
        )
    page.goto(f"{live_app.url}/sms-messages?text=Planted")
    wait_for_rows(page, lambda rows: len(rows) == 1)
    select_first_row(page)
    page.get_by_text("The SMS gateway said").wait_for()
    main = page.get_by_test_id("stMain")
    for shown in (
        main.get_by_test_id("stMarkdownContainer").filter(has_text="Planted").first,
        main.get_by_test_id("stCaptionContainer").filter(has_text="The SMS gateway said").first,
    ):
        assert shown.locator("a").count() == 0, shown.inner_html()
        assert shown.locator('[data-testid="stIconMaterial"], [role="img"], img').count() == 0, shown.inner_html()
        assert PLANTED in shown.inner_text().replace("\u2060", "")  # as written, the joiners are invisible
        assert "😄" not in shown.inner_text()
