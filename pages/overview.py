"""SMS messages: the overview users open first — filter, page, watch statuses move, resend, export.

Why it is built this way:
- ``sms_core.read_models.overview`` decides what a user may see; this page only turns widgets into an
  ``OverviewFilter`` and draws what comes back.  The same filter drives the table, the count and
  the CSV export.
- Filters live in the URL, so a link can be shared.  Most widgets are bound to it by Streamlit
  (``bind="query-params"``); the org unit, resent and sort filters are kept there by hand,
  because the URL must spell them as ids and ``yes``/``no`` while the widgets show words.
- The table is a fragment that reruns every second but asks the database for rows only when the
  change watcher says a message of the visible units changed (or the user pages, filters or
  refreshes): an idle open page costs one cheap version lookup, and the filters and the Send SMS
  dialog, which live outside the fragment, are never disturbed by these refreshes.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from typing import BinaryIO

import pandas as pd
import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from pages._message_detail import (
    FOCUS_KEY,
    REFRESH_KEY,
    SELECTED_KEY,
    current_detail,
    draw_detail,
    refresh,
    resend_button,
    show_resend_outcome,
)
from pages._shared import browser_zone, current_actor, database, plain, runtime, show_refusal
from sms_core.domain.errors import InvalidInput, SmsError
from sms_core.domain.permissions import Actor, Permission
from sms_core.domain.statuses import STATUS_LABELS, SmsStatus
from sms_core.read_models.contacts import contact_name
from sms_core.read_models.overview import (
    MessageCount,
    OverviewFilter,
    OverviewRow,
    Sort,
    count_messages,
    export_csv,
    list_messages,
    visible_units,
)
from sms_core.storage.database import Database
from sms_core.storage.models import OrgUnit
from sms_core.use_cases.accounts import units_of

LIVE_SECONDS = 1  # how often the table asks whether anything changed
BIND = "query-params"
ALL_UNITS = "all"
# Relative widths of the table's columns; the filters above use the same, so each sits over its column.
WIDTHS = {"Text": 4.2, "Phone": 2.2, "Sent on": 4, "SMS status": 3.4, "Org. unit": 3, "Resent": 1.8}
# Session-state keys of this page (the bound filters use their URL names as keys).
UNIT_KEY, RESENT_KEY, SORT_KEY = "ov_unit", "ov_resent", "ov_sort"
FILTER_KEYS = ("text", "phone", "from", "to", "status", UNIT_KEY, RESENT_KEY, SORT_KEY)
URL_PARAMS = ("text", "phone", "from", "to", "status", "unit", "resent", "sort", "contact")
SEND_KEY = "ov_send"  # drawn on every run of this page, so its absence means the page was just entered
WRITTEN_KEY = "ov_url_written"  # what this page last wrote to the URL by hand
CURRENT_UNIT_KEY = "ov_current_unit"  # the current org unit the unit filter last defaulted to
PAGE_KEY = "ov_page"
SHOWN_KEY = "ov_shown"  # the rows last drawn, and the change version they were read at


# ---- the URL -------------------------------------------------------------------------------


@dataclass(frozen=True)
class UrlParam:
    """A filter kept in the URL by hand.  ``parse`` turns the URL's values into the widget's value
    (None: nothing usable) and the sentences to warn about what it had to ignore."""

    name: str
    key: str
    default: object
    parse: Callable[[list[str]], tuple[object | None, list[str]]]
    dump: Callable[[object], list[str]]


def seed_from_url(param: UrlParam, warnings: list[str]) -> None:
    """Before the widget: take the URL's value when it came from outside (a shared link, the
    delivery-rates page, the back button) — that is, when it is not what this page last wrote.
    A URL without the parameter after a page switch keeps the value the session remembers."""
    raw = st.query_params.get_all(param.name)
    written = st.session_state.setdefault(WRITTEN_KEY, {})
    known = param.key in st.session_state
    if known and (raw == written.get(param.name, []) or not raw):
        return
    value, problems = param.parse(raw) if raw else (param.default, [])
    warnings.extend(problems)
    st.session_state[param.key] = value if value is not None else st.session_state.get(param.key, param.default)


def publish_to_url(param: UrlParam) -> None:
    """After the widget: its value goes to the URL, or leaves it when it is the default."""
    value = st.session_state.get(param.key, param.default)
    wanted = [] if value == param.default else param.dump(value)
    if st.query_params.get_all(param.name) != wanted:
        if wanted:
            st.query_params[param.name] = wanted
        else:
            del st.query_params[param.name]
    st.session_state.setdefault(WRITTEN_KEY, {})[param.name] = wanted


def arrived_by_link() -> bool:
    """This page was just entered (a new session, or from another page) with filters in the URL.

    Filters survive a visit to another page, but a link — shared, or from the delivery-rates or
    Contacts page — describes the whole filter: what it does not mention must not linger."""
    entered = SEND_KEY not in st.session_state  # Streamlit forgets a widget another page's run did not draw
    return entered and any(name in st.query_params for name in URL_PARAMS)


def forget_filters() -> None:
    """Start over as a new session would: every filter from the URL or its default."""
    for key in (*FILTER_KEYS, WRITTEN_KEY, PAGE_KEY, SELECTED_KEY, FOCUS_KEY):
        st.session_state.pop(key, None)


def bound_param_warnings() -> list[str]:
    """Bad values of the bound filters: Streamlit drops them from the URL silently on load, so
    they are read first to tell the user what the link asked for and what was ignored."""
    warnings = [
        f"“{label}” in the link is not an SMS status, so it is ignored."
        for label in st.query_params.get_all("status")
        if label not in STATUS_LABELS
    ]
    for name, day in (("from", "first"), ("to", "last")):
        for value in st.query_params.get_all(name)[-1:]:
            try:
                date.fromisoformat(value)
            except ValueError:
                warnings.append(f"“{value}” in the link is not a date (YYYY-MM-DD), so the {day} day is not filtered.")
    return warnings


def unit_param(actor: Actor) -> UrlParam:
    """``unit``: org unit ids (repeatable), ``all`` for all my units, absent for the current unit.

    The widget's value is "all", one id, or several ids joined by commas (a link from the
    delivery-rates page may name a few of the user's units)."""
    default = str(actor.current_org_unit_id) if actor.current_org_unit_id is not None else ALL_UNITS

    def parse(raw: list[str]) -> tuple[str | None, list[str]]:
        if ALL_UNITS in raw:
            return ALL_UNITS, []
        mine = [v for v in dict.fromkeys(raw) if v.isdecimal() and int(v) in actor.org_unit_ids]
        problems = [
            f"Org. unit “{v}” in the link is not one of your org. units, so it is ignored."
            for v in dict.fromkeys(raw)
            if v not in mine
        ]
        return (",".join(sorted(mine, key=int)) or None), problems

    return UrlParam("unit", UNIT_KEY, default, parse, lambda v: v.split(","))


