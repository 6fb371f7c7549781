"""The Send SMS dialog in headless Chromium, as a person uses it: live counter, phone errors,
standard text at the cursor, consent warning."""

from sqlalchemy import select

from sms_core.domain.segments import count_sms, load_vectors
from sms_core.storage.models import ContactPhone, SmsConsent


def open_dialog(page, url: str):
    page.goto(url)
    page.get_by_role("button", name="Send SMS").first.click()
    dialog = page.get_by_role("dialog")
    dialog.wait_for()
    return dialog


def test_counter_is_live_phone_is_checked_and_standard_text_lands_at_the_cursor(live_app, page):
    dialog = open_dialog(page, f"{live_app.url}/sms-messages")
    phone = dialog.get_by_label("Phone", exact=True)
    phone.fill("12")
    phone.press("Tab")
    dialog.get_by_text("too short").wait_for()
    phone.fill("+47 415 55 123")
    phone.press("Tab")
    box = dialog.get_by_test_id("sms-text")
    box.click()
    box.press_sequentially("a" * 148, delay=0)
    counter = dialog.get_by_test_id("sms-counter")
    assert counter.inner_text() == "1/147 characters in current SMS · 2 SMS messages"
    assert box.evaluate("el => el.getRootNode().activeElement === el"), "counted before the field lost focus"
    box.fill("Hello  world")
    box.evaluate("el => { el.focus(); el.setSelectionRange(6, 6); }")
    dialog.get_by_role("button", name="Standard texts").click()
    page.get_by_role("button", name="Call us back").click()
    body = "We tried to reach you by phone. Please call us back when you can."
    page.wait_for_function(
        "([sel, body]) => { const el = document.querySelector(sel) ?? [...document.querySelectorAll('*')]"
        ".map(n => n.shadowRoot?.querySelector(sel)).find(Boolean); return el && el.value.includes(body); }",
        arg=['[data-testid="sms-text"]', body],
    )
    assert box.input_value() == f"Hello {body} world"


def test_browser_counter_agrees_with_python_on_every_shared_vector(live_app, page):
    dialog = open_dialog(page, f"{live_app.url}/sms-messages")
    box, counter = dialog.get_by_test_id("sms-text"), dialog.get_by_test_id("sms-counter")
    for case in load_vectors():
        box.fill(case["text"])
        expected = count_sms(case["text"], 147, 67).describe()
        assert counter.inner_text() == expected, case["name"]
        counted = box.evaluate("(el, text) => el.closest('.sms-text-input').smsCount(text)", case["text"])
        assert [counted[k] for k in ("characters", "units", "segments", "inCurrent", "unicode")] == [
            case[k] for k in ("characters", "units", "segments", "characters_in_current", "unicode")
        ], case["name"]


def test_an_emoji_counts_twice_and_the_counter_says_why(live_app, page):
    dialog = open_dialog(page, f"{live_app.url}/sms-messages")
    box = dialog.get_by_test_id("sms-text")
    box.click()
    box.press_sequentially("Hei 😊", delay=0)
    assert dialog.get_by_test_id("sms-counter").inner_text() == (
        "6/67 characters in current SMS · 1 SMS · sent as Unicode because of 😊 · emoji count as 2 characters"
    )
    box.fill("😊" * 67)
    assert dialog.get_by_test_id("sms-counter").inner_text().startswith("67/67 characters in current SMS · 2 SMS")


def test_number_without_consent_is_warned_at_the_field_and_cannot_be_sent(live_app, page):
    with live_app.db.session() as s:
        active = select(SmsConsent.phone_id).where(SmsConsent.withdrawn_at.is_(None))
        phones = s.scalars(select(ContactPhone)).all()
        by_contact: dict[int, list[ContactPhone]] = {}
        for p in phones:
            by_contact.setdefault(p.contact_id, []).append(p)
        consented = set(s.scalars(active))
    contact_id = next(c for c, ps in by_contact.items() if len(ps) == 1 and ps[0].id not in consented)
    dialog = open_dialog(page, f"{live_app.url}/sms-messages?contact={contact_id}")
    dialog.get_by_text("Consent for SMS is not registered").wait_for()
    assert dialog.get_by_role("button", name="Send", exact=True).is_disabled()
