"""The overview's filters: the widgets above the table, and the URL that keeps them.

Why it is built this way:
- A link (shared, or from the delivery-rates, settings or Contacts page) describes the whole
  filter: when the page is entered with one, every filter is set from it, and what it does not
  mention goes back to its default.  ``sms_core.read_models.overview_link`` reads and writes the
  format; this module only moves values between it and the widgets.
- While the user stays on the page the widgets are the truth, and each run writes them back to
  the URL, so the address bar can be shared at any moment.  Entered without a link (from the
  menu), the page keeps the filters the session had.
- A gateway error is filtered only when a link asks (Delivery rates' top reasons): its texts are
  any text, so there is nothing to choose from; the filter is a caption with a button that
  removes it.  The org. unit filter's choices are in ``pages._overview_units``.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from pages._overview_state import (
    CLEAR_GATEWAY_ERROR,
    FROM,
    GATEWAY_ERROR,
    PAGE,
    PHONE,
    RESENT,
    SEND,
    SENT_BY,
    SORT,
    STANDARD_TEXT,
    STATUS,
    TEXT,
    TO,
    UNIT,
    overview_state,
)
from pages._overview_units import prepare_unit_filter, unit_choice, unit_ids
from pages._shared import plain, runtime
from sms_core.domain.permissions import Actor
from sms_core.domain.statuses import STATUS_LABELS, SmsStatus
from sms_core.read_models.overview import OverviewFilter, Sort
from sms_core.read_models.overview_link import (
    ALL_UNITS,
    PARAMETERS,
    OverviewLink,
    default_filter,
    link_params,
    read_link,
)

RESENT_CHOICES = {"all": "All", "yes": "Yes", "no": "No"}


# ---- the URL -------------------------------------------------------------------------------


def follow_link(actor: Actor, zone: str) -> OverviewLink:
    """Read the URL; when the page was just entered with a link, set every filter from it.

    Returns what this run uses of the URL: the whole link when it was followed, otherwise only
    its contact, which always comes from the URL (a button leaves the contact context).
    """
    params = {name: st.query_params.get_all(name) for name in PARAMETERS if name in st.query_params}
    if SEND not in st.session_state and params:
        link = read_link(params, actor, zone, offered_days())
        st.session_state.update(widget_values(link))
        st.session_state[PAGE] = link.page
        overview_state().forget_selection()
        return link
    for key, value in widget_values(OverviewLink(default_filter(actor, zone))).items():
        st.session_state.setdefault(key, value)
    return read_link({name: params[name] for name in ("contact",) if name in params}, actor, zone)


def publish(f: OverviewFilter, page: int, actor: Actor) -> None:
    """Write the filter and page to the URL, leaving out defaults; the contact, and parameters
    that are not the overview's, stay as they are."""
    wanted = link_params(replace(f, contact_id=None), page, default=default_filter(actor, f.time_zone))
    for name in PARAMETERS:
        values = wanted.get(name, [])
        if name == "contact" or st.query_params.get_all(name) == values:
            continue
        if values:
            st.query_params[name] = values
        else:
            del st.query_params[name]


def widget_values(link: OverviewLink) -> dict[str, object]:
    """The filter widgets' values for a link's filter."""
    f = link.filter
    return {
        TEXT: f.text,
        PHONE: f.phone,
        FROM: f.sent_from,
        TO: f.sent_to,
        STATUS: [s.label for s in link.statuses],
        UNIT: unit_choice(f.org_unit_ids),
        SENT_BY: f.sent_by_user_id,
        STANDARD_TEXT: f.standard_text_id,
        GATEWAY_ERROR: f.gateway_error,
        RESENT: {None: "all", True: "yes", False: "no"}[f.resent],
        SORT: f.sort,
    }


def offered_days(today: date | None = None) -> tuple[date, date]:
    """The days the date filters offer: ten years either side of today (Streamlit's own range)."""
    today = today or date.today()
    return _years_from(today, -10), _years_from(today, 10)


