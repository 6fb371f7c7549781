"""API keys of the HTTP API, for administrators (the administration page will take it over)."""

from __future__ import annotations

import streamlit as st

from pages._api_key_admin import show_api_keys
from pages._shared import current_actor

st.title("API keys")
st.caption(
    "Keys let the organisation's own systems send SMS through /api/v1. A key sends for one org. unit, "
    "with the same checks as Send SMS; the HTTP API page describes every endpoint."
)
show_api_keys(current_actor())
