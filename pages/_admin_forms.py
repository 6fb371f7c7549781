"""What the administration forms share: refusals shown at the field they name, kept in session
state between the click's callback and the run that draws the form."""

from __future__ import annotations

import streamlit as st

from sms_core.domain.errors import SmsError


def errors_key(form: str) -> str:
    return f"admin_errors_{form}"


def refuse(form: str, exc: SmsError, fields: set[str]) -> None:
    """Keep the refusal for the field it names (or for the form, when it names none of its fields)."""
    st.session_state[errors_key(form)] = {exc.field if exc.field in fields else "form": exc.message}


def clear(form: str) -> None:
    st.session_state.pop(errors_key(form), None)


def field_error(form: str, field: str) -> None:
    message = st.session_state.get(errors_key(form), {}).get(field)
    if message:
        st.error(message, icon=":material/error:")
