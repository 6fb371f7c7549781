"""What every page needs from the shell: the database, the signed-in user, and error display."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import streamlit as st

from sms_core.db import Database, get_database
from sms_core.errors import SmsError
from sms_core.permissions import Actor

ACTOR_KEY = "actor"


def database() -> Database:
    return get_database()


def current_actor() -> Actor:
    """The user app.py resolved for this run; pages are only reached through app.py."""
    actor = st.session_state.get(ACTOR_KEY)
    if actor is None:
        st.error("You are not signed in.")
        st.stop()
    return actor


def show_refusal(exc: SmsError) -> None:
    """A refusal is shown as its sentence, never as a traceback."""
    st.error(exc.message, icon=":material/block:")


def browser_zone() -> str:
    """The browser's time zone, in which times are shown and dates are read; UTC if unknown."""
    name = st.context.timezone or "UTC"
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return "UTC"
    return name


def local_time(at: datetime | None) -> str:
    """A stored UTC time in the browser's time zone."""
    if at is None:
        return ""
    return at.astimezone(ZoneInfo(browser_zone())).strftime("%Y-%m-%d %H:%M")
