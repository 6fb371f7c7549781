"""The Send SMS dialog in Chromium when nothing can go out: it says so as it opens, and its text
field is marked as required."""

from playwright.sync_api import expect
from test_browser_send_dialog import open_dialog

from sms_core.use_cases.accounts import load_actor
from sms_core.use_cases.settings import SENDING_ENABLED, change_setting


def test_the_dialog_says_sending_is_off_as_it_opens_and_marks_the_text_required(live_app, page):
    change_setting(live_app.db, load_actor(live_app.db, "admin"), SENDING_ENABLED, False)
    dialog = open_dialog(page, f"{live_app.url}/sms-messages")
    warning = dialog.get_by_test_id("stAlertContentWarning")
    warning.wait_for()  # nothing typed, nothing sent
    assert "SMS sending is disabled in the system settings." in warning.inner_text()
    box = dialog.get_by_test_id("sms-text")
    expect(box).to_have_attribute("aria-label", "SMS text *")  # once the component has its data
    assert box.evaluate("el => el.getRootNode().querySelector('.sms-label').textContent") == "SMS text *"
    assert box.get_attribute("placeholder").startswith("Required")
    assert dialog.get_by_role("button", name="Send").is_enabled()  # an attempt is still recorded
