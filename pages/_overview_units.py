"""The overview's org. unit filter: the units it offers, and its value as the URL holds it.

The filter shows names, but its value is what the URL holds: ``all``, an id, or several ids
joined by commas (a link from delivery rates may name a few of the user's units).  The Replies
page offers the same choices.
"""

from __future__ import annotations

import streamlit as st

from pages._overview_state import UNIT, overview_state
from sms_core.domain.permissions import Actor
from sms_core.read_models.overview_link import ALL_UNITS, default_filter


def unit_choice(unit_ids: frozenset[int] | None) -> str:
    return ALL_UNITS if unit_ids is None else ",".join(str(u) for u in sorted(unit_ids))


def unit_ids(choice: str) -> frozenset[int] | None:
    """The widget's choice as the filter's units: None means all my units."""
    return None if choice == ALL_UNITS else frozenset(int(v) for v in choice.split(","))


def unit_options(names: dict[str, str], value: str) -> dict[str, str]:
    """The unit choices and their names: all my units, each unit, and the several units a link
    asked for, while that choice is the one shown."""
    options = {ALL_UNITS: "All my units", **names}
    if "," in value and all(v in names for v in value.split(",")):
        options[value] = " + ".join(names[v] for v in value.split(","))
    return options


def prepare_unit_filter(actor: Actor, names: dict[str, str]) -> dict[str, str]:
    """Follow the current unit while the filter still shows the old one; fall back to the default
    when the choice is no longer the user's (another demo user signed in)."""
    state, default = overview_state(), unit_choice(default_filter(actor).org_unit_ids)
    seen, now = state.current_unit, actor.current_org_unit_id
    if seen is not None and seen != now and st.session_state.get(UNIT) == str(seen):
        st.session_state[UNIT] = default
    state.current_unit = now
    options = unit_options(names, st.session_state.get(UNIT, default))
    if st.session_state.get(UNIT, default) not in options:
        st.session_state[UNIT] = default
    return options
