"""The overview's Export CSV button: every message that matches the filters, not only this page.

The file is made only when the user clicks, and spooled to disk so that building it never holds
the rows in memory; ``sms_core.read_models.overview.export_csv`` streams them.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable
from datetime import date
from typing import BinaryIO

import streamlit as st

from pages._overview_state import EXPORT
from sms_core.domain.permissions import Actor
from sms_core.read_models.overview import OverviewFilter, export_csv
from sms_core.storage.database import Database
from sms_core.use_cases.sign_in import signed_in_actor


def csv_file(chunks: Iterable[str]) -> BinaryIO:
    """Spool the export's chunks to a temporary file; Streamlit reads the finished file to serve
    it.  UTF-8 with a BOM, so that Excel shows æ, ø and å."""
    with tempfile.NamedTemporaryFile("w", encoding="utf-8-sig", newline="", suffix=".csv", delete=False) as spool:
        spool.writelines(chunks)
    reader = open(spool.name, "rb")
    os.unlink(spool.name)  # gone from the disk once the reader is closed
    return reader


def export_button(db: Database, actor: Actor, f: OverviewFilter) -> None:
    """The file is made when the user clicks, outside any run of the page: the user is read again
    then, so one deactivated since the page was drawn gets no file (``SignInRefused``)."""
    st.download_button(
        "Export CSV",
        data=lambda: csv_file(export_csv(db, signed_in_actor(db, actor.id), f)),
        file_name=f"sms-messages-{date.today()}.csv",
        mime="text/csv",
        on_click="ignore",
        icon=":material/download:",
        key=EXPORT,
        help="Download every message that matches the filters as a CSV file.",
    )