def _one_of(choices: dict[str, object], what: str):
    def parse(raw: list[str]) -> tuple[object | None, list[str]]:
        value = raw[-1].strip().lower()
        if value in choices:
            return choices[value], []
        return None, [f"“{raw[-1]}” in the link is not {what}, so it is ignored."]

    return parse


RESENT_CHOICES = {"all": "All", "yes": "Yes", "no": "No"}
RESENT_PARAM = UrlParam("resent", RESENT_KEY, "all", _one_of({"yes": "yes", "no": "no"}, "yes or no"), lambda v: [v])
SORT_PARAM = UrlParam(
    "sort", SORT_KEY, Sort.SENT_ON_DESC, _one_of({s.value: s for s in Sort}, "a sort order"), lambda v: [v.value]
)


# ---- contact context -----------------------------------------------------------------------


@dataclass(frozen=True)
class ContactContext:
    """``?contact=ID``: the page lists that contact's messages and Send SMS sends to them."""

    requested: bool = False  # the URL asks for a contact context
    contact_id: int | None = None  # the contact, when the URL names one the user can see
    name: str | None = None
    problem: str | None = None  # why the URL's contact cannot be used

    @property
    def send_blocked(self) -> str | None:
        if self.requested and self.contact_id is None:
            return (
                "This page was opened for a contact, but no valid contact is selected: open the contact from Contacts."
            )
        return None


def contact_context(db: Database, actor: Actor) -> ContactContext:
    raw = st.query_params.get_all("contact")
    if not raw:
        return ContactContext()
    value = raw[-1].strip()
    if not value:
        return ContactContext(requested=True)
    if not value.isdecimal() or int(value) < 1:
        return ContactContext(
            True, problem=f"“{value}” in the link is not a contact id, so the contact filter is ignored."
        )
    try:
        return ContactContext(True, int(value), contact_name(db, actor, int(value)))
    except SmsError as exc:
        return ContactContext(True, problem=f"{exc.message} The link's contact filter is ignored.")


def _leave_contact_context() -> None:
    st.query_params.pop("contact", None)


