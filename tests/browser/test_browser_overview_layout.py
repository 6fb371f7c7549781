"""The overview as a person sees it in Chromium: filters that show their whole value, a wide Text
column and a clear Resent mark, a header click that orders every match, and no grid tools that
would act on the loaded page only."""

from urllib.parse import parse_qs, urlsplit

from test_browser_overview import wait_for_rows

from pages._overview_state import WIDTHS
from sms_core.domain.statuses import SmsStatus
from sms_core.read_models.overview import OverviewFilter, Sort, list_messages
from sms_core.storage.models import SmsMessage
from sms_core.use_cases.accounts import load_actor

ROW_MARKER = 34  # the grid's selection column, left of Text
HEADER = 18  # half the header row's height


def whole(page, label: str) -> list:
    """[visible width, width the value needs, value] of the field labelled ``label`` (a text input,
    or a date field's group of day, month and year)."""
    return page.get_by_label(label, exact=True).evaluate(
        "e => [e.clientWidth, e.scrollWidth, e.tagName === 'INPUT' ? e.value : e.textContent]"
    )


def click_header(page, column: str) -> None:
    """Click a column header (the grid is drawn on a canvas; its columns have WIDTHS' widths)."""
    box = page.locator('[data-testid="stDataFrame"]').first.bounding_box()
    names = list(WIDTHS)
    x = box["x"] + ROW_MARKER + sum(WIDTHS[n] for n in names[: names.index(column)]) + WIDTHS[column] / 2
    page.mouse.click(x, box["y"] + HEADER)


def test_the_filters_show_a_whole_date_and_number(live_app, page):
    page.goto(f"{live_app.url}/sms-messages?unit=all&from=2020-01-01&to=2030-12-31")
    shown = next(r["phone"] for r in wait_for_rows(page, lambda rows: any(r["phone"] for r in rows)) if r["phone"])
    page.get_by_label("Phone", exact=True).fill(shown)  # a number as the table shows it
    wait_for_rows(page, lambda rows: all(r["phone"] == shown for r in rows))
    for label in ("Sent from", "Sent to", "Phone"):
        visible, needed, value = whole(page, label)
        assert value and needed <= visible, f"{label} shows {visible} px of the {needed} px {value!r} needs"


def test_text_is_wide_and_resent_is_a_clear_mark(live_app, page):
    with live_app.db.session() as s:
        s.query(SmsMessage).filter(SmsMessage.id == s.query(SmsMessage.id).limit(1).scalar_subquery()).update(
            {"resent": True}, synchronize_session=False
        )
    page.goto(f"{live_app.url}/sms-messages?unit=all")
    rows = wait_for_rows(page, lambda rows: len(rows) > 1)
    assert WIDTHS["Text"] >= 300 and WIDTHS["Text"] == max(WIDTHS.values())  # about 45 characters, not 35
    assert list(WIDTHS)[-1] == "Resent" and WIDTHS["Resent"] == min(WIDTHS.values())  # narrow, far right
    page.goto(f"{live_app.url}/sms-messages?unit=all&resent=yes")
    assert {r["resent"] for r in wait_for_rows(page, lambda rows: len(rows) >= 1)} == {"✓"}
    page.goto(f"{live_app.url}/sms-messages?unit=all&resent=no")
    assert {r["resent"] for r in wait_for_rows(page, lambda rows: len(rows) > 1)} == {""}  # no empty box
    assert rows


def test_a_header_click_orders_every_match_and_sort_by_says_so(live_app, page):
    staff = load_actor(live_app.db, "staff")
    oldest = list_messages(live_app.db, staff, OverviewFilter(sort=Sort.SENT_ON_ASC), page_size=1)[0]
    page.goto(f"{live_app.url}/sms-messages?unit=all")
    wait_for_rows(page, lambda rows: True)
    click_header(page, "Sent on")
    wait_for_rows(page, lambda rows: rows[0]["text"] == oldest.text)  # the oldest of all, not of this page
    assert page.get_by_label("Sort by").input_value() == "Sent on, oldest first"  # says what the table does
    assert parse_qs(urlsplit(page.url).query)["sort"] == [Sort.SENT_ON_ASC.value]
    click_header(page, "SMS status")
    page.wait_for_function("() => location.search.includes('sort=status_asc')")
    by_status = [m.status.label for m in list_messages(live_app.db, staff, OverviewFilter(sort=Sort.STATUS_ASC))]
    rows = wait_for_rows(page, lambda rows: [r["status"] for r in rows] == by_status[: len(rows)])
    labels = [r["status"] for r in rows]
    assert labels == sorted(labels, key=SmsStatus.from_label)
    click_header(page, "Text")  # not an order the overview offers: nothing changes, nothing re-sorts
    page.wait_for_timeout(1500)
    assert [r["status"] for r in wait_for_rows(page, lambda rows: True)] == labels
    assert page.get_by_label("Sort by").input_value() == Sort.STATUS_ASC.label


def test_the_grid_offers_no_search_or_download_of_the_loaded_page_only(live_app, page):
    page.goto(f"{live_app.url}/sms-messages")
    wait_for_rows(page, lambda rows: True)
    page.locator('[data-testid="stDataFrame"]').first.hover()
    toolbar = page.locator('[data-testid="stElementToolbarButton"]')
    toolbar.first.wait_for()
    offered = [b.get_attribute("aria-label") for b in toolbar.locator("button").all() if b.is_visible()]
    assert "Search" not in offered and "Download as CSV" not in offered
    assert page.get_by_role("button", name="Export CSV").is_visible()  # every match, from the database
