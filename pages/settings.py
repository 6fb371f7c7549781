"""SMS settings for administrators: the settings by section, each unit's SMS sender, the gateway's health.

Changes go through ``sms_core`` (which checks the permission and keeps the audit trail); the
sender fields are validated as they are typed, in a fragment so typing reruns only that part.
"""

from __future__ import annotations

from datetime import UTC, datetime

import streamlit as st

from pages._flash import flash, show_flash
from pages._links import overview_link
from pages._settings_values import show_setting_values, when
from pages._shared import current_actor, database, plain, runtime, show_refusal
from sms_core.domain.errors import SmsError
from sms_core.domain.permissions import Actor, Permission
from sms_core.domain.statuses import PENDING
from sms_core.read_models.overview import OverviewFilter
from sms_core.use_cases.org_units import UnitSender, configuration_problem, list_unit_senders, update_unit_sender
from sms_core.use_cases.settings import gateway_status


def _ago(at: datetime) -> str:
    """How long ago, in the largest whole unit: what an administrator checking the gateway wants."""
    seconds = max(0, int((datetime.now(UTC) - at).total_seconds()))
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size:
            n = seconds // size
            return f"{n} {unit}{'s' if n > 1 else ''} ago"
    return "Just now"


def sender_place(unit_id: int) -> str:
    return f"sender of unit {unit_id}"


def _save_sender(unit_id: int) -> None:
    """on_click of Save: runs before the fragment redraws, so the field can show the stored form."""
    representative, sender = st.session_state[f"rep_{unit_id}"], st.session_state[f"sender_{unit_id}"]
    try:
        region = runtime().config.default_region
        saved = update_unit_sender(database(), current_actor(), unit_id, representative, sender, region)
    except SmsError as exc:
        flash("error", plain(exc.message), place=sender_place(unit_id))
        return
    st.session_state[f"rep_{unit_id}"] = saved.representative_name
    st.session_state[f"sender_{unit_id}"] = saved.sms_sender
    flash("success", plain(f"Saved: {saved.name} now sends as {saved.sms_sender}."), place=sender_place(unit_id))


def show_unit(actor: Actor, unit: UnitSender) -> None:
    rep_key, sender_key = f"rep_{unit.id}", f"sender_{unit.id}"
    st.session_state.setdefault(rep_key, unit.representative_name or "")
    st.session_state.setdefault(sender_key, unit.sms_sender or "")
    widths = [2, 2, 2, 1]
    with st.container(border=True):
        name, rep, sender, save = st.columns(widths, vertical_alignment="bottom")
        badge = (
            ":red-badge[:material/error: Cannot send]" if unit.problem else ":green-badge[:material/check: Can send]"
        )
        name.markdown(f"**{plain(unit.name)}** ({plain(unit.code)})  \n{badge}")
        typed_rep = rep.text_input("Representative", key=rep_key, live=True)
        typed_sender = sender.text_input(
            "SMS sender", key=sender_key, live=True, help="For example OsloHelse or +4791500100."
        )
        refusal = configuration_problem(typed_rep, typed_sender, runtime().config.default_region)
        unchanged = (typed_rep.strip(), typed_sender.strip()) == (unit.representative_name or "", unit.sms_sender or "")
        save.button(
            "Save",
            key=f"save_{unit.id}",
            on_click=_save_sender,
            args=(unit.id,),
            disabled=refusal is not None or unchanged,
            type="primary",
        )
        if refusal is not None:  # right under the field it concerns
            _, rep_note, sender_note, _ = st.columns(widths)
            note = rep_note if refusal.field == "representative_name" else sender_note
            note.error(refusal.message, icon=":material/error:")
        show_flash(sender_place(unit.id))


@st.fragment
def show_unit_senders() -> None:
    """In a fragment, so it reads the user again itself: its own reruns do not run the page."""
    actor = current_actor()
    st.subheader("Org. unit SMS senders")
    st.caption(
        "The representative's SMS sender is what recipients see as “from”: a name of at most 11 characters "
        "with at least one letter, or a valid phone number. A unit that cannot send records its attempts "
        "as “Invalid representative for unit”; those units are listed first."
    )
    try:
        units = list_unit_senders(database(), actor)
    except SmsError as exc:
        show_refusal(exc)
        return
    for unit in units:
        show_unit(actor, unit)


@st.fragment
def show_gateway() -> None:
    """In a fragment: asking the gateway may take seconds, and "Check again" repeats only this."""
    actor = current_actor()
    st.subheader("Gateway status")
    status = gateway_status(database(), actor, lambda: runtime().gateway, runtime().config.gateway)
    gateway, answers, last, waiting = st.columns(4)
    gateway.metric("Configured gateway", status.name, border=True)
    answers.metric("Answers", "No" if status.problem else "Yes", border=True)
    reported = status.last_delivery_report_at
    last.metric(
        "Last delivery report",
        _ago(reported) if reported else "None yet",
        border=True,
        help=when(reported) if reported else "No delivery report has arrived for your units.",
    )
    pending = [s.label for s in sorted(PENDING)]
    waiting.metric(
        "Waiting for a final status",
        f"{status.waiting_for_final_status:,}",
        border=True,
        help=f"Messages of your org. units with the status {', '.join(pending)}.",
    )
    if status.problem:
        st.error(status.problem, icon=":material/cloud_off:")
    else:
        st.success("The gateway answers.", icon=":material/cloud_done:")
    if actor.can(Permission.VIEW_SMS) and status.waiting_for_final_status:
        overview_link(
            "Show the waiting messages", OverviewFilter(statuses=PENDING, org_unit_ids=None), icon=":material/list:"
        )
    st.button("Check again", key="gateway_check", icon=":material/refresh:")


actor = current_actor()
st.title("SMS settings")
try:
    show_setting_values(actor)
except SmsError as exc:
    show_refusal(exc)
    st.stop()
st.divider()
show_unit_senders()
st.divider()
show_gateway()