def show_contact_heading(contact: ContactContext) -> None:
    if not contact.requested:
        return
    with st.container(horizontal=True, vertical_alignment="center"):
        if contact.name:
            st.subheader(f":material/person: {plain(contact.name)}", anchor=False)
            st.caption("Showing this contact's messages.")
        else:
            st.caption(":material/person_off: No contact is selected.")
        st.button("Show all messages", on_click=_leave_contact_context, type="tertiary", icon=":material/close:")


# ---- filters -------------------------------------------------------------------------------


def unit_options(units: list[OrgUnit], value: str) -> dict[str, str]:
    """The unit choices and their names: all my units, each unit, and the several units a link
    asked for, while that choice is the one shown."""
    names = {str(u.id): u.name for u in units}
    options = {ALL_UNITS: "All my units", **names}
    if "," in value and all(v in names for v in value.split(",")):
        options[value] = " + ".join(names[v] for v in value.split(","))
    return options


def _prepare_unit_filter(actor: Actor, param: UrlParam, units: list[OrgUnit], warnings: list[str]) -> dict[str, str]:
    """Seed from the URL; follow the current unit while the filter still shows the old one; fall
    back to the default when the choice is no longer the user's (another demo user signed in)."""
    seed_from_url(param, warnings)
    seen, now = st.session_state.get(CURRENT_UNIT_KEY), actor.current_org_unit_id
    if seen is not None and seen != now and st.session_state.get(UNIT_KEY) == str(seen):
        st.session_state[UNIT_KEY] = param.default
    st.session_state[CURRENT_UNIT_KEY] = now
    options = unit_options(units, st.session_state.get(UNIT_KEY, param.default))
    if st.session_state.get(UNIT_KEY, param.default) not in options:
        st.session_state[UNIT_KEY] = param.default
    return options


def _unit_ids(value: str) -> frozenset[int] | None:
    """The widget's choice as the filter's units: None means all my units."""
    return None if value == ALL_UNITS else frozenset(int(v) for v in value.split(","))


def draw_filters(actor: Actor, units: list[OrgUnit], warnings: list[str]) -> DeltaGenerator:
    """The filter widgets, in a row over the table's columns; returns the date cell, where a
    contradiction between the two dates is shown."""
    unit = unit_param(actor)
    names = _prepare_unit_filter(actor, unit, units, warnings)
    seed_from_url(RESENT_PARAM, warnings)
    cells = st.columns(list(WIDTHS.values()), vertical_alignment="bottom")
    cells[0].text_input(
        "Text", key="text", bind=BIND, persist_state="session", type="search", live="400ms", placeholder="Contains…"
    )
    cells[1].text_input(
        "Phone", key="phone", bind=BIND, persist_state="session", type="search", live="400ms", placeholder="Digits…"
    )
    first, last = cells[2].columns(2)
    first.date_input("Sent from", value=None, key="from", bind=BIND, persist_state="session", format="YYYY-MM-DD")
    last.date_input("Sent to", value=None, key="to", bind=BIND, persist_state="session", format="YYYY-MM-DD")
    cells[3].multiselect(
        "SMS status", list(STATUS_LABELS), key="status", bind=BIND, persist_state="session", placeholder="All statuses"
    )
    cells[4].selectbox("Org. unit", list(names), key=UNIT_KEY, format_func=names.__getitem__, persist_state="session")
    cells[5].selectbox(
        "Resent", list(RESENT_CHOICES), key=RESENT_KEY, format_func=RESENT_CHOICES.__getitem__, persist_state="session"
    )
    publish_to_url(unit)
    publish_to_url(RESENT_PARAM)
    return cells[2]


def sort_select(warnings: list[str]) -> Sort:
    seed_from_url(SORT_PARAM, warnings)
    sort = st.selectbox(
        "Sort by", list(Sort), key=SORT_KEY, format_func=lambda s: s.label, persist_state="session", width=260
    )
    publish_to_url(SORT_PARAM)
    return sort


def current_filter(contact: ContactContext, sort: Sort, zone: str) -> OverviewFilter:
    """The filter the widgets describe; InvalidInput (at the date fields) if they contradict."""
    resent = st.session_state.get(RESENT_KEY, "all")
    return OverviewFilter(
        text=st.session_state.get("text") or "",
        phone=st.session_state.get("phone") or "",
        sent_from=st.session_state.get("from"),
        sent_to=st.session_state.get("to"),
        time_zone=zone,
        statuses=frozenset(SmsStatus.from_label(label) for label in st.session_state.get("status") or []),
        org_unit_ids=_unit_ids(st.session_state.get(UNIT_KEY, ALL_UNITS)),
        resent=None if resent == "all" else resent == "yes",
        contact_id=contact.contact_id,
        sort=sort,
        region=runtime().config.default_region,
    )


