"""Alerts: the incidents the worker's alert rules opened in the user's units — the open ones
first, each with its figures and a link to its messages, then the past ones — and, for
administrators, each unit's rules."""

from __future__ import annotations

import streamlit as st

from pages._alert_rules import rule_editor
from pages._alerts_banner import incident_line, messages_link
from pages._shared import current_actor, database, local_time, plain, show_refusal
from sms_core.domain.errors import SmsError
from sms_core.domain.permissions import Permission
from sms_core.read_models.alerts import MailStatus, incident_history, mail_status


def show_open(incidents, actor) -> None:
    st.subheader("Open")
    if not incidents:
        st.success("No open alerts in your org. units.", icon=":material/check_circle:")
        return
    for incident in incidents:
        with st.container(border=True, key=f"alert_open_{incident.id}"):
            st.error(incident_line(incident), icon=":material/notifications_active:")
            st.caption(
                f"Last checked {local_time(incident.updated_at)}; at its worst {incident.peak_affected:,} messages."
            )
            messages_link(incident, actor, f"alert_open_link_{incident.id}")


def show_past(incidents) -> None:
    st.subheader("Past")
    if not incidents:
        st.caption("No alert has been resolved yet.")
        return
    st.dataframe(
        [
            {
                "Alert": i.kind.label,
                "Org. unit": i.unit_name,
                "Opened": local_time(i.opened_at),
                "Resolved": local_time(i.resolved_at),
                "At its worst": i.peak_affected,
                "Last figures": i.summary,
            }
            for i in incidents
        ],
        hide_index=True,
        width="stretch",
        key="alerts_past",
    )


def show_mail_status(status: MailStatus) -> None:
    if not status.waiting:
        st.caption("Every alert mail has been sent.")
        return
    why = f" The mail server: {plain(status.last_error)}" if status.last_error else ""
    waits = "alert mail waits" if status.waiting == 1 else "alert mails wait"
    st.warning(f"{status.waiting:,} {waits} in the outbox.{why}", icon=":material/outgoing_mail:")


actor = current_actor()
st.title("Alerts")
try:
    current, past = incident_history(database(), actor)
    show_open(current, actor)
    show_past(past)
    if actor.can(Permission.MANAGE_SETTINGS):
        show_mail_status(mail_status(database(), actor))
        rule_editor(actor)
except SmsError as exc:
    show_refusal(exc)
