"""Adding and editing contacts on the Contacts page (holders of "manage users, org units and
contacts"), and a contact's history for everyone who may see it.  Numbers are checked as in the
Send SMS dialog; a refusal is shown at its field and what was typed stays in the form."""

from __future__ import annotations

import streamlit as st

from pages._admin_forms import clear, field_error, refuse
from pages._flash import flash
from pages._shared import current_actor, database, local_time, plain, runtime
from sms_core.domain.errors import SmsError
from sms_core.read_models.administration import list_audit
from sms_core.read_models.contacts import ContactView
from sms_core.use_cases.contacts_admin import (
    ContactInput,
    PhoneInput,
    add_contact,
    add_phone,
    relabel_phone,
    update_contact,
)

CONTACT_FIELDS = {"name", "email", "external_id"}
PHONE_FIELDS = {"phone", "label", "consent_source"}


def contact_fields(prefix: str, form: str) -> None:
    st.text_input("Name", key=f"{prefix}_name", max_chars=200)
    field_error(form, "name")
    st.text_input("E-mail", key=f"{prefix}_email", max_chars=200)
    field_error(form, "email")
    st.text_input(
        "External id", key=f"{prefix}_external_id", max_chars=100, help="Your own id of this contact, if any."
    )
    field_error(form, "external_id")


def phone_fields(prefix: str, form: str) -> None:
    number, label = st.columns([3, 2])
    with number:
        st.text_input("Phone number", key=f"{prefix}_phone", placeholder="+47 912 34 567")
        field_error(form, "phone")
    with label:
        st.text_input("Label", key=f"{prefix}_label", placeholder="Mobile", max_chars=40)
        field_error(form, "label")
    st.checkbox("Consent to SMS is given", key=f"{prefix}_consent")
    st.text_input("Consent source", key=f"{prefix}_source", placeholder="Signed form, phone call …")
    field_error(form, "consent_source")


def new_contact_form() -> None:
    with st.form("contact_new", border=False):
        contact_fields("contact_new", "contact_new")
        phone_fields("contact_new", "contact_new")
        field_error("contact_new", "form")
        st.form_submit_button("Add contact", type="primary", on_click=save_new_contact)


def _contact_input(prefix: str) -> ContactInput:
    s = st.session_state
    return ContactInput(s.get(f"{prefix}_name", ""), s.get(f"{prefix}_email", ""), s.get(f"{prefix}_external_id", ""))


def _phone_input(prefix: str) -> PhoneInput:
    s = st.session_state
    return PhoneInput(
        s.get(f"{prefix}_phone", ""),
        s.get(f"{prefix}_label", ""),
        bool(s.get(f"{prefix}_consent")),
        s.get(f"{prefix}_source", ""),
    )


def save_new_contact() -> None:
    typed = _phone_input("contact_new")
    phones = [typed] if typed.number.strip() else []
    try:
        contact_id = add_contact(
            database(), current_actor(), _contact_input("contact_new"), phones, runtime().config.default_region
        )
    except SmsError as exc:
        refuse("contact_new", exc, CONTACT_FIELDS | PHONE_FIELDS)
        return
    clear("contact_new")
    name = " ".join(st.session_state.get("contact_new_name", "").split())
    for field in ("name", "email", "external_id", "phone", "label", "source"):
        st.session_state[f"contact_new_{field}"] = ""
    st.session_state["contact_new_consent"] = False
    st.session_state["contacts_selected"] = contact_id
    st.session_state["contacts_query"] = name  # so that the new contact is in the list, chosen
    flash("toast", f"{plain(name)} is added.", icon=":material/check_circle:")


def edit_contact(contact: ContactView) -> None:
    """The chosen contact's fields and labels, and a form to add a number."""
    prefix = f"contact_edit_{contact.id}"
    if f"{prefix}_name" not in st.session_state:
        st.session_state[f"{prefix}_name"] = contact.name
        st.session_state[f"{prefix}_email"] = contact.email or ""
        st.session_state[f"{prefix}_external_id"] = contact.external_id or ""
    with st.expander("Edit contact", icon=":material/edit:"):
        with st.form(prefix, border=False):
            contact_fields(prefix, prefix)
            for phone in contact.phones:
                st.text_input(
                    f"Label of {plain(phone.international)}", value=phone.label, key=f"{prefix}_label_{phone.id}"
                )
            field_error(prefix, "label")
            field_error(prefix, "form")
            st.form_submit_button("Save contact", type="primary", on_click=save_contact, args=(contact,))
    with st.expander("Add a number", icon=":material/add_call:"):
        with st.form(f"{prefix}_phone", border=False):
            phone_fields(f"{prefix}_new", f"{prefix}_new")
            field_error(f"{prefix}_new", "form")
            st.form_submit_button("Add number", type="primary", on_click=save_phone, args=(contact,))


def save_contact(contact: ContactView) -> None:
    prefix = f"contact_edit_{contact.id}"
    db, actor = database(), current_actor()
    try:
        update_contact(db, actor, contact.id, _contact_input(prefix))
        for phone in contact.phones:
            relabel_phone(db, actor, phone.id, st.session_state.get(f"{prefix}_label_{phone.id}", phone.label))
    except SmsError as exc:
        refuse(prefix, exc, CONTACT_FIELDS | {"label"})
        return
    clear(prefix)
    flash("toast", "The contact is saved.", icon=":material/check_circle:")


def save_phone(contact: ContactView) -> None:
    prefix = f"contact_edit_{contact.id}_new"
    try:
        add_phone(database(), current_actor(), contact.id, _phone_input(prefix), runtime().config.default_region)
    except SmsError as exc:
        refuse(prefix, exc, PHONE_FIELDS)
        return
    clear(prefix)
    for field in ("phone", "label", "source"):
        st.session_state[f"{prefix}_{field}"] = ""
    st.session_state[f"{prefix}_consent"] = False
    flash("toast", "The number is added.", icon=":material/check_circle:")


def contact_history(contact: ContactView) -> None:
    lines = list_audit(database(), current_actor(), "contact", contact.id)
    if not lines:
        return
    with st.expander("History", icon=":material/history:"):
        rows = [
            {
                "When": local_time(line.at),
                "Who": line.who,
                "Change": line.action,
                "Before → after": "; ".join(f"{f}: {old or '—'} → {new or '—'}" for f, old, new in line.changes),
            }
            for line in lines
        ]
        st.dataframe(rows, hide_index=True, width="stretch")
