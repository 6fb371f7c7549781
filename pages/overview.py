"""SMS messages: the overview users open first — filter, page, watch statuses move, resend, export.

Why it is built this way:
- ``sms_core.read_models.overview`` decides what a user may see; this page only turns widgets
  into an ``OverviewFilter`` and draws what comes back.  The same filter drives the table, the
  count and the CSV export.
- Filters live in the URL, so a link can be shared (``pages._overview_filters``; the format is
  ``sms_core.read_models.overview_link``).  What the page remembers between runs is one state
  object (``pages._overview_state``).
- The table is a fragment that follows changes by itself (``pages._overview_table``), so the
  filters and the Send SMS dialog up here are never disturbed by its refreshes.
"""

from __future__ import annotations

import streamlit as st

from pages._alerts_banner import alert_banner
from pages._flash import show_flash
from pages._overview_contact import ContactContext, contact_context, show_contact_heading
from pages._overview_export import export_button
from pages._overview_filters import current_filter, draw_filters, follow_link, show_filter, sort_select
from pages._overview_state import SEND
from pages._overview_table import live_table
from pages._shared import browser_zone, current_actor, database, plain, show_refusal
from pages.send_dialog import send_sms_dialog
from sms_core.domain.errors import InvalidInput, SmsError
from sms_core.domain.permissions import Permission
from sms_core.read_models.breakdowns import senders_of, standard_texts_of
from sms_core.use_cases.accounts import units_of


def send_button(contact: ContactContext) -> None:
    """Always available, except in a contact context without a (valid) contact."""
    reason = contact.send_blocked
    if st.button("Send SMS", type="primary", icon=":material/sms:", disabled=reason is not None, help=reason, key=SEND):
        send_sms_dialog(contact.contact_id)


def main() -> None:
    actor = current_actor()
    db = database()
    show_flash()  # e.g. the confirmation of a send that closed the dialog
    st.title("SMS messages")
    actor.require(Permission.VIEW_SMS)
    alert_banner(actor, apply=show_filter)
    unit_names = {str(u.id): u.name for u in units_of(db, actor)}
    if not unit_names:
        st.info("You are not associated with any org. unit, so there are no SMS messages to show.")
        return
    notes = st.container()
    zone = browser_zone()
    link = follow_link(actor, zone)
    contact = contact_context(db, actor, link)
    warnings = [*link.warnings, *([contact.problem] if contact.problem else [])]
    show_contact_heading(contact)
    with st.container(horizontal=True, vertical_alignment="bottom"):
        send_button(contact)
        export_slot = st.container(width="content")
        st.space("stretch")
        sort_select()
    date_cell = draw_filters(actor, unit_names, senders_of(db, actor), standard_texts_of(db, actor))
    if warnings:
        notes.warning(
            "Some of the link's filters could not be used:\n" + "".join(f"\n- {plain(w)}" for w in warnings),
            icon=":material/link_off:",
        )
    try:
        f = current_filter(contact.contact_id, zone)
    except InvalidInput as exc:
        date_cell.error(exc.message, icon=":material/event_busy:")
        return
    with export_slot:
        export_button(db, actor, f)
    live_table(f, zone)


try:
    main()
except SmsError as exc:
    show_refusal(exc)
