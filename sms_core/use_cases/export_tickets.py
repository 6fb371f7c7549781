"""Export tickets: the overview's CSV is served by the app's own route, not through Streamlit.

Why: Streamlit serves a download from its media file manager, which holds the whole file in the
app's memory — 1.7 GB at ten million rows.  Instead the page asks for a ticket here and links to
``EXPORT_PATH``; the route (``sms_core.delivery.export_route``) streams ``export_bytes`` chunk by
chunk, so the app holds one keyset page of rows however many there are.

A ticket is a random token kept in this process's memory only (the page and the route run in
the same process): it names the user and the filter, is good for ``LIFETIME`` seconds and one
download, and a user has at most ``OPEN_PER_USER`` open — a new one drops the oldest, so the
latest click always works and an old tab's link says to click again.  The user is read again
when the download starts, so one deactivated since the click gets nothing.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable, Generator
from dataclasses import dataclass, field

from sms_core.domain.permissions import Permission
from sms_core.read_models.message_count import MessageCount
from sms_core.read_models.overview import OverviewFilter, export_csv
from sms_core.read_models.overview_export import ExportProgress
from sms_core.storage.database import Database
from sms_core.use_cases.sign_in import signed_in_actor

EXPORT_PATH = "/export/sms-messages.csv"
LIFETIME = 300.0  # seconds a download link is good for
OPEN_PER_USER = 3
BOM = "\ufeff"  # UTF-8 with a BOM, so that Excel shows æ, ø and å


@dataclass(frozen=True)
class ExportTicket:
    user_id: int
    filter: OverviewFilter
    progress: ExportProgress
    expires: float  # on the store's clock


@dataclass(frozen=True)
class ExportLink:
    """What the page shows: the link to follow (same origin), until when, and its progress."""

    url: str
    expires: float
    progress: ExportProgress = field(compare=False)


class ExportTickets:
    """The open tickets of this process; safe to use from the page's and the server's threads."""

    def __init__(
        self, lifetime: float = LIFETIME, per_user: int = OPEN_PER_USER, clock: Callable[[], float] = time.monotonic
    ):
        self.lifetime, self.per_user, self.clock = lifetime, per_user, clock
        self._open: dict[str, ExportTicket] = {}
        self._lock = threading.Lock()

    def issue(self, db: Database, user_id: int, f: OverviewFilter, total: MessageCount | None = None) -> ExportLink:
        """A ticket for the user as the database has them now (the refusal that applies, if any)."""
        signed_in_actor(db, user_id).require(Permission.VIEW_SMS)
        token = secrets.token_urlsafe(32)
        now = self.clock()
        ticket = ExportTicket(user_id, f, ExportProgress(total=total, waiting=True), now + self.lifetime)
        with self._lock:
            self._open = {k: t for k, t in self._open.items() if t.expires > now}
            mine = [k for k, t in self._open.items() if t.user_id == user_id]  # oldest first: dicts keep order
            for k in mine[: max(0, len(mine) - self.per_user + 1)]:
                del self._open[k]
            self._open[token] = ticket
        return ExportLink(f"{EXPORT_PATH}?ticket={token}", ticket.expires, ticket.progress)

    def redeem(self, token: str) -> ExportTicket | None:
        """The ticket, taken out of the store (so it serves once); None if unknown, used or expired."""
        with self._lock:
            ticket = self._open.pop(token, None)
        if ticket is None or ticket.expires <= self.clock():
            return None
        return ticket

    def open_count(self, user_id: int) -> int:
        now = self.clock()
        with self._lock:
            return sum(1 for t in self._open.values() if t.user_id == user_id and t.expires > now)


def export_bytes(db: Database, ticket: ExportTicket) -> Generator[bytes]:
    """The ticket's CSV as UTF-8 byte chunks (a BOM first), one keyset page at a time.

    The user is read again now (``SignInRefused`` for one deactivated since the click, raised
    before any byte), and the statement is made for them as they are now."""
    actor = signed_in_actor(db, ticket.user_id)
    actor.require(Permission.VIEW_SMS)
    progress = ticket.progress
    chunks = export_csv(db, actor, ticket.filter, progress=progress)
    progress.waiting, progress.started = False, time.monotonic()
    return _encoded(chunks, progress)


def _encoded(chunks: Generator[str], progress: ExportProgress) -> Generator[bytes]:
    prefix = BOM
    try:
        for chunk in chunks:
            yield (prefix + chunk).encode("utf-8")
            prefix = ""
    finally:  # also when the browser went away and the route closed this generator
        chunks.close()
        if progress.finished is None:
            progress.stopped = True
