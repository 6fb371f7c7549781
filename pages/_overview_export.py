"""The overview's Export CSV button: every message that matches the filters, not only this page.

The file is made only when the user clicks, and spooled to disk so that building it never holds
the rows in memory; ``sms_core.read_models.overview.export_csv`` streams them, a keyset page at a
time, and counts them in an ``ExportProgress`` that the table's fragment shows while it runs.
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Iterable
from datetime import date
from typing import BinaryIO

import streamlit as st

from pages._overview_state import EXPORT, overview_state
from sms_core.domain.permissions import Actor
from sms_core.read_models.overview import OverviewFilter, export_csv
from sms_core.read_models.overview_export import ExportProgress
from sms_core.storage.database import Database
from sms_core.use_cases.sign_in import signed_in_actor

READY_SECONDS = 10  # how long "ready" stays under the toolbar


def csv_file(chunks: Iterable[str]) -> BinaryIO:
    """Spool the export's chunks to a temporary file; Streamlit reads the finished file to serve
    it.  UTF-8 with a BOM, so that Excel shows æ, ø and å."""
    with tempfile.NamedTemporaryFile("w", encoding="utf-8-sig", newline="", suffix=".csv", delete=False) as spool:
        spool.writelines(chunks)
    reader = open(spool.name, "rb")
    os.unlink(spool.name)  # gone from the disk once the reader is closed
    return reader


def export_button(db: Database, actor: Actor, f: OverviewFilter) -> None:
    state = overview_state()

    def build() -> BinaryIO:
        """Runs on Streamlit's own thread when the button is clicked; the table's fragment, which
        reruns every second, shows the progress it writes.  The user is read again then, so one
        deactivated since the page was drawn gets no file (``SignInRefused``)."""
        shown = state.shown
        progress = ExportProgress(total=shown.count if shown is not None and shown.query[0] == f else None)
        state.export = progress
        return csv_file(export_csv(db, signed_in_actor(db, actor.id), f, progress=progress))

    st.download_button(
        "Export CSV",
        data=build,
        file_name=f"sms-messages-{date.today()}.csv",
        mime="text/csv",
        on_click="ignore",
        icon=":material/download:",
        key=EXPORT,
        help="Download every message that matches the filters as a CSV file.",
    )


def export_progress() -> None:
    """While the CSV is built: how many rows so far (of how many, when the count is exact); then,
    for a few seconds, that it is ready."""
    progress = overview_state().export
    if progress is None:
        return
    if progress.finished is None:
        fraction, total = progress.fraction, progress.total
        of = f" of {total.value:,}" if fraction is not None and total is not None else " so far"
        st.progress(fraction or 0.0, text=f"Building the CSV: {progress.rows:,}{of} messages…")
    elif time.monotonic() - progress.finished < READY_SECONDS:
        took = progress.finished - progress.started
        st.caption(f"The CSV of {progress.rows:,} messages is ready ({took:,.1f} s); your browser downloads it.")
