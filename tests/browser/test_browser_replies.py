"""Replies in headless Chromium: a reply that arrives while the overview shows the message it
answers appears in that message's detail, and on an open Replies page, without a click."""

from __future__ import annotations

import pytest
from support import accepting
from test_browser_overview import CERTAIN, select_first_row, wait_for_rows

from sms_core.gateways.base import IncomingMessage
from sms_core.use_cases.accounts import load_actor
from sms_core.use_cases.replies import receive_reply
from sms_core.use_cases.sending import send_sms

NUMBER = "+4741555123"
GRID_TEXT = """(words) => [...document.querySelectorAll('[data-testid="stDataFrame"] [role="gridcell"]')]
    .some(cell => cell.textContent.includes(words))"""


def wait_for_cell(page, words: str, timeout: float = 15_000) -> None:
    """Until some table on the page shows ``words`` in a cell (the grids are canvases; their
    accessible cells are what a screen reader reads)."""
    page.wait_for_function(GRID_TEXT, arg=words, timeout=timeout)


@pytest.mark.parametrize("live_app", [{**CERTAIN, "SMS_SIMULATED_REPLY_SHARE": "0"}], indirect=True)
def test_a_reply_appears_in_the_open_detail_and_on_the_replies_page(live_app, page):
    staff = load_actor(live_app.db, "staff")
    sent = send_sms(live_app.db, staff, text="Flow replies: svar meg", phone=NUMBER, gateway=accepting()).message

    page.goto(f"{live_app.url}/sms-messages?text=Flow+replies")
    wait_for_rows(page, lambda rows: len(rows) == 1)
    select_first_row(page)
    page.get_by_text(f"SMS #{sent.id} to").wait_for()
    replies = page.context.new_page()
    replies.goto(f"{live_app.url}/sms-replies")
    replies.get_by_text("replies match").wait_for()  # the demo history's replies are listed

    receive_reply(live_app.db, "simulated", IncomingMessage(NUMBER, "Ja takk, det passer", None, "browser-1"))

    wait_for_cell(page, "Ja takk, det passer")
    page.get_by_text("1 reply").wait_for()
    wait_for_cell(replies, "Ja takk, det passer")
    wait_for_cell(replies, "Flow replies: svar meg")  # the message it answers
