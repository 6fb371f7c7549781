"""The selected message underneath the overview's table: its details, history, replies, resend
chain and the Resend SMS button.

Kept apart from pages/overview.py so each can be read whole; the overview's live fragment calls
these on every tick, and they re-read a message only when its units' change version moved.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pandas as pd
import streamlit as st

from pages._flash import flash
from pages._overview_state import BACK, HISTORY, RESEND, SHOW_ORIGINAL, SHOW_RESEND, TABLE_PLACE, overview_state
from pages._shared import current_actor, database, plain, runtime
from sms_core.domain.errors import SmsError
from sms_core.domain.permissions import Actor
from sms_core.read_models.message_detail import MessageDetail, get_message_detail
from sms_core.storage.database import Database
from sms_core.storage.reply_models import OPT_IN, OPT_OUT
from sms_core.use_cases.resend_rules import resend_problem
from sms_core.use_cases.sending import resend_sms

REPLIES = "ov_replies"
KEYWORDS = {OPT_OUT: "Opt-out: consent withdrawn", OPT_IN: "Opt-in: consent registered"}


def current_detail(db: Database, actor: Actor, version: object) -> MessageDetail | None:
    """The detail of the message shown underneath, read again only when something changed."""
    state = overview_state()
    message_id = state.shown_message_id
    if message_id is None:
        return None
    if state.detail and state.detail[0] == (message_id, version):
        return state.detail[1]
    detail = get_message_detail(db, actor, message_id)
    state.detail = ((message_id, version), detail)
    return detail


def _resend(message_id: int) -> None:
    """Resend SMS, clicked: the outcome is shown by the run this click starts."""
    try:
        result = resend_sms(database(), current_actor(), message_id, gateway=runtime().gateway, config=runtime().config)
    except SmsError as exc:
        flash("error", plain(exc.message), icon=":material/error:", place=TABLE_PLACE)
        return
    # Above the table, in full and once: a toast would cut a long refusal and cover the controls.
    if result.ok:
        flash("success", plain(result.summary), icon=":material/check_circle:", place=TABLE_PLACE)
    else:
        flash("error", plain(result.summary), icon=":material/error:", place=TABLE_PLACE)
    state = overview_state()
    state.focus = None
    state.refresh = True  # the new row now, not at the next change notice


def resend_button(actor: Actor, detail: MessageDetail | None) -> None:
    if detail is None:
        problem = "Select an SMS in the list first."
    else:
        problem = resend_problem(actor, detail.message, already_resent=detail.resend_id)
    st.button(
        "Resend SMS",
        icon=":material/replay:",
        disabled=problem is not None,
        help=problem,
        key=RESEND,
        on_click=_resend,
        args=(detail.message.id,) if detail else (),
    )


def refresh() -> None:
    overview_state().refresh = True


def _focus(message_id: int | None) -> None:
    overview_state().focus = message_id


def draw_links(detail: MessageDetail) -> None:
    """The link to the original (for a resend) and to the resend (for a resent message)."""
    m = detail.message
    with st.container(horizontal=True):
        if m.original_id:
            st.button(
                f"Show the original SMS (#{m.original_id})",
                on_click=_focus,
                args=(m.original_id,),
                icon=":material/undo:",
                key=SHOW_ORIGINAL,
            )
        if detail.resend_id:
            st.button(
                f"Show its resend (#{detail.resend_id})",
                on_click=_focus,
                args=(detail.resend_id,),
                icon=":material/redo:",
                key=SHOW_RESEND,
            )
        if overview_state().focus:
            st.button("Back to the selected SMS", on_click=_focus, args=(None,), icon=":material/arrow_back:", key=BACK)


def draw_detail(detail: MessageDetail, zone: str) -> None:
    """Full text, the status in words with the next step, the history, and the resend chain."""
    m = detail.message
    local = ZoneInfo(zone)
    st.subheader(f"SMS #{m.id} to {m.phone_display or 'no phone number'}", anchor=False)
    facts = [f"Sent on {m.sent_on.astimezone(local):%Y-%m-%d %H:%M}", detail.org_unit_name]
    facts += [f"Contact: {detail.contact_name}"] if detail.contact_name else []
    facts += [f"Sent by: {detail.sent_by}"] if detail.sent_by else []
    facts += [f"{m.segments} SMS" + (" · Resent" if m.resent else "")]
    facts += [f"{len(detail.replies)} {'reply' if len(detail.replies) == 1 else 'replies'}"] if detail.replies else []
    if m.anonymised_at is not None:
        facts += [f"Text and number removed after the retention period on {m.anonymised_at.astimezone(local):%Y-%m-%d}"]
    st.caption(plain(" · ".join(facts)))
    text, status = st.columns([3, 2])
    with text.container(border=True):
        st.markdown(plain(m.text))
    with status:
        st.markdown(f"**SMS status: {m.status.label}**  \n{m.status.explanation}")
        st.markdown(f"**Next step:** {m.status.next_step}")
        if m.gateway_error:
            st.caption(f"The SMS gateway said: {plain(m.gateway_error)}")
    draw_links(detail)
    history = pd.DataFrame(
        {
            "At": pd.to_datetime([h.at for h in detail.history], utc=True).tz_convert(zone),
            "SMS status": [h.status.label for h in detail.history],
            "Source": [h.source for h in detail.history],
            "Detail": [h.detail or "" for h in detail.history],
        }
    )
    st.markdown("**History**")
    st.dataframe(
        history,
        hide_index=True,
        key=HISTORY,
        column_config={"At": st.column_config.DatetimeColumn("At", format="YYYY-MM-DD HH:mm:ss")},
    )
    draw_replies(detail, zone)


def draw_replies(detail: MessageDetail, zone: str) -> None:
    """What the recipient answered, oldest first (a STOP among them withdrew consent)."""
    if not detail.replies:
        return
    replies = pd.DataFrame(
        {
            "Received": pd.to_datetime([r.received_at for r in detail.replies], utc=True).tz_convert(zone),
            "From": [r.sender_display for r in detail.replies],
            "Reply": [r.text for r in detail.replies],
            "Consent": [KEYWORDS.get(r.keyword or "", "") for r in detail.replies],
        }
    )
    st.markdown("**Replies**")
    st.dataframe(
        replies,
        hide_index=True,
        key=REPLIES,
        column_config={"Received": st.column_config.DatetimeColumn("Received", format="YYYY-MM-DD HH:mm:ss")},
    )
