"""The overview's CSV export at a million rows: keyset pages, each its own short transaction.

Why it works like this:
- A million rows through one cursor would hold one transaction (and its snapshot) open for the
  whole export, which keeps PostgreSQL's vacuum from cleaning up behind every other writer.  Each
  page here is a fresh query that starts after the last row written — ``(sent on, id)`` past the
  previous page's last, along the index — so every query is as cheap as the first page's and
  memory holds one page of rows, however many there are.
- The status orders are the statuses one after another, each a keyset walk of its own by
  (sent on, id): the same order as the table, without a sort of every match per page.  A message
  whose status changes while the export runs can therefore be written under either status (or,
  rarely, in neither); the sent-on orders are exact, since new messages are newer than any row
  the export has yet to write in the newest-first order and arrive at the end in the other.
- ``ExportProgress`` is filled in as pages are written, so the page can show how far it got.
"""

from __future__ import annotations

import csv
import io
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from zoneinfo import ZoneInfo

from sqlalchemy import Select, tuple_

from sms_core.domain.phones import format_international
from sms_core.read_models.message_count import MessageCount
from sms_core.read_models.spreadsheet import phone_cell, spreadsheet_safe
from sms_core.storage.database import Database
from sms_core.storage.models import SmsMessage

EXPORT_COLUMNS = ("Text", "Phone", "Sent on", "SMS status", "Org. unit", "Resent")
# Formatting a number (phonenumbers' parse and format) was three quarters of an export's time;
# an organisation writes to the same numbers again and again, so the last ones are remembered —
# a bounded cache, so memory stays flat however many rows or numbers there are.
_shown_phone = lru_cache(maxsize=20_000)(format_international)


@dataclass
class ExportProgress:
    """How far one export got: written by the export, read by the page while it runs."""

    total: MessageCount | None = None  # what the page said matched when the export began
    rows: int = 0
    started: float = field(default_factory=time.monotonic)
    finished: float | None = None
    waiting: bool = False  # a download link was made but the browser has not fetched it yet
    stopped: bool = False  # the download ended before the last row (the browser went away)

    @property
    def fraction(self) -> float | None:
        """Share done, when the total is known exactly."""
        if self.total is None or not self.total.settled or self.total.capped or not self.total.value:
            return None
        return min(self.rows / self.total.value, 1.0)


@dataclass(frozen=True)
class KeysetPart:
    """Rows of one statement, ordered by (sent on, id) newest first (or oldest first)."""

    statement: Select
    newest_first: bool = True


def csv_chunks(
    db: Database, parts: list[KeysetPart], zone: ZoneInfo, page_size: int, progress: ExportProgress | None = None
) -> Iterator[str]:
    """The header, then one chunk of CSV text per keyset page of every part, in order."""
    progress = progress if progress is not None else ExportProgress()
    yield _csv_lines([EXPORT_COLUMNS])
    for part in parts:
        for rows in _pages(db, part, page_size):
            yield _csv_lines(_csv_row(row, zone) for row in rows)
            progress.rows += len(rows)
    progress.finished = time.monotonic()


def _pages(db: Database, part: KeysetPart, page_size: int) -> Iterator[list]:
    key = tuple_(SmsMessage.sent_on, SmsMessage.id)
    after = None
    while True:
        statement = part.statement
        if after is not None:
            statement = statement.where(key < after if part.newest_first else key > after)  # typed as the key
        with db.session() as session:
            rows = session.execute(statement.limit(page_size)).all()
        if rows:
            yield rows
        if len(rows) < page_size:
            return
        after = (rows[-1].sent_on, rows[-1].id)


def _csv_row(row, zone: ZoneInfo) -> tuple:
    sent_on = row.sent_on.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S")
    cells = (row.text, sent_on, row.status.label, row.org_unit_name, "yes" if row.resent else "no")
    text, *rest = (spreadsheet_safe(cell) for cell in cells)
    return (text, phone_cell(_shown_phone(row.phone)), *rest)


def _csv_lines(rows) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(rows)
    return buffer.getvalue()