def _years_from(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


# ---- the widgets ---------------------------------------------------------------------------


# Each filter is as wide as the value it shows needs (a whole date, a number as the table shows it,
# with the clear button beside it); the row wraps on a narrow screen rather than cutting them.
FILTER_WIDTHS = {
    TEXT: 280,
    PHONE: 190,
    FROM: 180,
    TO: 180,
    STATUS: 240,
    UNIT: 210,
    SENT_BY: 200,
    STANDARD_TEXT: 220,
    RESENT: 110,
}


def id_options(names: dict[int, str], chosen: int | None, anything: str, unknown: str) -> dict[int | None, str]:
    """``anything`` first, then the names; an id a link named that is not among them is offered
    by number, so the filter shows what the link asked (and finds what it may)."""
    options: dict[int | None, str] = {None: anything, **names}
    if chosen is not None and chosen not in options:
        options[chosen] = f"{unknown} #{chosen}"
    return options


def draw_filters(
    actor: Actor, unit_names: dict[str, str], sender_names: dict[int, str], text_names: dict[int, str]
) -> DeltaGenerator:
    """The filter widgets, in a row above the table (``unit_names``: the user's units by id,
    ``sender_names``: the people of those units, ``text_names``: their standard texts); returns
    the place under them where a contradiction between the two dates is shown."""
    units = prepare_unit_filter(actor, unit_names)
    senders = id_options(sender_names, st.session_state.get(SENT_BY), "Anyone", "User")
    texts = id_options(text_names, st.session_state.get(STANDARD_TEXT), "Any or none", "Standard text")
    w = FILTER_WIDTHS
    with st.container(horizontal=True, vertical_alignment="bottom"):
        st.text_input(
            "Text",
            key=TEXT,
            persist_state="session",
            type="search",
            live="400ms",
            placeholder="Contains…",
            width=w[TEXT],
        )
        st.text_input(
            "Phone",
            key=PHONE,
            persist_state="session",
            type="search",
            live="400ms",
            placeholder="Digits…",
            width=w[PHONE],
        )
        earliest, latest = offered_days()
        for label, key in (("Sent from", FROM), ("Sent to", TO)):
            st.date_input(
                label,
                value=None,
                min_value=earliest,
                max_value=latest,
                key=key,
                persist_state="session",
                format="YYYY-MM-DD",
                width=w[key],
            )
        st.multiselect(
            "SMS status",
            list(STATUS_LABELS),
            key=STATUS,
            persist_state="session",
            placeholder="All statuses",
            width=w[STATUS],
        )
        st.selectbox(
            "Org. unit", list(units), key=UNIT, format_func=units.__getitem__, persist_state="session", width=w[UNIT]
        )
        st.selectbox(
            "Sent by",
            list(senders),
            key=SENT_BY,
            format_func=senders.__getitem__,
            placeholder=senders[None],  # None is "no choice" to Streamlit: say what it means here
            persist_state="session",
            width=w[SENT_BY],
        )
        st.selectbox(
            "Standard text",
            list(texts),
            key=STANDARD_TEXT,
            format_func=texts.__getitem__,
            placeholder=texts[None],
            persist_state="session",
            width=w[STANDARD_TEXT],
        )
        st.selectbox(
            "Resent",
            list(RESENT_CHOICES),
            key=RESENT,
            format_func=RESENT_CHOICES.__getitem__,
            persist_state="session",
            width=w[RESENT],
        )
    gateway_error_filter()
    return st.container()


def gateway_error_filter() -> None:
    """The gateway error a link asked for, in the gateway's words, and a button that removes it."""
    error = st.session_state.get(GATEWAY_ERROR)
    if not error:
        return
    with st.container(horizontal=True, vertical_alignment="center", gap="small"):
        st.caption(f"Gateway error: {plain(error)}", width="content")
        st.button(
            "Clear",
            key=CLEAR_GATEWAY_ERROR,
            icon=":material/close:",
            type="tertiary",
            help="Show the messages whatever their gateway error",
            on_click=_clear_gateway_error,
        )


def _clear_gateway_error() -> None:
    st.session_state[GATEWAY_ERROR] = None


def sort_select() -> None:
    st.selectbox("Sort by", list(Sort), key=SORT, format_func=lambda s: s.label, persist_state="session", width=260)


def current_filter(contact_id: int | None, zone: str) -> OverviewFilter:
    """The filter the widgets describe; InvalidInput (at the date fields) if they contradict."""
    state = st.session_state
    resent = state.get(RESENT, "all")
    return OverviewFilter(
        text=state.get(TEXT) or "",
        phone=state.get(PHONE) or "",
        sent_from=state.get(FROM),
        sent_to=state.get(TO),
        time_zone=zone,
        statuses=frozenset(SmsStatus.from_label(label) for label in state.get(STATUS) or []),
        org_unit_ids=unit_ids(state.get(UNIT, ALL_UNITS)),
        resent=None if resent == "all" else resent == "yes",
        contact_id=contact_id,
        sent_by_user_id=state.get(SENT_BY),
        standard_text_id=state.get(STANDARD_TEXT),
        gateway_error=state.get(GATEWAY_ERROR),
        sort=state.get(SORT, Sort.SENT_ON_DESC),
        region=runtime().config.default_region,
    )


def show_filter(f: OverviewFilter) -> None:
    """on_click of a button on this page that shows other messages (the alert banner's): every
    filter set from ``f``, as following a link to it would.  A link to the page one is on would
    not do: here the widgets, not the URL, are the truth."""
    st.session_state.update(widget_values(OverviewLink(f, statuses=tuple(sorted(f.statuses)))))
    st.session_state[PAGE] = 1
    overview_state().forget_selection()
