"""The overview's live table: toolbar, rows, pager and the selected message, in one fragment.

Why it is built this way:
- The fragment reruns every second but asks the database for rows only when the change watcher
  says a message of the visible units changed (or the user pages, filters or refreshes): an idle
  open page costs one cheap version lookup, and the filters and the Send SMS dialog, which live
  outside the fragment, are never disturbed by these refreshes.
- Streamlit keeps a table's selection by row position, so the selected message is remembered by
  id, and the table is drawn afresh when new rows move it to another position.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from pages._flash import show_flash
from pages._message_detail import current_detail, draw_detail, refresh, resend_button
from pages._overview_export import export_progress
from pages._overview_filters import publish
from pages._overview_state import PAGE, REFRESH, SORT, SORT_BY_HEADER, TABLE_PLACE, WIDTHS, Shown, overview_state
from pages._shared import current_actor, database, runtime, show_refusal
from sms_core.domain.errors import SmsError
from sms_core.domain.permissions import Actor
from sms_core.read_models.overview import PAGE_SIZE, OverviewFilter, OverviewRow, Sort, list_messages, visible_units
from sms_core.read_models.overview_count import BackgroundCounts
from sms_core.storage.database import Database

LIVE_SECONDS = 1  # how often the table asks whether anything changed
ORDER_HELP = "Click the header to sort every matching message by this column (as Sort by does)."
COLUMNS = {
    "Text": st.column_config.TextColumn("Text", width=WIDTHS["Text"]),
    "Phone": st.column_config.TextColumn("Phone", width=WIDTHS["Phone"]),
    "Sent on": st.column_config.DatetimeColumn(
        "Sent on", format="YYYY-MM-DD HH:mm", width=WIDTHS["Sent on"], help=ORDER_HELP
    ),
    "SMS status": st.column_config.TextColumn("SMS status", width=WIDTHS["SMS status"], help=ORDER_HELP),
    "Org. unit": st.column_config.TextColumn("Org. unit", width=WIDTHS["Org. unit"]),
    "Resent": st.column_config.TextColumn(
        "Resent", width=WIDTHS["Resent"], alignment="center", help="✓: a resend of an earlier SMS"
    ),
}
RESENT_MARK = "✓"
# A header click orders every match in the database: (first order, the other) for each column.
HEADER_SORTS = {
    "Sent on": (Sort.SENT_ON_DESC, Sort.SENT_ON_ASC),
    "SMS status": (Sort.STATUS_ASC, Sort.STATUS_DESC),
}
# The grid's own toolbar would search and download only the rows of this page: not offered (the
# filters search, and Export CSV downloads, every match).  Streamlit has no option for it.
HIDE_PAGE_ONLY_TOOLS = """<style>
[class*="st-key-ov_table_"] [data-testid="stElementToolbarButton"]:has(button[aria-label="Search"]),
[class*="st-key-ov_table_"] [data-testid="stElementToolbarButton"]:has(button[aria-label="Download as CSV"])
{ display: none; }
</style>"""


@st.fragment(run_every=LIVE_SECONDS)
def live_table(f: OverviewFilter, zone: str) -> None:
    """Toolbar, table, pages and the selected message; reruns by itself to follow changes.

    Its own reruns do not run app.py, so it reads the user again itself: one who was deactivated
    or lost the unit meanwhile gets the refusal page at the next tick, not more rows."""
    if st.session_state.pop(SORT_BY_HEADER, False):
        st.rerun()  # the whole page: Sort by, the filter and the table follow the header clicked
    actor = current_actor()
    db = database()
    show_flash(TABLE_PLACE)
    try:
        version = runtime().changes.version(visible_units(actor, f))
        sync_selection()
        shown = current_rows(db, actor, f, version)
        publish(f, shown.query[1], actor)
        toolbar = st.container(horizontal=True, vertical_alignment="center")
        export_progress()
        draw_table(shown, zone)
        draw_pager(shown)
        detail = current_detail(db, actor, version)
    except SmsError as exc:
        show_refusal(exc)
        return
    with toolbar:
        resend_button(actor, detail)
        st.button(
            "Refresh",
            icon=":material/refresh:",
            on_click=refresh,
            key=REFRESH,
            help="Read the current page again. It also updates by itself when a status changes.",
        )
    if detail is not None:
        st.divider()
        draw_detail(detail, zone)


def sync_selection() -> None:
    """Remember, by id, the row the user selected in the table as last drawn — read before the
    table is drawn again, so a click is not lost when new rows arrived in the meantime."""
    state = overview_state()
    table = st.session_state.get(state.table_key) if state.shown else None
    if table is None:
        return
    rows = [i for i in table["selection"]["rows"] if i < len(state.shown.rows)]
    chosen = state.shown.rows[rows[0]].id if rows else None
    if chosen != state.selected:
        state.selected, state.focus = chosen, None


@st.cache_resource
def counts() -> BackgroundCounts:
    """The process's counts, shared by every session: one count per filter runs at a time."""
    return BackgroundCounts()


