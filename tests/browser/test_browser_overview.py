"""The SMS messages overview in headless Chromium: filters in the URL, resend, live updates."""

from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from sqlalchemy import func, select
from support import CERTAIN_DELIVERY, accepting, refusing

from sms_core.gateways.base import DeliveryReportKind
from sms_core.storage.models import SmsMessage
from sms_core.use_cases.accounts import load_actor
from sms_core.use_cases.message_lifecycle import apply_delivery_report
from sms_core.use_cases.sending import send_sms

CERTAIN = CERTAIN_DELIVERY
COLUMNS = ("text", "phone", "sent_on", "status", "unit", "resent")


READ_GRID = """() => {
    const grid = document.querySelector('[data-testid="stDataFrame"]');
    if (!grid) return [];
    return [...grid.querySelectorAll('[role="row"]')].map(
        row => [...row.querySelectorAll('[role="gridcell"]')].map(cell => cell.textContent));
}"""


def table_rows(page) -> list[dict[str, str]]:
    """The rows the grid has drawn, read from its accessible cells in one go (the live table
    may redraw between two reads)."""
    return [
        dict(zip(COLUMNS, cells[-len(COLUMNS) :], strict=False))
        for cells in page.evaluate(READ_GRID)
        if len(cells) >= len(COLUMNS)
    ]


def wait_for_rows(page, check, timeout=15_000) -> list[dict[str, str]]:
    deadline = page.evaluate("Date.now()") + timeout
    while True:
        rows = table_rows(page)
        if rows and check(rows):
            return rows
        if page.evaluate("Date.now()") > deadline:
            raise AssertionError(f"the table never showed what was expected; it shows {rows[:3]}…")
        page.wait_for_timeout(250)


def select_first_row(page) -> None:
    """Click the first row's selection marker (the grid is drawn on a canvas)."""
    box = page.locator('[data-testid="stDataFrame"]').first.bounding_box()
    page.mouse.click(box["x"] + 18, box["y"] + 35 + 17)


def test_default_unit_filters_and_shareable_url(live_app, page):
    page.goto(f"{live_app.url}/sms-messages")
    wait_for_rows(page, lambda rows: all(r["unit"] == "Oslo Sentrum" for r in rows))
    page.get_by_test_id("stMultiSelect").filter(has_text="SMS status").click()
    page.get_by_role("option", name="Received", exact=True).click()
    page.keyboard.press("Escape")
    wait_for_rows(page, lambda rows: {r["status"] for r in rows} == {"Received"})
    page.get_by_label("Text", exact=True).fill("prescription")
    rows = wait_for_rows(page, lambda rows: all("prescription" in r["text"].lower() for r in rows))
    page.wait_for_function("() => location.search.includes('text=prescription')")
    query = parse_qs(urlsplit(page.url).query)
    assert query["status"] == ["Received"] and query["text"] == ["prescription"]
    shared = page.context.new_page()
    shared.goto(page.url)
    again = wait_for_rows(
        shared, lambda r: all("prescription" in x["text"].lower() and x["status"] == "Received" for x in r)
    )
    assert [r["text"] for r in again] == [r["text"] for r in rows]
    assert shared.get_by_label("Text", exact=True).input_value() == "prescription"


