"""What the overview remembers between runs: one ``OverviewState`` under one key, and the keys
of its widgets, named here once.

Streamlit keeps each widget's value under the widget's key, so the filters, the pager and the
buttons keep theirs; everything else the page remembers (the rows last drawn, the selected
message, its details) is in the one state object.
"""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from sms_core.read_models.message_detail import MessageDetail
from sms_core.read_models.overview import MessageCount, OverviewFilter, OverviewRow
from sms_core.read_models.overview_export import ExportProgress
from sms_core.use_cases.export_tickets import ExportLink

STATE_KEY = "overview"

# The filter widgets.  All but the unit, resent and sort filters are keyed by their URL names.
TEXT, PHONE, FROM, TO, STATUS, SENT_BY = "text", "phone", "from", "to", "status", "sent_by"
STANDARD_TEXT = "standard_text"
UNIT, RESENT, SORT = "ov_unit", "ov_resent", "ov_sort"
GATEWAY_ERROR, CLEAR_GATEWAY_ERROR = "ov_gateway_error", "ov_clear_gateway_error"  # no widget: a caption and a button
FILTER_KEYS = (TEXT, PHONE, FROM, TO, STATUS, UNIT, SENT_BY, STANDARD_TEXT, GATEWAY_ERROR, RESENT, SORT)
PAGE = "ov_page"  # the pager
# The buttons.  Send SMS is drawn on every full run of the page, so its absence from the session
# means the page was just entered (Streamlit forgets a widget another page's run did not draw).
SEND, EXPORT, REFRESH, RESEND = "ov_send", "ov_export", "ov_refresh_button", "ov_resend"
SHOW_ORIGINAL, SHOW_RESEND, BACK, HISTORY = "ov_show_original", "ov_show_resend", "ov_back", "ov_history"
TABLE_PLACE = "overview table"  # where the table's messages (a resend's outcome) are shown
# The table's column widths in pixels (the grid stretches them to its width): Text is the widest,
# a message is read there; Resent is a narrow mark at the far right, as the article says.
WIDTHS = {"Text": 300, "Phone": 125, "Sent on": 130, "SMS status": 170, "Org. unit": 125, "Resent": 60}
SORT_BY_HEADER = "ov_sort_by_header"  # a header the user clicked: the Sort by it asks for, for the next run


@dataclass
class Shown:
    """What the table last drew, so a tick with nothing new costs only the version lookup."""

    query: tuple[OverviewFilter, int]  # (filter, page)
    version: object  # the change watcher's version the rows were read at
    count: MessageCount
    rows: list[OverviewRow]

    def position(self, message_id: int | None) -> int | None:
        return next((i for i, r in enumerate(self.rows) if r.id == message_id), None)


@dataclass
class OverviewState:
    current_unit: int | None = None  # the current org. unit the unit filter last followed
    shown: Shown | None = None
    table: int = 0  # part of the table's key: a new number draws a fresh table (see draw_table)
    selected: int | None = None  # id of the message selected in the table
    focus: int | None = None  # id of a message opened from the selected one's details (original/resend)
    detail: tuple[tuple[int, object], MessageDetail | None] | None = None  # ((id, version), detail) last read
    refresh: bool = False  # read the table again on the next tick, even if nothing changed
    export: ExportProgress | None = None  # the CSV export last started from this page
    export_link: ExportLink | None = None  # its download link (the route streams the file)

    @property
    def table_key(self) -> str:
        return f"ov_table_{self.table}"

    @property
    def shown_message_id(self) -> int | None:
        """The message whose details are shown underneath the table."""
        return self.focus or self.selected

    def forget_selection(self) -> None:
        """A new filter from a link: no selected message, and a table drawn afresh."""
        self.selected = self.focus = self.shown = None
        self.table += 1


def overview_state() -> OverviewState:
    if STATE_KEY not in st.session_state:
        st.session_state[STATE_KEY] = OverviewState()
    return st.session_state[STATE_KEY]
