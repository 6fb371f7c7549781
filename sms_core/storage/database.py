"""Connecting to the database, with messages a person can act on when that fails.

A process opens its Database once, in ``sms_core.bootstrap``; nothing here is process-wide.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from sms_core.config import redact_url
from sms_core.domain.errors import DatabaseConfigError, DatabaseUnavailable
from sms_core.storage.text_search import CASEFOLD_FUNCTION, unicode_casefold

# PostgreSQL's default random_page_cost (4.0) prices random reads as on a spinning disk.  With
# the messages in memory or on SSD, that makes the planner answer "one unit, text contains …,
# newest first" by walking the global sent-on index (it follows the table's order) and filtering
# away every other unit: 65 ms at a million rows, against 10 ms through the unit's own index.
# 1.1 is the usual value for SSD; a DBA can still set another in DATABASE_URL's ``options``.
# psycopg prepares a statement on the server after its fifth run, and PostgreSQL then switches
# to a generic plan, made without the values: it cannot tell a common word in "text contains"
# from a rare one (it guesses 0.5 % of the rows), and chose a bitmap scan and sort of every match
# for the first page of "prescription" in one unit: 68 ms at a million rows instead of 7 ms,
# from the eleventh run on (why a fresh bench run measured 72 ms).  The overview's right plan
# depends on its values, so every statement is planned with them.
POSTGRES_SESSION_OPTIONS = "-c random_page_cost=1.1 -c plan_cache_mode=force_custom_plan"


def _describe(url) -> str:
    if url.get_backend_name() == "sqlite":
        return f"the SQLite file {url.database}"
    return f"PostgreSQL at {url.host or 'localhost'}:{url.port or 5432}/{url.database}"


class Database:
    """One engine and session factory for one DATABASE_URL; cheap to share across threads."""

    def __init__(self, url: str, **engine_options):
        try:
            self.url = make_url(url)
        except (ArgumentError, ValueError):  # ValueError: a port that is not a number
            raise DatabaseConfigError(
                f"DATABASE_URL {redact_url(url)!r} is not a database URL: use sqlite:///path/to/file.db or "
                "postgresql+psycopg://user@host:5432/dbname."
            ) from None
        backend = self.url.get_backend_name()
        if backend not in {"sqlite", "postgresql"}:
            raise DatabaseConfigError(f"DATABASE_URL uses {backend!r}; only SQLite and PostgreSQL are supported.")
        if backend == "postgresql" and self.url.get_driver_name() != "psycopg":
            raise DatabaseConfigError(
                f"DATABASE_URL uses the driver {self.url.get_driver_name()!r}, which is not installed: "
                f"write it as {self.url.set(drivername='postgresql+psycopg').render_as_string(hide_password=True)} "
                "(psycopg 3)."
            )
        if backend == "sqlite" and self.url.database not in (None, "", ":memory:"):
            Path(self.url.database).parent.mkdir(parents=True, exist_ok=True)
            engine_options.setdefault("connect_args", {"timeout": 30, "check_same_thread": False})
        else:
            engine_options.setdefault("pool_pre_ping", True)
            if backend == "postgresql" and "options" not in self.url.query:
                engine_options.setdefault("connect_args", {"options": POSTGRES_SESSION_OPTIONS})
        try:
            self.engine: Engine = create_engine(self.url, **engine_options)
        except (NoSuchModuleError, ModuleNotFoundError) as exc:
            raise DatabaseConfigError(
                f"The database driver for {self.url.drivername!r} is not installed ({exc})."
            ) from None
        if backend == "sqlite":
            event.listen(self.engine, "connect", _sqlite_pragmas)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)

    @property
    def is_postgres(self) -> bool:
        return self.url.get_backend_name() == "postgresql"

    @property
    def description(self) -> str:
        return _describe(self.url)

    @contextmanager
    def session(self, cached_plans: bool = False) -> Iterator[Session]:
        """A session that commits on success and turns a lost connection into a clear refusal.

        ``cached_plans``: PostgreSQL may keep a generic plan for this transaction's statements
        (the sessions otherwise plan each statement with its values, see POSTGRES_SESSION_OPTIONS)
        — for a writer on the hot path whose statements find rows by id, where one plan fits all."""
        session = self.sessions()
        try:
            if cached_plans and self.is_postgres:
                session.execute(text("SET LOCAL plan_cache_mode = auto"))
            yield session
            session.commit()
        except OperationalError as exc:
            session.rollback()
            raise self.unavailable(exc) from exc
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def unavailable(self, exc: DBAPIError | None = None) -> DatabaseUnavailable:
        reason = str(getattr(exc, "orig", exc) or "").strip().splitlines()
        detail = f" ({reason[0]})" if reason else ""
        return DatabaseUnavailable(
            f"The database ({self.description}) cannot be reached{detail}. Try again in a moment."
        )

    def check(self) -> None:
        """Raise DatabaseUnavailable unless the database answers."""
        try:
            with self.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        except OperationalError as exc:
            raise self.unavailable(exc) from None

    def dispose(self) -> None:
        self.engine.dispose()


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    # WAL lets the app read while the embedded worker writes; foreign keys are off by default.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()
    # "Text contains" folds every letter's case, not only ASCII's (storage/text_search.py).
    dbapi_connection.create_function(CASEFOLD_FUNCTION, 1, unicode_casefold, deterministic=True)
