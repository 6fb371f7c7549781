"""API keys for administrators: create one per org unit (its secrets shown once), revoke, see when
each was last used, and the status callbacks' delivery log with the last error.

In a private module with one entry point, ``show_api_keys``, which the administration page draws
as its API keys tab (keeping that page's file short).
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from pages._flash import flash, show_flash
from pages._shared import current_actor, database, local_time, plain, show_refusal
from sms_core.domain.errors import SmsError
from sms_core.domain.permissions import Actor
from sms_core.use_cases.accounts import units_of
from sms_core.use_cases.api_callbacks import callback_log
from sms_core.use_cases.api_keys import NewApiKey, create_api_key, list_api_keys, revoke_api_key

NEW_KEY = "api_key_just_created"  # the secrets, shown on the one run after creation, then dropped
PLACE = "api keys"


def _create() -> None:
    state = st.session_state
    try:
        made = create_api_key(
            database(),
            current_actor(),
            org_unit_id=state["api_key_unit"],
            name=state["api_key_name"],
            callback_url=state["api_key_callback"],
        )
    except SmsError as exc:  # what was typed stays in the fields
        flash("error", plain(exc.message), icon=":material/error:", place=PLACE)
        return
    state[NEW_KEY] = made
    state["api_key_name"], state["api_key_callback"] = "", ""


def _revoke(key_id: int) -> None:
    try:
        key = revoke_api_key(database(), current_actor(), key_id)
    except SmsError as exc:
        flash("error", plain(exc.message), icon=":material/error:", place=PLACE)
        return
    flash("success", plain(f"API key {key.name} ({key.prefix}) is revoked."), icon=":material/block:", place=PLACE)


def _show_new_key(made: NewApiKey) -> None:
    st.success(
        plain(f"API key {made.key.name} created for {made.key.org_unit_name}. Copy it now: it is not shown again."),
        icon=":material/key:",
    )
    st.code(made.secret, language=None)
    if made.key.callback_url:
        st.caption("The callback signing secret (verifies X-Sms-Signature), also shown only now:")
        st.code(made.callback_secret, language=None)


def _create_form(actor: Actor) -> None:
    units = units_of(database(), actor)
    with st.form("api_key_create", border=True):
        st.markdown("**New API key**")
        name, unit = st.columns(2)
        name.text_input("Name", key="api_key_name", placeholder="Booking system", max_chars=200)
        unit.selectbox(
            "Org. unit", [u.id for u in units], key="api_key_unit", format_func={u.id: u.name for u in units}.get
        )
        st.text_input(
            "Callback URL (optional)",
            key="api_key_callback",
            placeholder="https://booking.example.org/sms-status",
            help="Every status change of the key's messages is POSTed there, signed.",
        )
        st.form_submit_button("Create API key", type="primary", on_click=_create)


def _keys_table(actor: Actor) -> None:
    keys = list_api_keys(database(), actor)
    if not keys:
        st.info("No API keys yet.")
        return
    st.dataframe(
        pd.DataFrame(
            {
                "ID": [k.id for k in keys],
                "Name": [k.name for k in keys],
                "Org. unit": [k.org_unit_name for k in keys],
                "Prefix": [k.prefix for k in keys],
                "Callback URL": [k.callback_url or "" for k in keys],
                "Created": [local_time(k.created_at) for k in keys],
                "Last used": [local_time(k.last_used_at) or "Never" for k in keys],
                "State": ["Active" if k.active else f"Revoked {local_time(k.revoked_at)}" for k in keys],
            }
        ),
        hide_index=True,
        key="api_keys_table",
    )
    active = [k for k in keys if k.active]
    if active:
        choice, revoke = st.columns([3, 1], vertical_alignment="bottom")
        key_id = choice.selectbox(
            "Key to revoke",
            [k.id for k in active],
            format_func={k.id: f"{k.name} ({k.prefix}, {k.org_unit_name})" for k in active}.get,
            key="api_key_revoke_choice",
        )
        revoke.button("Revoke", icon=":material/block:", on_click=_revoke, args=(key_id,), key="api_key_revoke")


def _delivery_log(actor: Actor) -> None:
    st.subheader("Status callbacks", anchor=False)
    entries = callback_log(database(), actor)
    if not entries:
        st.caption("No status callbacks yet: they are sent for keys with a callback URL.")
        return
    st.dataframe(
        pd.DataFrame(
            {
                "Event": [e.id for e in entries],
                "SMS": [e.message_id for e in entries],
                "API key": [e.key_name for e in entries],
                "SMS status": [e.status for e in entries],
                "Changed": [local_time(e.created_at) for e in entries],
                "Attempts": [e.attempts for e in entries],
                "Delivery": [e.state for e in entries],
                "Next attempt": [local_time(e.next_attempt_at) for e in entries],
                "Last error": [e.last_error or "" for e in entries],
            }
        ),
        hide_index=True,
        key="api_callbacks_table",
    )


def show_api_keys(actor: Actor) -> None:
    made = st.session_state.pop(NEW_KEY, None)
    if made is not None:
        _show_new_key(made)
    show_flash(PLACE)
    try:
        _create_form(actor)
        _keys_table(actor)
        _delivery_log(actor)
    except SmsError as exc:
        show_refusal(exc)