# ---- toolbar: Send SMS and Export ----------------------------------------------------------


def _show_send_notice() -> None:
    """The send dialog leaves its confirmation for the page when it closes itself."""
    try:
        from pages.send_dialog import show_send_notice
    except ModuleNotFoundError:  # the dialog module is not installed in this checkout yet
        return
    show_send_notice()


def send_button(contact: ContactContext) -> None:
    """Always available, except in a contact context without a (valid) contact."""
    reason = contact.send_blocked
    if st.button(
        "Send SMS", type="primary", icon=":material/sms:", disabled=reason is not None, help=reason, key=SEND_KEY
    ):
        from pages.send_dialog import send_sms_dialog

        send_sms_dialog(contact.contact_id)


def csv_file(chunks: Iterable[str]) -> BinaryIO:
    """Spool the export's chunks to a temporary file, so building it never holds the rows in
    memory; Streamlit reads the finished file to serve it.  UTF-8 with a BOM, so that Excel shows
    æ, ø and å."""
    with tempfile.NamedTemporaryFile("w", encoding="utf-8-sig", newline="", suffix=".csv", delete=False) as spool:
        spool.writelines(chunks)
    reader = open(spool.name, "rb")
    os.unlink(spool.name)  # gone from the disk once the reader is closed
    return reader


def export_button(db: Database, actor: Actor, f: OverviewFilter) -> None:
    """All rows matching the filters — not only this page — made only when the user clicks."""
    st.download_button(
        "Export CSV",
        data=lambda: csv_file(export_csv(db, actor, f)),
        file_name=f"sms-messages-{date.today()}.csv",
        mime="text/csv",
        on_click="ignore",
        icon=":material/download:",
        key="ov_export",
        help="Download every message that matches the filters as a CSV file.",
    )


# ---- the live table ------------------------------------------------------------------------


@dataclass
class Shown:
    """What the table last drew, so a tick with nothing new costs only the version lookup."""

    query: tuple[OverviewFilter, int]  # (filter, page)
    version: object
    count: MessageCount
    rows: list[OverviewRow]
    table: int  # part of the table's key; see draw_table

    @property
    def table_key(self) -> str:
        return f"ov_table_{self.table}"

    def position(self, message_id: int | None) -> int | None:
        return next((i for i, r in enumerate(self.rows) if r.id == message_id), None)


def sync_selection() -> None:
    """Remember, by id, the row the user selected in the table as last drawn — read before the
    table is drawn again, so a click is not lost when new rows arrived in the meantime."""
    shown: Shown | None = st.session_state.get(SHOWN_KEY)
    state = st.session_state.get(shown.table_key) if shown else None
    if state is None:
        return
    rows = [i for i in state["selection"]["rows"] if i < len(shown.rows)]
    chosen = shown.rows[rows[0]].id if rows else None
    if chosen != st.session_state.get(SELECTED_KEY):
        st.session_state[SELECTED_KEY] = chosen
        st.session_state.pop(FOCUS_KEY, None)


def current_rows(db: Database, actor: Actor, f: OverviewFilter, version: object) -> Shown:
    """The rows to draw: those of the last read unless the filter, page or data changed."""
    shown: Shown | None = st.session_state.get(SHOWN_KEY)
    page = st.session_state.get(PAGE_KEY, 1)
    if shown is not None and shown.query[0] != f and page != 1:
        page = st.session_state[PAGE_KEY] = 1  # a new filter starts on its first page
    refresh = st.session_state.pop(REFRESH_KEY, False)
    if shown is not None and shown.query == (f, page) and shown.version == version and not refresh:
        return shown
    count = count_messages(db, actor, f)
    if page > count.pages():  # fewer match now (messages moved out of a status filter)
        page = st.session_state[PAGE_KEY] = count.pages()
    new = Shown((f, page), version, count, list_messages(db, actor, f, page), shown.table if shown else 0)
    selected = st.session_state.get(SELECTED_KEY)
    if shown is not None and selected is not None and shown.position(selected) != new.position(selected):
        new.table += 1  # the selected row moved: a fresh table, selected again where it now is
    st.session_state[SHOWN_KEY] = new
    return new


