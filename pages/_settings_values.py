"""The settings page's values: one input per setting, of the kind its definition says, by section.

A switch is written the moment it is clicked; the other kinds when the field is left or Enter is
pressed.  What was typed stays in the field when the service refuses it, with the reason under it,
so nothing typed is lost; otherwise each run shows what is stored, also when someone else changed it.
"""

from __future__ import annotations

from datetime import datetime
from itertools import groupby
from zoneinfo import available_timezones

import streamlit as st

from pages._flash import flash, show_flash
from pages._shared import current_actor, database, plain
from sms_core.domain.errors import SmsError
from sms_core.domain.permissions import Actor
from sms_core.use_cases.settings import (
    SENDING_ENABLED,
    SettingState,
    change_setting,
    recent_setting_changes,
    setting_states,
)


def when(at: datetime) -> str:
    return f"{at:%d %b %Y %H:%M} UTC"


def _place(key: str) -> str:
    return f"setting {key}"


def _refused(key: str) -> str:
    return f"setting_refused_{key}"


def _changed_by(state: SettingState) -> str:
    if state.updated_by is None or state.updated_at is None:
        return "Not changed since installation."
    return f"Last changed by {state.updated_by} on {when(state.updated_at)}."


def _widget_value(state: SettingState) -> object:
    if state.definition.kind == "words":
        return state.definition.describe(state.value) if state.value else ""
    return state.value


def _write(key: str) -> None:
    """on_change: only a real edit writes, never a rerun of a stale page — and as the user is now
    (``current_actor``), not as the last run found them."""
    try:
        change_setting(database(), current_actor(), key, st.session_state[f"setting_{key}"])
    except SmsError as exc:
        st.session_state[_refused(key)] = True
        flash("error", plain(exc.message), icon=":material/block:", place=_place(key))
    else:
        st.session_state.pop(_refused(key), None)


def _show_one(actor: Actor, state: SettingState) -> None:
    definition, widget = state.definition, f"setting_{state.key}"
    if not st.session_state.get(_refused(state.key)):
        st.session_state[widget] = _widget_value(state)
    common = {"key": widget, "help": definition.help, "on_change": _write, "args": (state.key,)}
    if definition.kind == "switch":
        st.toggle(definition.label, **common)
    elif definition.kind == "number":
        st.number_input(definition.label, min_value=definition.minimum, max_value=definition.maximum, step=1, **common)
    elif definition.kind == "time_zone":
        zones = sorted(available_timezones() | {str(state.value)})
        st.selectbox(definition.label, zones, **common)
    elif definition.kind == "words":
        st.text_input(definition.label, max_chars=definition.max_length, **common)
    else:
        st.text_area(definition.label, max_chars=definition.max_length, height=80, **common)
    show_flash(_place(state.key))
    st.caption(plain(_changed_by(state)))
    if state.key == SENDING_ENABLED and not state.value:
        st.warning(
            "SMS sending is off: nothing goes to the gateway, and every new attempt is recorded "
            "as “Sending SMS is not allowed”.",
            icon=":material/pause_circle:",
        )


def show_setting_values(actor: Actor) -> None:
    """Every setting under its section's heading, then the history of changes."""
    for section, states in groupby(setting_states(database(), actor), key=lambda s: s.definition.section):
        st.subheader(section)
        for state in states:
            _show_one(actor, state)
    with st.expander("History of changes"):
        rows = [
            {
                "Changed": when(c.changed_at),
                "By": c.changed_by or "(installation)",
                "Setting": c.label,
                "From": c.describe(c.old_value),
                "To": c.describe(c.new_value),
            }
            for c in recent_setting_changes(database(), actor)
        ]
        if rows:
            st.dataframe(rows, hide_index=True)
        else:
            st.caption("No changes yet.")