@pytest.mark.parametrize("live_app", [CERTAIN], indirect=True)
def test_resend_a_failed_message_and_not_a_received_one(live_app, page):
    staff = load_actor(live_app.db, "staff")
    failed = send_sms(
        live_app.db,
        staff,
        text="Flow two: failed once",
        phone="+4741555123",
        gateway=refusing(0, 1),
    ).message
    received = send_sms(
        live_app.db,
        staff,
        text="Flow two: arrived",
        phone="+4741555123",
        gateway=accepting(),
    ).message
    with live_app.db.session() as s:
        token = s.get(SmsMessage, received.id).dlr_token
    apply_delivery_report(live_app.db, received.id, token, DeliveryReportKind.DELIVERED)

    page.goto(f"{live_app.url}/sms-messages?text=Flow+two%3A+failed")
    wait_for_rows(page, lambda rows: len(rows) == 1 and rows[0]["status"] == "Sending failed")
    select_first_row(page)
    resend = page.get_by_role("button", name="Resend SMS")
    resend.wait_for()
    page.wait_for_function(
        "() => ![...document.querySelectorAll('button')].find(b => b.innerText.includes('Resend SMS'))?.disabled"
    )
    resend.click()
    outcome = page.get_by_test_id("stAlertContentSuccess").first
    try:
        outcome.wait_for(timeout=6_000)
    except PlaywrightTimeout:
        # Under load, a click that lands while the live table's one-second rerun is being
        # replaced can be dropped by Streamlit; a person clicks again.  A second click must not
        # make a second resend: that is checked below.
        resend.click()
        outcome.wait_for()
    rows = wait_for_rows(page, lambda rows: len(rows) == 2)  # no Refresh pressed
    with live_app.db.session() as s:
        resends = s.scalar(select(func.count()).select_from(SmsMessage).where(SmsMessage.original_id == failed.id))
    assert resends == 1
    assert sorted(r["resent"] for r in rows) == ["", "✓"]

    page.goto(f"{live_app.url}/sms-messages?text=Flow+two%3A+arrived")
    wait_for_rows(page, lambda rows: len(rows) == 1 and rows[0]["status"] == "Received")
    select_first_row(page)
    page.get_by_role("button", name="Resend SMS").wait_for()
    assert page.get_by_role("button", name="Resend SMS").is_disabled()


@pytest.mark.parametrize("live_app", [CERTAIN], indirect=True)
def test_send_keep_window_open_then_close_and_watch_the_status_move(live_app, page):
    page.goto(f"{live_app.url}/sms-messages")
    wait_for_rows(page, lambda rows: True)
    page.get_by_role("button", name="Send SMS").first.click()
    dialog = page.get_by_role("dialog")
    phone = dialog.get_by_label("Phone", exact=True)
    phone.fill("+47 415 55 123")
    phone.press("Tab")
    box = dialog.get_by_test_id("sms-text")
    box.fill("Flow six: first")
    box.press("Tab")
    keep = dialog.get_by_role("checkbox", name="Keep window open")
    if not keep.is_checked():
        dialog.get_by_text("Keep window open").click()
    dialog.get_by_role("button", name="Send", exact=True).click()
    dialog.get_by_text("accepted by the SMS gateway").wait_for()
    assert dialog.is_visible() and box.input_value() == ""
    dialog.get_by_text("Keep window open").click()  # the label: Streamlit's box sits under it
    page.wait_for_function(
        "() => !document.querySelector('[role=dialog] input[aria-label=\"Keep window open\"]').checked"
    )
    box.fill("Flow six: second")
    box.press("Tab")
    dialog.get_by_role("button", name="Send", exact=True).click()
    dialog.wait_for(state="hidden")
    rows = wait_for_rows(page, lambda rows: any(r["text"] == "Flow six: second" for r in rows))
    assert any(r["text"] == "Flow six: first" for r in rows)
    wait_for_rows(page, lambda rows: any(r["text"] == "Flow six: second" and r["status"] == "Received" for r in rows))


def test_the_page_of_the_table_is_in_the_shareable_url(live_app, page):
    """The pager lives in the live fragment; its page still reaches the address bar."""
    page.goto(f"{live_app.url}/sms-messages?unit=all")
    first = wait_for_rows(page, lambda rows: len(rows) > 1)
    page.get_by_test_id("stPaginationNext").first.click()
    page.wait_for_function("() => new URLSearchParams(location.search).get('page') === '2'")
    second = wait_for_rows(page, lambda rows: rows != first)
    shared = page.context.new_page()
    shared.goto(page.url)
    assert [r["text"] for r in wait_for_rows(shared, lambda rows: True)] == [r["text"] for r in second]
    page.get_by_label("Text", exact=True).fill("prescription")
    page.wait_for_function("() => location.search.includes('text=prescription') && !location.search.includes('page=')")
