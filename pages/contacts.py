"""Contacts: find a contact by name or number, see each number's SMS consent (registered when, by
whom, from what source; withdrawn when), register or withdraw it, send an SMS, and open the SMS
overview in the contact's context.  Consent is per number, so the actions sit on each number.
Holders of "manage users, org units and contacts" also add, edit and import contacts here.
"""

from __future__ import annotations

from dataclasses import replace

import streamlit as st

from pages._contacts_edit import contact_history, edit_contact, new_contact_form
from pages._contacts_import import import_panel
from pages._flash import flash, show_flash
from pages._links import overview_link
from pages._shared import current_actor, database, local_time, plain, runtime, show_refusal
from pages.send_dialog import send_sms_dialog
from sms_core.domain.errors import SmsError
from sms_core.domain.permissions import Permission
from sms_core.read_models.contacts import ContactView, PhoneView, get_contact, search_contacts
from sms_core.read_models.overview_link import default_filter
from sms_core.use_cases.consent import register_consent, withdraw_consent

SELECTED_KEY = "contacts_selected"


def consent_sentence(phone: PhoneView) -> str:
    c = phone.consent
    if c.registered_at is None:
        return "Consent is not registered."
    registered = f"Registered {local_time(c.registered_at)}" + (f" by {c.registered_by}" if c.registered_by else "")
    registered += f" ({c.source})" if c.source else ""
    if c.withdrawn_at is None:
        return registered + "."
    withdrawn = f"Withdrawn {local_time(c.withdrawn_at)}" + (f" by {c.withdrawn_by}" if c.withdrawn_by else "")
    withdrawn += f" ({c.withdrawn_source})" if c.withdrawn_source else ""
    return f"{withdrawn}. {registered}."


def search() -> int | None:
    """The search box and the result list; returns the chosen contact's id."""
    query = st.text_input(
        "Search by name or number", key="contacts_query", placeholder="A name, or (part of) a phone number"
    )
    hits = search_contacts(db, actor, query, region=runtime().config.default_region)
    if not hits:
        st.info("No contact matches this search. Check the spelling, or search for part of the number.")
        return None
    rows = [{"Name": h.name, "Phone numbers": ", ".join(h.numbers)} for h in hits]
    event = st.dataframe(
        rows,
        hide_index=True,
        on_select="rerun",
        selection_mode="single-row",
        key=f"contacts_table_{query.strip().lower()}",
        width="stretch",
        height=min(38 + 35 * len(rows), 320),
    )
    st.caption(f"The first {len(hits)} contacts by name." if len(hits) >= 50 else f"{len(hits)} contacts.")
    selected = event.selection.rows if event else []
    if selected:
        st.session_state[SELECTED_KEY] = hits[selected[0]].id
    ids = {h.id for h in hits}
    return st.session_state.get(SELECTED_KEY) if st.session_state.get(SELECTED_KEY) in ids else None


def contact_header(contact: ContactView) -> None:
    st.subheader(plain(contact.name))
    if contact.email:
        st.caption(plain(contact.email))
    left, right = st.columns(2)
    with left:
        default = default_filter(actor)  # the overview as it opens (the current unit), for this contact
        overview_link(
            "Open SMS messages for this contact",
            replace(default, contact_id=contact.id),
            default=default,
            icon=":material/sms:",
        )
    with right:
        if actor.can(Permission.SEND_SMS) and st.button("Send SMS", icon=":material/send:", key="contacts_send"):
            send_sms_dialog(contact.id)


def phone_row(phone: PhoneView) -> None:
    """One number: its consent state and the action that changes it."""
    with st.container(border=True):
        number, state, action = st.columns([3, 5, 3], vertical_alignment="center")
        number.markdown(f"**{phone.international}**  \n{plain(phone.label)}")
        badge = {"Registered": ":green-badge[Registered]", "Withdrawn": ":orange-badge[Withdrawn]"}
        shown = badge.get(phone.consent.label, ":gray-badge[Not registered]")
        state.markdown(f"{shown}  \n{plain(consent_sentence(phone))}")
        show_flash(consent_place(phone))
        if not actor.can(Permission.SEND_SMS):
            return
        with action:
            if phone.consent.active:
                st.button("Withdraw consent", key=f"withdraw_{phone.id}", on_click=withdraw, args=(phone,))
            else:
                register_form(phone)


def register_form(phone: PhoneView) -> None:
    with st.popover("Register consent", icon=":material/how_to_reg:"):
        with st.form(f"register_{phone.id}", border=False):
            st.text_input(
                "Source",
                key=f"source_{phone.id}",
                placeholder="Signed form, phone call …",
                help="Where the consent comes from; kept with who registered it and when.",
            )
            st.form_submit_button("Register consent", type="primary", on_click=register, args=(phone,))


def register(phone: PhoneView) -> None:
    """on_click: the user as they are now (``current_actor``), not as the last run found them."""
    source = st.session_state.get(f"source_{phone.id}", "")
    change_consent(phone, "registered", register_consent, database(), current_actor(), phone.id, source)


def withdraw(phone: PhoneView) -> None:
    change_consent(phone, "withdrawn", withdraw_consent, database(), current_actor(), phone.id)


def consent_place(phone: PhoneView) -> str:
    return f"consent of phone {phone.id}"


def change_consent(phone: PhoneView, done: str, action, *args) -> None:
    """Run a consent service; its refusal is shown at the number as the page is drawn."""
    try:
        action(*args)
    except SmsError as exc:
        flash("error", exc.message, icon=":material/block:", place=consent_place(phone))
        return
    st.toast(f"Consent {done} for {phone.international}.", icon=":material/check_circle:")


actor = current_actor()
db = database()
show_flash()  # e.g. the confirmation of a send that closed the dialog
st.title("Contacts")
st.caption("Contacts are organisation-wide: everyone who may view SMS finds them; their messages stay per org. unit.")
if actor.can(Permission.MANAGE_USERS):
    with st.expander("Add a contact", icon=":material/person_add:"):
        new_contact_form()
    with st.expander("Import contacts from CSV", icon=":material/upload_file:"):
        import_panel()
try:
    contact_id = search()
    if contact_id is None:
        st.caption("Choose a contact in the list to see their numbers and consent.")
    else:
        contact = get_contact(db, actor, contact_id)
        contact_header(contact)
        for phone in contact.phones:
            phone_row(phone)
        if not contact.phones:
            st.info("No phone number is registered for this contact.")
        if actor.can(Permission.MANAGE_USERS):
            edit_contact(contact)
        contact_history(contact)
except SmsError as exc:
    show_refusal(exc)
