"""The Replies page's live table: it follows new replies by itself, as the overview's table does.

The fragment reruns every second but reads the database only when the change watcher says
something of the visible units changed (a reply is announced like a status change), or when the
user pages or filters; the filters above it are never disturbed by these refreshes.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import streamlit as st

from pages._shared import database, runtime, show_refusal
from sms_core.domain.errors import SmsError
from sms_core.domain.permissions import Actor
from sms_core.read_models.overview import MessageCount, OverviewFilter
from sms_core.read_models.overview_link import link_url
from sms_core.read_models.replies import ReplyRow, count_replies, list_replies
from sms_core.storage.reply_models import OPT_IN, OPT_OUT

LIVE_SECONDS = 1
PAGE, SHOWN, TABLE = "rp_page", "rp_shown", "rp_table"
KEYWORDS = {OPT_OUT: "Opt-out", OPT_IN: "Opt-in"}
COLUMNS = {
    "Received": st.column_config.DatetimeColumn("Received", format="YYYY-MM-DD HH:mm", width=130),
    "From": st.column_config.TextColumn("From", width=125),
    "Text": st.column_config.TextColumn("Text", width=260),
    "Consent": st.column_config.TextColumn("Consent", width=80, help="Opt-out: the reply withdrew consent"),
    "Contact": st.column_config.TextColumn("Contact", width=140),
    "Org. unit": st.column_config.TextColumn("Org. unit", width=125),
    "Answers": st.column_config.TextColumn("Answers", width=220, help="The SMS this reply answers"),
    "SMS": st.column_config.LinkColumn("SMS", display_text="Open SMS", help="The SMS it answers, in SMS messages"),
    "Contact's SMS": st.column_config.LinkColumn(
        "Contact's SMS", display_text="Open contact", help="Every SMS of this contact"
    ),
}


@dataclass
class Shown:
    query: tuple[OverviewFilter, int]
    version: object
    count: MessageCount
    rows: list[ReplyRow]


@st.fragment(run_every=LIVE_SECONDS)
def live_replies(actor: Actor, f: OverviewFilter, zone: str) -> None:
    db = database()
    try:
        version = runtime().changes.version(actor.visible_units(f.org_unit_ids))
        shown: Shown | None = st.session_state.get(SHOWN)
        page = st.session_state.get(PAGE, 1)
        if shown is not None and shown.query[0] != f:
            page = st.session_state[PAGE] = 1
        if shown is None or shown.query != (f, page) or shown.version != version:
            count = count_replies(db, actor, f)
            shown = Shown((f, page), version, count, list_replies(db, actor, f, page))
            st.session_state[SHOWN] = shown
    except SmsError as exc:
        show_refusal(exc)
        return
    st.dataframe(frame(shown.rows, zone), key=TABLE, hide_index=True, column_config=COLUMNS, placeholder="")
    if not shown.rows:
        st.info("No replies match the filters.", icon=":material/filter_alt_off:")
    with st.container(horizontal=True, vertical_alignment="center", horizontal_alignment="distribute"):
        noun = "reply matches" if shown.count.value == 1 and not shown.count.capped else "replies match"
        st.caption(f"{shown.count.label} {noun}.")
        if shown.count.pages() > 1:
            st.pagination(shown.count.pages(), key=PAGE)


def frame(rows: list[ReplyRow], zone: str) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "Received": pd.to_datetime([r.received_at for r in rows], utc=True).tz_convert(zone),
            "From": [r.sender_display for r in rows],
            "Text": [r.text for r in rows],
            "Consent": [KEYWORDS.get(r.keyword or "", "") for r in rows],
            "Contact": [r.contact_name or "" for r in rows],
            "Org. unit": [r.org_unit_name for r in rows],
            "Answers": [r.message_text or "" for r in rows],
            "SMS": [answered_link(r, zone) for r in rows],
            "Contact's SMS": [contact_link(r) for r in rows],
        }
    )


def answered_link(row: ReplyRow, zone: str) -> str | None:
    """The overview showing the SMS the reply answers: that number, that day, that unit."""
    if row.message_sent_on is None:
        return None
    day = pd.Timestamp(row.message_sent_on).tz_convert(zone).date()
    f = OverviewFilter(phone=row.sender, sent_from=day, sent_to=day, time_zone=zone, org_unit_ids={row.org_unit_id})
    return link_url(f)


def contact_link(row: ReplyRow) -> str | None:
    return link_url(OverviewFilter(contact_id=row.contact_id)) if row.contact_id else None
