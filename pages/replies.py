"""Replies: the incoming SMS of the user's units — what recipients answered, and who opted out.

Why it is built this way:
- The filters are the overview's (text, phone, date range, org. unit) and make the overview's
  filter object, so "contains", phone digits and days in the browser's time zone mean the same on
  both pages; the unit choices come from the overview's own filter pieces.
- ``sms_core.read_models.replies`` decides what a user may see: a reply is shown exactly where the
  message it answers is.  The table follows new replies by itself (``pages._replies_table``).
"""

from __future__ import annotations

import streamlit as st

from pages._overview_filters import FILTER_WIDTHS, offered_days
from pages._overview_units import unit_choice, unit_ids, unit_options
from pages._replies_table import live_replies
from pages._shared import browser_zone, current_actor, database, runtime, show_refusal
from sms_core.domain.errors import InvalidInput, SmsError
from sms_core.domain.permissions import Actor, Permission
from sms_core.read_models.overview import OverviewFilter
from sms_core.read_models.overview_link import default_filter
from sms_core.use_cases.accounts import units_of

TEXT, PHONE, FROM, TO, UNIT = "rp_text", "rp_phone", "rp_from", "rp_to", "rp_unit"


def draw_filters(actor: Actor, names: dict[str, str]) -> None:
    default = unit_choice(default_filter(actor).org_unit_ids)
    options = unit_options(names, st.session_state.get(UNIT, default))
    if st.session_state.get(UNIT, default) not in options:  # another demo user signed in
        st.session_state[UNIT] = default
    st.session_state.setdefault(UNIT, default)
    w = FILTER_WIDTHS
    with st.container(horizontal=True, vertical_alignment="bottom"):
        st.text_input("Text", key=TEXT, type="search", live="400ms", placeholder="Contains…", width=w["text"])
        st.text_input("Phone", key=PHONE, type="search", live="400ms", placeholder="Digits…", width=w["phone"])
        earliest, latest = offered_days()
        for label, key in (("Received from", FROM), ("Received to", TO)):
            st.date_input(
                label, value=None, min_value=earliest, max_value=latest, key=key, format="YYYY-MM-DD", width=180
            )
        st.selectbox("Org. unit", list(options), key=UNIT, format_func=options.__getitem__, width=w["ov_unit"])


def current_filter(zone: str) -> OverviewFilter:
    state = st.session_state
    return OverviewFilter(
        text=state.get(TEXT) or "",
        phone=state.get(PHONE) or "",
        sent_from=state.get(FROM),
        sent_to=state.get(TO),
        time_zone=zone,
        org_unit_ids=unit_ids(state.get(UNIT)),
        region=runtime().config.default_region,
    )


def main() -> None:
    actor = current_actor()
    st.title("Replies")
    actor.require(Permission.VIEW_SMS)
    names = {str(u.id): u.name for u in units_of(database(), actor)}
    if not names:
        st.info("You are not associated with any org. unit, so there are no replies to show.")
        return
    st.caption(
        "SMS that recipients sent back. A reply that is only STOP (or another opt-out keyword) withdraws consent."
    )
    draw_filters(actor, names)
    zone = browser_zone()
    try:
        f = current_filter(zone)
    except InvalidInput as exc:
        st.error(exc.message, icon=":material/event_busy:")
        return
    live_replies(actor, f, zone)


try:
    main()
except SmsError as exc:
    show_refusal(exc)