def current_rows(db: Database, actor: Actor, f: OverviewFilter, version: object) -> Shown:
    """The rows to draw: those of the last read unless the filter, page or data changed."""
    state = overview_state()
    shown, page = state.shown, st.session_state.get(PAGE, 1)
    if shown is not None and shown.query[0] != f and page != 1:
        page = st.session_state[PAGE] = 1  # a new filter starts on its first page
    refresh_now, state.refresh = state.refresh, False
    if shown is not None and shown.query == (f, page) and shown.version == version and not refresh_now:
        if not shown.count.settled:  # the exact count may have arrived since the last tick
            shown.count = counts().count(db, actor, f, version, known=shown.count.value, budget=0)
        return shown
    rows = list_messages(db, actor, f, page)
    if not rows and page > 1:  # fewer match now (messages moved out of a status filter)
        count = counts().count(db, actor, f, version)
        page = st.session_state[PAGE] = count.pages() if count.settled else 1
        rows = list_messages(db, actor, f, page)
    count = counts().for_page(db, actor, f, version, page, PAGE_SIZE, len(rows))
    new = Shown((f, page), version, count, rows)
    selected = state.selected
    if shown is not None and selected is not None and shown.position(selected) != new.position(selected):
        state.table += 1  # the selected row moved: a fresh table, selected again where it now is
    state.shown = new
    return new


def table_frame(rows: list[OverviewRow], zone: str) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "Text": [r.text for r in rows],
            "Phone": [r.phone_display for r in rows],
            "Sent on": pd.to_datetime([r.sent_on for r in rows], utc=True).tz_convert(zone),
            "SMS status": [r.status.label for r in rows],
            "Org. unit": [r.org_unit_name for r in rows],
            "Resent": [RESENT_MARK if r.resent else "" for r in rows],
        }
    )


def draw_table(shown: Shown, zone: str) -> None:
    """The table with single-row selection; the key stays while the selected message keeps its
    position, and so do the user's scroll and column widths."""
    state = overview_state()
    position = shown.position(state.selected)
    st.html(HIDE_PAGE_ONLY_TOOLS)
    st.dataframe(
        table_frame(shown.rows, zone),
        key=state.table_key,
        hide_index=True,
        column_config=COLUMNS,
        on_select=lambda: header_clicked(state.table_key),
        # Selecting a column keeps the grid from sorting only the loaded rows; header_clicked
        # sorts them all instead.
        selection_mode=["single-row", "single-column"],
        height=min(38 + 35 * max(len(shown.rows), 1), 640),
        selection_default={"selection": {"rows": [position]}} if position is not None else None,
        placeholder="",
    )
    if not shown.rows:
        st.info("No messages match the filters.", icon=":material/filter_alt_off:")


def header_clicked(key: str) -> None:
    """A header was clicked (it selects its column): Sent on and SMS status order every match,
    as Sort by does; the table is drawn afresh, with no column marked and the same row selected."""
    columns = st.session_state[key]["selection"]["columns"]
    if not columns:
        return  # a row was selected: sync_selection reads it
    overview_state().table += 1
    orders = HEADER_SORTS.get(columns[0])
    if orders is not None:
        current = st.session_state.get(SORT, Sort.SENT_ON_DESC)
        st.session_state[SORT] = orders[1] if current == orders[0] else orders[0]
        st.session_state[SORT_BY_HEADER] = True


def draw_pager(shown: Shown) -> None:
    count, pages = shown.count, shown.count.pages()
    with st.container(horizontal=True, vertical_alignment="center", horizontal_alignment="distribute"):
        noun = "message matches" if count.label == "1" else "messages match"
        note = (
            f" – the first {count.value:,} are listed: narrow the filters, or export them all" if count.capped else ""
        )
        if not count.settled:
            note = " – still counting the rest"
        st.caption(f"{count.label} {noun}{note}.")
        if pages > 1:
            st.pagination(pages, key=PAGE)
