"""Administration (holders of "manage users, org units and contacts"): users, org units, the HTTP
API's keys (issue 14: administrators create keys per org unit here, so keys are administration)
and the audit trail of every change made to users, units and contacts.  Every write goes through
a sms_core use case that checks the permission itself; this page only draws and calls."""

from __future__ import annotations

import streamlit as st

from pages._admin_units import units_tab
from pages._admin_users import users_tab
from pages._api_key_admin import show_api_keys
from pages._shared import current_actor, database, local_time, show_refusal
from sms_core.domain.errors import SmsError
from sms_core.read_models.administration import AuditLine, list_audit

KINDS = {"All changes": None, "Users": "user", "Org. units": "org_unit", "Contacts": "contact"}


def audit_tab() -> None:
    kind = st.segmented_control("Show", list(KINDS), default="All changes", key="admin_audit_kind")
    lines = list_audit(database(), current_actor(), KINDS.get(kind or "All changes"))
    if not lines:
        st.info("Nothing has been changed yet.")
        return
    st.dataframe([audit_row(line) for line in lines], hide_index=True, width="stretch")
    st.caption(f"The newest {len(lines)} changes.")


def api_keys_tab() -> None:
    st.caption(
        "Keys let the organisation's own systems send SMS through /api/v1. A key sends for one org. unit, "
        "with the same checks as Send SMS; the HTTP API page describes every endpoint."
    )
    show_api_keys(current_actor())


def audit_row(line: AuditLine) -> dict:
    return {
        "When": local_time(line.at),
        "Who": line.who,
        "What": f"{line.entity.capitalize()} {line.subject}",
        "Change": line.action,
        "Before → after": "; ".join(f"{field}: {show(old)} → {show(new)}" for field, old, new in line.changes),
    }


def show(value) -> str:
    if value is None:
        return "—"
    return ", ".join(map(str, value)) if isinstance(value, list) else str(value)


st.title("Administration")
try:
    users, units, keys, audit = st.tabs(["Users", "Org. units", "API keys", "Audit trail"])
    with users:
        users_tab()
    with units:
        units_tab()
    with keys:
        api_keys_tab()
    with audit:
        audit_tab()
except SmsError as exc:
    show_refusal(exc)
