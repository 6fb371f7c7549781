"""This run's databases on the machine's PostgreSQL server (never the server itself).

One migrated template per run; one copy of it per test module, put back to a saved state before
each test: emptied with TRUNCATE … RESTART IDENTITY (so ids start at 1 again), then refilled from
a snapshot of that state kept in the same database.  A state is a schema holding a copy of every
table: ``migrated`` (the rows the migrations write: roles, permissions, default settings) comes
with the template, ``demo-300`` is saved the first time a module asks for the demo data.  That is
much quicker than a new database per test, and seeding the demo once per module quicker still.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import MetaData, create_engine, text
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.pool import NullPool

from sms_core.storage.database import Database
from sms_core.storage.migrate import migrate
from sms_core.storage.rollups import install_local_day

MIGRATED = "migrated"

TRIGGERED = """SELECT DISTINCT c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
               JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public' AND NOT t.tgisinternal"""
SEQUENCES = """SELECT table_name, column_name, pg_get_serial_sequence(quote_ident(table_name), column_name)
               FROM information_schema.columns WHERE table_schema = 'public'
               AND pg_get_serial_sequence(quote_ident(table_name), column_name) IS NOT NULL"""


@dataclass(frozen=True)
class Schema:
    """What putting a database back needs to know of its tables, read once from the template."""

    tables: list[str]  # parents before children, so a refill never breaks a foreign key
    triggered: list[str]  # tables with triggers of our own (the daily roll-up)
    sequences: list[tuple[str, str, str]]  # (table, column, sequence) of generated ids

    @classmethod
    def read(cls, engine: Engine) -> Schema:
        metadata = MetaData()
        metadata.reflect(engine)
        with engine.connect() as conn:
            return cls(
                [t.name for t in metadata.sorted_tables if t.name != "alembic_version"],
                list(conn.execute(text(TRIGGERED)).scalars()),
                [tuple(row) for row in conn.execute(text(SEQUENCES))],
            )


def _schema(state: str) -> str:
    return f'"test_state_{state}"'


class ModuleDatabase:
    """One test module's database and the states it can be put back to."""

    def __init__(self, url: str, schema: Schema, states: set[str]):
        self.url = url
        self.schema = schema
        self.states = set(states)
        self.engine = create_engine(url, poolclass=NullPool)

    def save(self, state: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(text(f"DROP SCHEMA IF EXISTS {_schema(state)} CASCADE"))
            conn.execute(text(f"CREATE SCHEMA {_schema(state)}"))
            for table in self.schema.tables:
                conn.execute(text(f'CREATE TABLE {_schema(state)}."{table}" AS TABLE public."{table}"'))
        self.states.add(state)

    def restore(self, state: str = MIGRATED) -> None:
        """Put every table back as it was saved.  Whatever an earlier test left connected is
        disconnected first: its locks would block TRUNCATE, its transactions see old rows."""
        with self.engine.begin() as conn:
            conn.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
            )
            conn.execute(
                text(f"TRUNCATE {', '.join(f'public.{t}' for t in self.schema.tables)} RESTART IDENTITY CASCADE")
            )
            self._refill(conn, state)

    def _refill(self, conn: Connection, state: str) -> None:
        for table in self.schema.triggered:  # the saved roll-ups are copied, not recounted
            conn.execute(text(f'ALTER TABLE public."{table}" DISABLE TRIGGER USER'))
        for table in self.schema.tables:
            conn.execute(text(f'INSERT INTO public."{table}" SELECT * FROM {_schema(state)}."{table}"'))
        for table in self.schema.triggered:
            conn.execute(text(f'ALTER TABLE public."{table}" ENABLE TRIGGER USER'))
        install_local_day(conn)  # the function's zone follows the restored setting, as after a change of it
        for table, column, sequence in self.schema.sequences:
            conn.execute(
                text(
                    f'SELECT setval(:sequence, COALESCE((SELECT max("{column}") FROM public."{table}"), 0) + 1, false)'
                ),
                {"sequence": sequence},
            )

    def restore_or_make(self, state: str, make: Callable[[str], None]) -> None:
        """Restore ``state``; the first time, make it from the migrated state and save it."""
        if state in self.states:
            self.restore(state)
            return
        self.restore(MIGRATED)
        make(self.url)
        self.save(state)

    def dispose(self) -> None:
        self.engine.dispose()


class PostgresServer:
    """Creates this run's template and module databases on the server, and drops them after."""

    def __init__(self, admin_url: str, run_id: str):
        self.admin_url = make_url(admin_url)
        self.engine = create_engine(self.admin_url, isolation_level="AUTOCOMMIT", pool_pre_ping=True)
        self.template = f"sms_tpl_{run_id}"
        self.run_id = run_id
        self.numbers = itertools.count(1)
        self.created: list[str] = []
        self.error: str | None = None
        try:
            self._create(self.template)
            template_db = Database(self.url(self.template))
            migrate(template_db)
            self.schema = Schema.read(template_db.engine)
            template = ModuleDatabase(self.url(self.template), self.schema, set())
            template.save(MIGRATED)
            template.dispose()
            template_db.dispose()
        except Exception as exc:  # reported by the fixtures as skip (or failure in CI)
            self.error = f"PostgreSQL at {self.admin_url.render_as_string(hide_password=True)} is not usable: {exc}"

    def url(self, name: str) -> str:
        return self.admin_url.set(database=name).render_as_string(hide_password=False)

    def _create(self, name: str, template: str | None = None) -> None:
        with self.engine.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else "")))
        self.created.append(name)

    def new_database(self) -> ModuleDatabase:
        name = f"sms_test_{self.run_id}_{next(self.numbers)}"
        self._create(name, template=self.template)
        return ModuleDatabase(self.url(name), self.schema, {MIGRATED})

    def empty_database(self) -> str:
        """The URL of a new database with nothing in it, not even the schema (a new installation);
        dropped with this run's other databases."""
        name = f"sms_empty_{self.run_id}_{next(self.numbers)}"
        self._create(name)
        return self.url(name)

    def drop(self, database: ModuleDatabase) -> None:
        database.dispose()
        name = make_url(database.url).database
        with self.engine.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        if name in self.created:
            self.created.remove(name)

    def close(self) -> None:
        for name in reversed(list(self.created)):
            try:
                with self.engine.connect() as conn:
                    conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            except Exception:
                pass
        self.engine.dispose()
