"""Standard texts (administrators): create, edit, deactivate the texts the Send SMS dialog offers,
for all org. units or for one.  The body is written in the same text box as the dialog's, with
the same live counter, so an administrator sees how many SMS a text will take.

Saving happens in the page body after the text box has reported (not in a button callback), so
the body saved is the one just typed.
"""

from __future__ import annotations

import streamlit as st

from pages._flash import flash, show_flash
from pages._shared import current_actor, database, local_time, plain, show_refusal
from pages.sms_text_input import set_sms_text, sms_text_input
from sms_core.domain.errors import SmsError
from sms_core.use_cases.accounts import units_of
from sms_core.use_cases.standard_texts import (
    ALL_UNITS,
    StandardTextView,
    create_standard_text,
    list_standard_texts,
    set_standard_text_active,
    update_standard_text,
)

BODY_KEY = "standard_text_body"
EDITING_KEY = "standard_text_editing"  # the id being edited, "new", or absent
ERRORS_KEY = "standard_text_errors"  # {field: sentence} of the last refused save
NEW = "new"
EVERY_UNIT = 0  # the Org. unit choice "All org. units" (a selectbox shows None as no choice at all)


def edit(text: StandardTextView | None) -> None:
    """Load a text (or an empty one) into the editor."""
    st.session_state[EDITING_KEY] = text.id if text else NEW
    st.session_state["standard_text_title"] = text.title if text else ""
    st.session_state["standard_text_unit"] = text.org_unit_id if text and text.org_unit_id else EVERY_UNIT
    st.session_state.pop(ERRORS_KEY, None)
    set_sms_text(BODY_KEY, text.body if text else "")


def text_table(texts: list[StandardTextView]) -> None:
    """All texts; choosing a row opens it in the editor (the table is new whenever a text changes)."""
    rows = [
        {
            "Title": t.title,
            "Org. unit": t.org_unit_name,
            "Active": t.active,
            "Text": t.body,
            "Updated": f"{local_time(t.updated_at)} {('by ' + t.updated_by) if t.updated_by else ''}".strip(),
        }
        for t in texts
    ]
    version = hash(tuple((t.id, t.title, t.active, t.org_unit_id) for t in texts))
    key = f"standard_texts_table_{version}"

    def chosen() -> None:
        rows = st.session_state[key].selection.rows
        if rows:
            edit(texts[rows[0]])

    st.dataframe(rows, hide_index=True, on_select=chosen, selection_mode="single-row", key=key, width="stretch")


def editor(texts: list[StandardTextView]) -> None:
    editing = st.session_state[EDITING_KEY]
    current = next((t for t in texts if t.id == editing), None)
    st.subheader("New standard text" if current is None else f"Edit “{plain(current.title)}”")
    errors = st.session_state.get(ERRORS_KEY, {})
    st.text_input("Title", key="standard_text_title", max_chars=200)
    show(errors.get("title"))
    units = {u.id: u.name for u in units_of(db, actor)}
    st.selectbox(
        "Org. unit",
        [EVERY_UNIT, *units],
        key="standard_text_unit",
        format_func=lambda u: units.get(u, ALL_UNITS),
        help="All org. units: offered to everyone. One unit: offered only when sending from it.",
    )
    show(errors.get("org_unit") or errors.get("form"))
    body = sms_text_input(BODY_KEY, label="Text", placeholder="The text as it will be inserted in the SMS")
    show(errors.get("body"))
    save_col, active_col = st.columns(2)
    if save_col.button("Save", type="primary", icon=":material/save:"):
        save(current, body)
    if current is not None:
        label = "Deactivate" if current.active else "Activate again"
        if active_col.button(label, icon=":material/toggle_off:" if current.active else ":material/toggle_on:"):
            set_standard_text_active(db, actor, current.id, not current.active)
            again = "no longer" if current.active else "again"
            flash("toast", f"“{plain(current.title)}” is {again} offered in the Send SMS dialog.")
            st.rerun()


def save(current: StandardTextView | None, body: str) -> None:
    fields = dict(
        title=st.session_state.get("standard_text_title", ""),
        body=body,
        org_unit_id=st.session_state.get("standard_text_unit") or None,
    )
    try:
        if current is None:
            saved = create_standard_text(db, actor, **fields)
        else:
            saved = update_standard_text(db, actor, current.id, **fields)
    except SmsError as exc:
        st.session_state[ERRORS_KEY] = {exc.field if exc.field in ("title", "body") else "form": exc.message}
        st.rerun()
    st.session_state[EDITING_KEY] = saved.id
    st.session_state.pop(ERRORS_KEY, None)
    flash("toast", f"“{plain(saved.title)}” is saved.", icon=":material/check_circle:")
    st.rerun()


def show(message: str | None) -> None:
    if message:
        st.error(message, icon=":material/error:")


actor = current_actor()
db = database()
show_flash()  # what the last save or (de)activation did: a toast drawn before st.rerun would be lost
st.title("Standard texts")
st.caption(
    "The Standard texts button of the Send SMS dialog offers the active texts for all org. units "
    "and those of the unit the SMS is sent from."
)
try:
    texts = list_standard_texts(db, actor)
    st.button("New standard text", icon=":material/add:", on_click=edit, args=(None,))
    text_table(texts)
    if EDITING_KEY in st.session_state:
        with st.container(border=True):
            editor(texts)
except SmsError as exc:
    show_refusal(exc)
