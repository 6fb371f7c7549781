"""The administration page's org units: the list, a form to add one, and the chosen unit's form
to rename, deactivate or reactivate it.  Its SMS sender is set on the SMS settings page."""

from __future__ import annotations

import streamlit as st

from pages._admin_forms import clear, field_error, refuse
from pages._flash import flash, show_flash
from pages._shared import current_actor, database, plain
from sms_core.domain.errors import SmsError
from sms_core.read_models.administration import UnitRow, list_units
from sms_core.use_cases.administration import add_unit, rename_unit, set_unit_active

SELECTED_KEY = "admin_unit_selected"


def units_tab() -> None:
    show_flash("units")
    units = list_units(database(), current_actor())
    rows = [{"Code": u.code, "Name": u.name, "Active users": u.users, "Active": u.active} for u in units]
    key = f"admin_units_table_{hash(tuple((u.id, u.name, u.active, u.users) for u in units))}"

    def chosen() -> None:
        picked = st.session_state[key].selection.rows
        if picked:
            st.session_state[SELECTED_KEY] = units[picked[0]].id
            st.session_state["admin_unit_rename"] = units[picked[0]].name
            clear("rename")

    st.dataframe(rows, hide_index=True, on_select=chosen, selection_mode="single-row", key=key, width="stretch")
    st.caption("A unit's representative and SMS sender are set on the SMS settings page.")
    selected = next((u for u in units if u.id == st.session_state.get(SELECTED_KEY)), None)
    if selected is not None:
        with st.container(border=True):
            unit_editor(selected)
    with st.expander("Add an org. unit", icon=":material/domain_add:", expanded=selected is None):
        with st.form("admin_unit_new", border=False):
            st.text_input("Code", key="admin_unit_code", max_chars=40, help="A short code, stored in capitals: OSL.")
            field_error("unit", "code")
            st.text_input("Name", key="admin_unit_name", max_chars=200)
            field_error("unit", "name")
            field_error("unit", "form")
            st.form_submit_button("Add org. unit", type="primary", on_click=save_new_unit)


def unit_editor(unit: UnitRow) -> None:
    st.subheader(f"{plain(unit.name)} ({plain(unit.code)})")
    if not unit.active:
        st.caption("Deactivated: it keeps its messages, cannot send, and is not offered for new users.")
    with st.form("admin_unit_edit", border=False):
        st.text_input("Name", key="admin_unit_rename", max_chars=200)
        field_error("rename", "name")
        st.form_submit_button("Rename", on_click=rename, args=(unit,))
    label, icon = ("Deactivate", ":material/toggle_off:") if unit.active else ("Reactivate", ":material/toggle_on:")
    st.button(label, icon=icon, key="admin_unit_toggle", on_click=toggle_unit, args=(unit,))


def save_new_unit() -> None:
    code, name = st.session_state.get("admin_unit_code", ""), st.session_state.get("admin_unit_name", "")
    try:
        add_unit(database(), current_actor(), code, name)
    except SmsError as exc:
        refuse("unit", exc, {"code", "name"})
        return
    clear("unit")
    st.session_state["admin_unit_code"] = st.session_state["admin_unit_name"] = ""
    flash("toast", f"{plain(code.strip().upper())} is added.", icon=":material/check_circle:", place="units")


def rename(unit: UnitRow) -> None:
    try:
        rename_unit(database(), current_actor(), unit.id, st.session_state.get("admin_unit_rename", ""))
    except SmsError as exc:
        refuse("rename", exc, {"name"})
        return
    clear("rename")
    flash("toast", f"{plain(unit.code)} is renamed.", icon=":material/check_circle:", place="units")


def toggle_unit(unit: UnitRow) -> None:
    set_unit_active(database(), current_actor(), unit.id, not unit.active)
    what = "deactivated" if unit.active else "active again"
    flash("toast", f"{plain(unit.code)} is {what}.", icon=":material/check_circle:", place="units")
