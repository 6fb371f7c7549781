"""The overview's Export CSV button: every message that matches the filters, not only this page.

The click asks sms_core for a download link (``sms_core.use_cases.export_tickets``): good for one
download within five minutes, for this user and these filters.  The app's own route streams the
file to the browser as it is made, so neither the rows nor the file are ever held in the app's
memory (Streamlit's download button would keep the whole file there); the link's
``ExportProgress`` is what the table's fragment shows while the download runs.
"""

from __future__ import annotations

import html
import time

import streamlit as st

from pages._overview_state import EXPORT, overview_state
from pages._shared import runtime
from sms_core.domain.permissions import Actor
from sms_core.read_models.overview import OverviewFilter
from sms_core.storage.database import Database

READY_SECONDS = 10  # how long "downloaded" stays under the toolbar
DOWNLOAD_TEST_ID = "sms-export-download"


def export_button(db: Database, actor: Actor, f: OverviewFilter) -> None:
    """The user is read again on the click (``SignInRefused`` for one deactivated since the page
    was drawn, shown by the page), and again by the route when the download starts."""
    state = overview_state()
    clicked = st.button(
        "Export CSV",
        icon=":material/download:",
        key=EXPORT,
        help="Download every message that matches the filters as a CSV file.",
    )
    if clicked:
        shown = state.shown
        total = shown.count if shown is not None and shown.query[0] == f else None
        state.export_link = runtime().exports.issue(db, actor.id, f, total)
        state.export = state.export_link.progress


def export_progress() -> None:
    """The link until the browser follows it; while the CSV is sent, how many rows so far (of how
    many, when the count is exact); then, for a few seconds, that it was downloaded."""
    state = overview_state()
    progress = state.export
    if progress is None:
        return
    if progress.waiting:
        link = state.export_link
        if link is None or link.expires <= runtime().exports.clock():
            st.caption("The download link has expired; click Export CSV again.")
            return
        st.html(
            f'<a href="{html.escape(link.url)}" data-testid="{DOWNLOAD_TEST_ID}" '
            'style="font-weight:600">Download CSV</a> '
            "<span style='opacity:.7'>— your file is ready to download (the link works once, "
            "for five minutes).</span>"
        )
    elif progress.stopped:
        st.caption(f"The download stopped after {progress.rows:,} messages; click Export CSV again.")
    elif progress.finished is None:
        fraction, total = progress.fraction, progress.total
        of = f" of {total.value:,}" if fraction is not None and total is not None else " so far"
        st.progress(fraction or 0.0, text=f"Downloading the CSV: {progress.rows:,}{of} messages…")
    elif time.monotonic() - progress.finished < READY_SECONDS:
        took = progress.finished - progress.started
        st.caption(f"The CSV of {progress.rows:,} messages is downloaded ({took:,.1f} s).")
