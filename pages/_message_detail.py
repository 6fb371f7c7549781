"""The selected message underneath the overview's table: its details, history, resend chain and
the Resend SMS button.

Kept apart from pages/overview.py so each can be read whole; the overview's live fragment calls
these on every tick, and they re-read a message only when its units' change version moved.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pandas as pd
import streamlit as st

from pages._shared import current_actor, database, plain, runtime
from sms_core.domain.errors import SmsError
from sms_core.domain.permissions import Actor
from sms_core.read_models.message_detail import MessageDetail, get_message_detail
from sms_core.storage.database import Database
from sms_core.use_cases.sending import resend_problem, resend_sms

SELECTED_KEY = "ov_selected"  # id of the message selected in the table
FOCUS_KEY = "ov_focus"  # id of a message opened from the selected one's details (original/resend)
DETAIL_KEY = "ov_detail"
REFRESH_KEY = "ov_refresh"
RESEND_OUTCOME_KEY = "ov_resend_outcome"


def shown_message_id() -> int | None:
    return st.session_state.get(FOCUS_KEY) or st.session_state.get(SELECTED_KEY)


def current_detail(db: Database, actor: Actor, version: object) -> MessageDetail | None:
    """The detail of the message shown underneath, read again only when something changed."""
    message_id = shown_message_id()
    if message_id is None:
        return None
    cached = st.session_state.get(DETAIL_KEY)
    if cached and cached[0] == (message_id, version):
        return cached[1]
    detail = get_message_detail(db, actor, message_id)
    st.session_state[DETAIL_KEY] = ((message_id, version), detail)
    return detail


def _resend(message_id: int) -> None:
    """Resend SMS, clicked: the outcome is shown by the run this click starts."""
    try:
        result = resend_sms(database(), current_actor(), message_id, gateway=runtime().gateway, config=runtime().config)
    except SmsError as exc:
        st.session_state[RESEND_OUTCOME_KEY] = (False, exc.message)
        return
    st.session_state[RESEND_OUTCOME_KEY] = (result.ok, result.summary)
    st.session_state[FOCUS_KEY] = None
    st.session_state[REFRESH_KEY] = True  # the new row now, not at the next change notice


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
        key="ov_resend",
        on_click=_resend,
        args=(detail.message.id,) if detail else (),
    )


def refresh() -> None:
    st.session_state[REFRESH_KEY] = True


def show_resend_outcome() -> None:
    outcome = st.session_state.pop(RESEND_OUTCOME_KEY, None)
    if outcome:
        ok, sentence = outcome
        st.toast(sentence, icon=":material/check_circle:" if ok else ":material/error:")


def _focus(message_id: int | None) -> None:
    st.session_state[FOCUS_KEY] = message_id


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
                key="ov_show_original",
            )
        if detail.resend_id:
            st.button(
                f"Show its resend (#{detail.resend_id})",
                on_click=_focus,
                args=(detail.resend_id,),
                icon=":material/redo:",
                key="ov_show_resend",
            )
        if st.session_state.get(FOCUS_KEY):
            st.button(
                "Back to the selected SMS", on_click=_focus, args=(None,), icon=":material/arrow_back:", key="ov_back"
            )


def draw_detail(detail: MessageDetail, zone: str) -> None:
    """Full text, the status in words with the next step, the history, and the resend chain."""
    m = detail.message
    local = ZoneInfo(zone)
    st.subheader(f"SMS #{m.id} to {m.phone_display or 'no phone number'}", anchor=False)
    facts = [f"Sent on {m.sent_on.astimezone(local):%Y-%m-%d %H:%M}", detail.org_unit_name]
    facts += [f"Contact: {detail.contact_name}"] if detail.contact_name else []
    facts += [f"{m.segments} SMS" + (" · Resent" if m.resent else "")]
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
        key="ov_history",
        column_config={"At": st.column_config.DatetimeColumn("At", format="YYYY-MM-DD HH:mm:ss")},
    )
