"""The alert banner: the open incidents of the user's org units, at the top of the overview and
of Delivery rates, each with a link to the messages it is about.  One call per page, so the pages
that show it only name it."""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from pages._links import overview_link
from pages._shared import browser_zone, database, local_time, plain
from sms_core.domain.errors import SmsError
from sms_core.domain.permissions import Actor, Permission
from sms_core.read_models.alerts import IncidentView, open_incidents
from sms_core.read_models.overview import OverviewFilter

Apply = Callable[[OverviewFilter], None]

ALERTS_PAGE = "pages/alerts.py"
LINK_LABEL = "Show these messages"
SHOWN = 3  # more than this, and the banner names how many more there are on the Alerts page


def incident_line(incident: IncidentView) -> str:
    """One incident as the banner and the Alerts page say it (stored text, so through plain())."""
    return (
        f"**{incident.kind.label} in {plain(incident.unit_name)}** since {local_time(incident.opened_at)}: "
        f"{plain(incident.summary)}"
    )


def messages_link(incident: IncidentView, actor: Actor, key: str, apply: Apply | None = None) -> None:
    """A link to the incident's messages; on the overview itself (``apply``), a button that sets
    its filters instead."""
    if not actor.can(Permission.VIEW_SMS):
        return
    f = incident.messages_filter(browser_zone())
    if apply is None:
        with st.container(key=key):
            overview_link(LINK_LABEL, f, icon=":material/list:")
    else:
        st.button(LINK_LABEL, key=key, icon=":material/list:", type="tertiary", on_click=apply, args=(f,))


def alert_banner(actor: Actor, apply: Apply | None = None) -> None:
    """Nothing when all is well (or the database cannot say: the page shows that itself).
    ``apply``: the overview's way to show a filter's messages on itself."""
    try:
        incidents = open_incidents(database(), actor)
    except SmsError:
        return
    for incident in incidents[:SHOWN]:
        with st.container(border=True, key=f"alert_banner_{incident.id}"):
            st.error(incident_line(incident), icon=":material/notifications_active:")
            messages_link(incident, actor, f"alert_banner_link_{incident.id}", apply)
    more = len(incidents) - SHOWN
    if incidents and actor.can(Permission.VIEW_DELIVERY_REPORTS):
        label = f"{more} more open alerts" if more > 0 else "All alerts"
        st.page_link(ALERTS_PAGE, label=label, icon=":material/notifications:")
    elif more > 0:
        st.caption(f"{more} more open alerts.")
