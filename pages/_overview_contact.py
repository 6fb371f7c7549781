"""The overview opened for one contact (``?contact=ID``, from the Contacts page or a link): the
page lists that contact's messages, and Send SMS sends to them.

The context comes from the URL on every run, not from a filter widget: it is left with the
"Show all messages" button, which takes the contact out of the URL.
"""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from pages._shared import plain
from sms_core.domain.errors import SmsError
from sms_core.domain.permissions import Actor
from sms_core.read_models.contacts import contact_name
from sms_core.read_models.overview_link import OverviewLink
from sms_core.storage.database import Database


@dataclass(frozen=True)
class ContactContext:
    requested: bool = False  # the URL asks for a contact context
    contact_id: int | None = None  # the contact, when the URL names one the user can see
    name: str | None = None
    problem: str | None = None  # why the URL's contact cannot be used

    @property
    def send_blocked(self) -> str | None:
        if self.requested and self.contact_id is None:
            return (
                "This page was opened for a contact, but no valid contact is selected: open the contact from Contacts."
            )
        return None


def contact_context(db: Database, actor: Actor, link: OverviewLink) -> ContactContext:
    """The link's contact, if it exists; a contact id that cannot even be read is among the
    link's warnings already."""
    if not link.contact_requested:
        return ContactContext()
    contact_id = link.filter.contact_id
    if contact_id is None:
        return ContactContext(requested=True)
    try:
        return ContactContext(True, contact_id, contact_name(db, actor, contact_id))
    except SmsError as exc:
        return ContactContext(True, problem=f"{exc.message} The link's contact filter is ignored.")


def _leave_contact_context() -> None:
    st.query_params.pop("contact", None)


def show_contact_heading(contact: ContactContext) -> None:
    if not contact.requested:
        return
    with st.container(horizontal=True, vertical_alignment="center"):
        if contact.name:
            st.subheader(f":material/person: {plain(contact.name)}", anchor=False)
            st.caption("Showing this contact's messages.")
        else:
            st.caption(":material/person_off: No contact is selected.")
        st.button("Show all messages", on_click=_leave_contact_context, type="tertiary", icon=":material/close:")
