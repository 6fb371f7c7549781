"""Change notifications: every new message or status change announces its org unit, so an open
overview re-queries only when something it shows has changed.

PostgreSQL: ``NOTIFY sms_changes, '<unit id>'`` inside the changing transaction (delivered on
commit); one listener thread per process counts them in memory, so idle pages cost the database
nothing.  SQLite: a tiny counter row per unit, bumped in the same transaction and read by a
primary-key lookup.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import defaultdict
from collections.abc import Iterable

from sqlalchemy import event, func, select, text, update
from sqlalchemy.orm import Session

from sms_core.storage.database import Database
from sms_core.storage.models import ChangeVersion

CHANNEL = "sms_changes"
log = logging.getLogger(__name__)


_CHANGED = "sms_changed_units"


def mark_changed(session: Session, org_unit_ids: Iterable[int]) -> None:
    """Remember units whose messages changed; announced once, just before the commit."""
    session.info.setdefault(_CHANGED, set()).update(org_unit_ids)


@event.listens_for(Session, "before_commit")
def _announce_before_commit(session: Session) -> None:
    if session.in_nested_transaction():  # a savepoint released: the transaction goes on
        return
    units = session.info.pop(_CHANGED, None)
    if units:
        announce(session, units)


@event.listens_for(Session, "after_soft_rollback")
def _forget_after_rollback(session: Session, previous_transaction) -> None:
    """The whole transaction is gone: so are its changes.  A savepoint rolled back (one refused
    send of a batch) forgets nothing: the other sends' units are still announced at the commit."""
    if previous_transaction.parent is None:
        session.info.pop(_CHANGED, None)


def announce(session: Session, org_unit_ids: Iterable[int]) -> None:
    """Announce, as part of the caller's transaction, that messages of these units changed."""
    units = sorted(set(org_unit_ids))
    if not units:
        return
    if session.get_bind().dialect.name == "postgresql":
        for unit in units:
            session.execute(text("SELECT pg_notify(:channel, :unit)"), {"channel": CHANNEL, "unit": str(unit)})
        return
    for unit in units:
        bumped = session.execute(
            update(ChangeVersion).where(ChangeVersion.org_unit_id == unit).values(version=ChangeVersion.version + 1)
        )
        if not bumped.rowcount:
            session.add(ChangeVersion(org_unit_id=unit, version=1))
            session.flush()


class ChangeWatcher:
    """Tells a page cheaply whether messages of some units changed since it last looked.

    One per process (``sms_core.bootstrap`` makes it), so PostgreSQL holds one LISTEN connection
    per process however many pages are open.
    """

    def __init__(self, db: Database):
        self.db = db
        self._versions: dict[int, int] = defaultdict(int)
        self._epoch = 0  # bumped after a lost connection: anything may have changed meanwhile
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.queries = 0  # database round trips made by version(): the benchmark counts them
        if db.is_postgres:
            self._thread = threading.Thread(target=self._listen_forever, name="sms-change-listener", daemon=True)
            self._thread.start()

    def version(self, org_unit_ids: Iterable[int]) -> tuple[int, int]:
        """A value that changes whenever a message of one of these units changes."""
        units = list(org_unit_ids)
        if self.db.is_postgres:
            with self._lock:
                return self._epoch, sum(self._versions[u] for u in units)
        self.queries += 1
        with self.db.engine.connect() as conn:
            total = conn.execute(
                select(func.coalesce(func.sum(ChangeVersion.version), 0)).where(ChangeVersion.org_unit_id.in_(units))
            ).scalar_one()
        return 0, int(total)

    def close(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=3)

    def _listen_forever(self) -> None:
        while not self._stop.is_set():
            try:
                self._listen()
            except Exception as exc:  # the database restarted or the network blinked
                log.warning("change listener lost its connection (%s); reconnecting", exc)
                time.sleep(1)
            with self._lock:
                self._epoch += 1

    def _listen(self) -> None:
        import psycopg

        url = self.db.url.set(drivername="postgresql")
        with psycopg.connect(url.render_as_string(hide_password=False), autocommit=True) as conn:
            conn.execute(f"LISTEN {CHANNEL}")
            with self._lock:
                self._epoch += 1  # we may have missed notifications before LISTEN took effect
            while not self._stop.is_set():
                for note in conn.notifies(timeout=0.5):
                    try:
                        unit = int(note.payload)
                    except ValueError:
                        continue
                    with self._lock:
                        self._versions[unit] += 1
