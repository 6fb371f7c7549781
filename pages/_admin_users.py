"""The administration page's users: the list, a form to add one, and the chosen one's form to
edit, deactivate or reactivate (never delete: their sent messages keep their name)."""

from __future__ import annotations

import streamlit as st

from pages._admin_forms import clear, field_error, refuse
from pages._flash import flash, show_flash
from pages._shared import current_actor, database, plain
from sms_core.domain.errors import SmsError
from sms_core.read_models.administration import UserRow, list_roles, list_units, list_users
from sms_core.use_cases.administration import UserInput, add_user, set_user_active, update_user

FIELDS = {"name", "email", "role", "units"}
SELECTED_KEY = "admin_user_selected"


def users_tab() -> None:
    db, actor = database(), current_actor()
    show_flash("users")
    users = list_users(db, actor)
    units = list_units(db, actor)
    names = {u.id: f"{u.name} ({u.code})" for u in units}
    roles = dict(list_roles(db))
    rows = [
        {
            "Name": u.name,
            "E-mail": u.email or "",
            "Role": u.role_label,
            "Org. units": ", ".join(u.unit_codes),
            "Active": u.active,
        }
        for u in users
    ]
    key = f"admin_users_table_{hash(tuple(rows_key(u) for u in users))}"

    def chosen() -> None:
        picked = st.session_state[key].selection.rows
        if picked:
            select_user(users[picked[0]])

    st.dataframe(rows, hide_index=True, on_select=chosen, selection_mode="single-row", key=key, width="stretch")
    active_units = [u.id for u in units if u.active]
    selected = next((u for u in users if u.id == st.session_state.get(SELECTED_KEY)), None)
    if selected is not None:
        with st.container(border=True):
            edit_form(selected, roles, names, active_units)
    with st.expander("Add a user", icon=":material/person_add:", expanded=selected is None):
        user_form("new", roles, names, active_units, None)


def rows_key(u: UserRow) -> tuple:
    return (u.id, u.name, u.email, u.role, u.unit_codes, u.active)


def select_user(user: UserRow) -> None:
    st.session_state[SELECTED_KEY] = user.id
    st.session_state["admin_user_edit_name"] = user.name
    st.session_state["admin_user_edit_email"] = user.email or ""
    st.session_state["admin_user_edit_role"] = user.role
    st.session_state["admin_user_edit_units"] = list(user.unit_ids)
    clear("edit")


def user_form(form: str, roles: dict, names: dict, offered: list[int], user: UserRow | None) -> None:
    """The fields of a user; a new user may only be given active units, an edited one keeps theirs."""
    prefix = f"admin_user_{form}"
    with st.form(prefix, border=False):
        st.text_input("Name", key=f"{prefix}_name", max_chars=200)
        field_error(form, "name")
        st.text_input("E-mail", key=f"{prefix}_email", max_chars=200, help="The address they sign in with.")
        field_error(form, "email")
        st.selectbox("Role", list(roles), key=f"{prefix}_role", format_func=roles.get)
        field_error(form, "role")
        kept = [u for u in (user.unit_ids if user else ()) if u not in offered]
        st.multiselect(
            "Org. units",
            [*offered, *kept],
            key=f"{prefix}_units",
            format_func=lambda u: names.get(u, str(u)),
            help="They see the messages of these units, and send from them.",
        )
        field_error(form, "units")
        field_error(form, "form")
        label = "Add user" if user is None else "Save"
        st.form_submit_button(label, type="primary", on_click=save_user, args=(form, user))


def edit_form(user: UserRow, roles: dict, names: dict, offered: list[int]) -> None:
    st.subheader(f"Edit {plain(user.name)}")
    st.caption(plain(f"Username {user.username}" + ("" if user.active else " · deactivated")))
    user_form("edit", roles, names, offered, user)
    label, icon = ("Deactivate", ":material/person_off:") if user.active else ("Reactivate", ":material/person:")
    st.button(label, icon=icon, key="admin_user_toggle", on_click=toggle_user, args=(user,))
    field_error("toggle", "form")


def save_user(form: str, user: UserRow | None) -> None:
    prefix = f"admin_user_{form}"
    data = UserInput(
        st.session_state.get(f"{prefix}_name", ""),
        st.session_state.get(f"{prefix}_email", ""),
        st.session_state.get(f"{prefix}_role") or "",
        tuple(st.session_state.get(f"{prefix}_units") or ()),
    )
    try:
        if user is None:
            add_user(database(), current_actor(), data)
        else:
            update_user(database(), current_actor(), user.id, data)
    except SmsError as exc:
        refuse(form, exc, FIELDS)
        return
    clear(form)
    if user is None:
        for field in ("name", "email"):
            st.session_state[f"{prefix}_{field}"] = ""
        st.session_state[f"{prefix}_units"] = []
    done = "added" if user is None else "saved"
    flash("toast", f"{plain(' '.join(data.name.split()))} is {done}.", icon=":material/check_circle:", place="users")


def toggle_user(user: UserRow) -> None:
    try:
        set_user_active(database(), current_actor(), user.id, not user.active)
    except SmsError as exc:
        refuse("toggle", exc, set())
        return
    clear("toggle")
    what = "deactivated" if user.active else "active again"
    flash("toast", f"{plain(user.name)} is {what}.", icon=":material/check_circle:", place="users")
