"""Export CSV on the served app: the click gives a link, the app's own route streams the file.

The tickets live in the served process's memory, so they are made the way a user makes one — a
click in the browser — and then followed by the browser (a real download) or by httpx (to read
every header and try the link again, without a ticket, as someone deactivated since)."""

from __future__ import annotations

import csv
import io
import re

import httpx
from sqlalchemy import update

from sms_core.read_models.overview import OverviewFilter, export_csv
from sms_core.storage.models import User
from sms_core.use_cases import sign_in as rules
from sms_core.use_cases.accounts import load_actor
from sms_core.use_cases.export_tickets import EXPORT_PATH

EXPIRED = "This download link has expired or was used; click Export CSV again."
LEAD_UNITS = {"Oslo Sentrum", "Bergen Bryggen", "Tromsø Nord"}  # the demo's team lead's units
ZONE = "Europe/Oslo"  # the page fixture's browser zone, in which Sent on is written


def export_link(page, app, user: str) -> str:
    """Open every unit's messages as ``user`` (the demo picker's cookie), click Export CSV, and
    return the link the page offers."""
    page.context.add_cookies([{"name": "sms_demo_user", "value": user, "url": app.url}])
    page.goto(f"{app.url}/sms-messages?unit=all")
    page.get_by_test_id("stDataFrame").first.wait_for()
    page.get_by_role("button", name="Export CSV").click()
    link = page.get_by_test_id("sms-export-download")
    link.wait_for()
    return app.url + link.get_attribute("href")


def expected_csv(app, user: str) -> str:
    return "\ufeff" + "".join(export_csv(app.db, load_actor(app.db, user), OverviewFilter(time_zone=ZONE)))


def test_export_csv_downloads_every_matching_message_in_the_browser(live_app, page):
    export_link(page, live_app, "staff")
    with page.expect_download() as download:
        page.get_by_test_id("sms-export-download").click()
    assert re.fullmatch(r"sms-messages-\d{4}-\d{2}-\d{2}\.csv", download.value.suggested_filename)
    text = open(download.value.path(), encoding="utf-8-sig", newline="").read()
    rows = list(csv.reader(io.StringIO(text)))
    expected = list(csv.reader(io.StringIO(expected_csv(live_app, "staff")[1:])))
    assert rows[0] == ["Text", "Phone", "Sent on", "SMS status", "Org. unit", "Resent"]
    assert len(rows) == len(expected) > 100 and rows == expected
    page.get_by_text(re.compile(rf"The CSV of {len(rows) - 1:,} messages is downloaded")).wait_for()


def test_a_link_serves_its_user_once_and_never_another_units_rows(live_app, page):
    url = export_link(page, live_app, "lead")
    response = httpx.get(url, timeout=30)
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    disposition = response.headers["content-disposition"]
    assert re.fullmatch(r'attachment; filename="sms-messages-\d{4}-\d{2}-\d{2}\.csv"', disposition)
    assert response.headers["cache-control"] == "no-store"
    text = response.content.decode("utf-8")
    assert text == expected_csv(live_app, "lead")  # BOM first, then exactly the read model's rows
    units = {row[4] for row in list(csv.reader(io.StringIO(text[1:])))[1:]}
    assert units and units <= LEAD_UNITS, units  # never Trondheim's or Stavanger's

    again = httpx.get(url, timeout=10)  # the same link a second time
    assert (again.status_code, again.text) == (403, EXPIRED)
    for wrong in (EXPORT_PATH, f"{EXPORT_PATH}?ticket=", f"{EXPORT_PATH}?ticket=made-up"):
        refused = httpx.get(live_app.url + wrong, timeout=10)
        assert (refused.status_code, refused.text) == (403, EXPIRED), wrong
    assert httpx.head(export_link(page, live_app, "lead"), timeout=10).status_code == 405

    url = export_link(page, live_app, "lead")  # made while she may; followed once she may not
    with live_app.db.session() as s:
        s.execute(update(User).where(User.username == "lead").values(active=False))
    refused = httpx.get(url, timeout=10)
    assert (refused.status_code, refused.text) == (403, rules.DEACTIVATED)
    assert "ticket" not in refused.text