def table_frame(rows: list[OverviewRow], zone: str) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "Text": [r.text for r in rows],
            "Phone": [r.phone_display for r in rows],
            "Sent on": pd.to_datetime([r.sent_on for r in rows], utc=True).tz_convert(zone),
            "SMS status": [r.status.label for r in rows],
            "Org. unit": [r.org_unit_name for r in rows],
            "Resent": [r.resent for r in rows],
        }
    )


COLUMNS = {
    "Text": st.column_config.TextColumn("Text", width=int(WIDTHS["Text"] * 45)),
    "Phone": st.column_config.TextColumn("Phone", width=int(WIDTHS["Phone"] * 45)),
    "Sent on": st.column_config.DatetimeColumn("Sent on", format="YYYY-MM-DD HH:mm", width=int(WIDTHS["Sent on"] * 45)),
    "SMS status": st.column_config.TextColumn("SMS status", width=int(WIDTHS["SMS status"] * 45)),
    "Org. unit": st.column_config.TextColumn("Org. unit", width=int(WIDTHS["Org. unit"] * 45)),
    "Resent": st.column_config.CheckboxColumn("Resent", width="small", help="A resend of an earlier SMS"),
}


def draw_table(shown: Shown, zone: str) -> None:
    """The table with single-row selection.

    Streamlit keeps a selection by row position, so when a new read moves the selected message
    to another position (a new row on top), the table gets a fresh key and the message is
    selected again where it now is; otherwise the key stays, and so do the user's scroll and
    column widths.
    """
    position = shown.position(st.session_state.get(SELECTED_KEY))
    st.dataframe(
        table_frame(shown.rows, zone),
        key=shown.table_key,
        hide_index=True,
        column_config=COLUMNS,
        on_select="rerun",
        selection_mode="single-row",
        height=min(38 + 35 * max(len(shown.rows), 1), 640),
        selection_default={"selection": {"rows": [position]}} if position is not None else None,
        placeholder="",
    )
    if not shown.rows:
        st.info("No messages match the filters.", icon=":material/filter_alt_off:")


def draw_pager(shown: Shown) -> None:
    count, pages = shown.count, shown.count.pages()
    with st.container(horizontal=True, vertical_alignment="center", horizontal_alignment="distribute"):
        noun = "message matches" if count.value == 1 and not count.capped else "messages match"
        note = (
            f" – the first {count.value:,} are listed: narrow the filters, or export them all" if count.capped else ""
        )
        st.caption(f"{count.label} {noun}{note}.")
        if pages > 1:
            st.pagination(pages, key=PAGE_KEY)


@st.fragment(run_every=LIVE_SECONDS)
def live_table(actor: Actor, f: OverviewFilter, zone: str) -> None:
    """Toolbar, table, pages and the selected message; reruns by itself to follow changes."""
    db = database()
    show_resend_outcome()
    try:
        version = runtime().changes.version(visible_units(actor, f))
        sync_selection()
        shown = current_rows(db, actor, f, version)
        toolbar = st.container(horizontal=True, vertical_alignment="center")
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
            key="ov_refresh_button",
            help="Read the current page again. It also updates by itself when a status changes.",
        )
    if detail is not None:
        st.divider()
        draw_detail(detail, zone)


# ---- the page ------------------------------------------------------------------------------


def main() -> None:
    actor = current_actor()
    db = database()
    _show_send_notice()
    st.title("SMS messages")
    actor.require(Permission.VIEW_SMS)
    units = units_of(db, actor)
    if not units:
        st.info("You are not associated with any org. unit, so there are no SMS messages to show.")
        return
    notes = st.container()
    if arrived_by_link():
        forget_filters()
    warnings = bound_param_warnings()
    contact = contact_context(db, actor)
    warnings += [contact.problem] if contact.problem else []
    show_contact_heading(contact)
    zone = browser_zone()
    with st.container(horizontal=True, vertical_alignment="bottom"):
        send_button(contact)
        export_slot = st.container(width="content")
        st.space("stretch")
        sort = sort_select(warnings)
    date_cell = draw_filters(actor, units, warnings)
    if warnings:
        notes.warning(
            "Some of the link's filters could not be used:\n" + "".join(f"\n- {plain(w)}" for w in warnings),
            icon=":material/link_off:",
        )
    try:
        f = current_filter(contact, sort, zone)
    except InvalidInput as exc:
        date_cell.error(exc.message, icon=":material/event_busy:")
        return
    with export_slot:
        export_button(db, actor, f)
    live_table(actor, f, zone)


try:
    main()
except SmsError as exc:
    show_refusal(exc)
