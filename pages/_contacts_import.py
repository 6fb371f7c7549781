"""Importing contacts from a CSV file on the Contacts page: the file is checked first and the page
shows what would happen (or every problem by row and column); only then can it be imported, with
a progress bar.  Nothing is written while any row is wrong."""

from __future__ import annotations

import streamlit as st

from pages._shared import current_actor, database, plain, runtime, show_refusal
from sms_core.domain.errors import SmsError
from sms_core.use_cases.contact_import import COLUMNS, MAX_BYTES, ImportReport, import_contacts

PREVIEW_KEY = "contacts_import_preview"  # (file id, the dry run's report)
DONE_KEY = "contacts_import_done"  # the summary of the import just made


def import_panel() -> None:
    st.caption(
        "Columns, named in the first row: "
        + ", ".join(COLUMNS)
        + ". One row per number; rows are matched to stored contacts by external id, else by number, "
        "so importing a file again updates instead of duplicating."
    )
    done = st.session_state.pop(DONE_KEY, None)
    if done:
        st.success(plain(done), icon=":material/check_circle:")
    uploaded = st.file_uploader(
        "CSV file", type=["csv"], key="contacts_import_file", max_upload_size=MAX_BYTES // (1024 * 1024)
    )
    if uploaded is None:
        return
    report = preview(uploaded)
    if report is None:
        return
    if report.errors:
        st.error(plain(report.summary) + " Correct the file and choose it again.", icon=":material/error:")
        st.dataframe(
            [{"Row": e.row, "Column": e.field, "Problem": e.message} for e in report.errors],
            hide_index=True,
            width="stretch",
        )
        return
    st.info(plain(report.summary), icon=":material/preview:")
    if report.preview:
        st.dataframe(
            [{"Row": r, "Name": n, "Numbers": p, "What happens": w} for r, n, p, w in report.preview],
            hide_index=True,
            width="stretch",
        )
    if st.button(f"Import {report.rows} rows", type="primary", icon=":material/upload:", key="contacts_import_go"):
        run_import(uploaded.getvalue())


def preview(uploaded) -> ImportReport | None:
    """The dry run of this file, made once per file chosen (it reads every row)."""
    kept = st.session_state.get(PREVIEW_KEY)
    if kept is not None and kept[0] == uploaded.file_id:
        return kept[1]
    bar = st.progress(0.0, text="Checking the file …")
    try:
        report = import_contacts(
            database(),
            current_actor(),
            uploaded.getvalue(),
            runtime().config.default_region,
            dry_run=True,
            progress=lambda f, text: bar.progress(min(f, 1.0), text=text),
        )
    except SmsError as exc:
        bar.empty()
        show_refusal(exc)
        return None
    bar.empty()
    st.session_state[PREVIEW_KEY] = (uploaded.file_id, report)
    return report


def run_import(data: bytes) -> None:
    bar = st.progress(0.0, text="Importing …")
    try:
        report = import_contacts(
            database(),
            current_actor(),
            data,
            runtime().config.default_region,
            progress=lambda f, text: bar.progress(min(f, 1.0), text=text),
        )
    except SmsError as exc:
        show_refusal(exc)
        return
    st.session_state.pop(PREVIEW_KEY, None)  # checked again against what is stored now
    st.session_state[DONE_KEY] = report.summary if not report.errors else None
    if report.errors:
        st.error(plain(report.summary), icon=":material/error:")
        return
    st.rerun()
