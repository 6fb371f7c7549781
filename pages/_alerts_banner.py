"""The alert banner: the open incidents of the user's org units, at the top of the overview and
of Delivery rates, each with a link to the messages it is about.  One call per page, so the pages
that show it only name it."""

from __future__ import annotations

import streamlit as st

from pages._links import overview_link
from pages._shared import browser_zone, database, local_time, plain
from sms_core.domain.errors import SmsError
from sms_core.domain.permissions import Actor, Permission
from sms_core.read_models.alerts import IncidentView, open_incidents

ALERTS_PAGE = "pages/alerts.py"
SHOWN = 3  # more than this, and the banner names how many more there are on the Alerts page


def incident_line(incident: IncidentView) -> str:
    """One incident as the banner and the Alerts page say it (stored text, so through plain())."""
    return (
        f"**{incident.kind.label} in {plain(incident.unit_name)}** since {local_time(incident.opened_at)}: "
        f"{plain(incident.summary)}"
    )


def messages_link(incident: IncidentView, actor: Actor, key: str) -> None:
    if actor.can(Permission.VIEW_SMS):
        with st.container(key=key):
            overview_link("Show these messages", incident.messages_filter(browser_zone()), icon=":material/list:")


def alert_banner(actor: Actor) -> None:
    """Nothing when all is well (or the database cannot say: the page shows that itself)."""
    try:
        incidents = open_incidents(database(), actor)
    except SmsError:
        return
    for incident in incidents[:SHOWN]:
        with st.container(border=True, key=f"alert_banner_{incident.id}"):
            st.error(incident_line(incident), icon=":material/notifications_active:")
            messages_link(incident, actor, key=f"alert_banner_link_{incident.id}")
    more = len(incidents) - SHOWN
    if incidents and actor.can(Permission.VIEW_DELIVERY_REPORTS):
        label = f"{more} more open alerts" if more > 0 else "All alerts"
        st.page_link(ALERTS_PAGE, label=label, icon=":material/notifications:")
    elif more > 0:
        st.caption(f"{more} more open alerts.")
