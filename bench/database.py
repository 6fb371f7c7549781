"""The benchmark's two PostgreSQL databases: the product's, and a naive copy to compare with.

Why it is built like this:
- ``sms_bench_<rows>`` is migrated with the project's own Alembic revisions and filled by the
  project's own demo seed (``seed_demo``), grown to the issue's shape: 50 org units, two years,
  a team lead associated with 10 units and an administrator in all of them.  Seeding 10 million
  messages takes about 12 minutes, so a database that already holds the asked-for number of rows
  is reused; the database comment records what it holds (``BENCH_RESEED=1`` starts over).
- ``sms_bench_<rows>_naive`` is a file-level copy (``CREATE DATABASE … TEMPLATE``) of the same
  rows, with every index that backs no constraint dropped: it is what the schema would be with
  only what the ORM model declares as keys (primary key, unique constraints) and no indexes
  chosen for speed.  The naive baseline runs the obvious queries there, so both sides read the
  same rows, on the same server, in the same run.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

from sms_core.demo.seed import seed_demo
from sms_core.storage import rollups
from sms_core.storage.database import Database
from sms_core.storage.migrate import migrate
from sms_core.storage.models import OrgUnit, SmsMessage, User, UserOrgUnit

ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
DAYS = 730  # two years of history
BENCH_USER = "bench_lead"  # a team lead associated with 10 org units
ADMIN_USER = "admin"  # the demo administrator, associated with all 50 units here
# The 45 units added to the demo's five: Norwegian towns, each with a valid SMS sender.
TOWNS = [
    "Drammen",
    "Fredrikstad",
    "Kristiansand",
    "Sandnes",
    "Ålesund",
    "Bodø",
    "Sandefjord",
    "Arendal",
    "Tønsberg",
    "Haugesund",
    "Moss",
    "Porsgrunn",
    "Skien",
    "Hamar",
    "Larvik",
    "Halden",
    "Harstad",
    "Lillehammer",
    "Molde",
    "Kongsberg",
    "Gjøvik",
    "Horten",
    "Rana",
    "Kristiansund",
    "Jessheim",
    "Alta",
    "Elverum",
    "Narvik",
    "Askøy",
    "Ski",
    "Grimstad",
    "Steinkjer",
    "Stord",
    "Kongsvinger",
    "Egersund",
    "Ås",
    "Førde",
    "Levanger",
    "Namsos",
    "Brumunddal",
    "Notodden",
    "Raufoss",
    "Vennesla",
    "Florø",
    "Mandal",
]


@dataclass(frozen=True)
class BenchDatabases:
    rows: int
    db: Database  # the product's schema and indexes
    naive: Database  # the same rows without the secondary indexes
    seeded_at: datetime  # the seed's "now": the newest messages are from just before it
    seconds_to_seed: float | None  # None when an existing database was reused


def admin_engine(admin_url: str = ADMIN_URL):
    return create_engine(admin_url, isolation_level="AUTOCOMMIT")


def prepare(rows: int, admin_url: str = ADMIN_URL, reseed: bool = False, log=print) -> BenchDatabases:
    """Make sure both databases hold ``rows`` messages and the current schema; return them."""
    name = f"sms_bench_{rows}"
    url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    naive_url = make_url(admin_url).set(database=f"{name}_naive").render_as_string(hide_password=False)
    engine = admin_engine(admin_url)
    seconds = None
    try:
        seeded_at = None if reseed else _recorded_seed(engine, name, rows)
        if seeded_at is None:
            started = time.monotonic()
            seeded_at = _create_and_seed(engine, name, url, rows, log)
            seconds = time.monotonic() - started
        else:
            log(f"reusing {name} ({rows:,} messages seeded {seeded_at:%Y-%m-%d %H:%M} UTC); migrating to head")
            _migrate(engine, name, url)
        _copy_without_indexes(engine, name, f"{name}_naive", fresh=seconds is not None, log=log)
    finally:
        engine.dispose()
    return BenchDatabases(rows, Database(url), Database(naive_url), seeded_at, seconds)


def _recorded_seed(engine, name: str, rows: int) -> datetime | None:
    """When the database was seeded with exactly ``rows`` messages, from its comment; else None."""
    with engine.connect() as conn:
        comment = conn.scalar(
            text("SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = :name"), {"name": name}
        )
    if not comment or not comment.startswith(f"sms bench: {rows} messages seeded at "):
        return None
    return datetime.fromisoformat(comment.rsplit(" at ", 1)[1])


def _migrate(engine, name: str, url: str) -> None:
    """Bring a reused database to head, and vacuum it as a fresh seed is when a revision ran: a
    migration that makes a roll-up again (0016 to 0018) cannot vacuum in its transaction, and until
    autovacuum comes round (off on this machine: 90-ci.conf) the page's reads find no
    visibility map and visit the table instead of the index alone."""
    revision = _revision(engine, name)
    db = Database(url)
    try:
        migrate(db)
        if _revision(engine, name) != revision:
            _vacuum(db)
    finally:
        db.dispose()


def _create_and_seed(engine, name: str, url: str, rows: int, log) -> datetime:
    with engine.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}_naive" WITH (FORCE)'))
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    db = Database(url)
    try:
        migrate(db)
        seed_demo(db, messages=0)  # the demo's units, users, contacts and standard texts
        add_units_and_users(db)
        now = datetime.now(UTC)
        log(f"seeding {rows:,} messages over {DAYS} days and 50 org units (about 70 s per million)…")
        started = time.monotonic()
        seed_demo(db, messages=rows, days=DAYS, now=now)
        log(f"  seeded in {time.monotonic() - started:.0f} s; VACUUM ANALYZE…")
        _vacuum(db)
    finally:
        db.dispose()
    with engine.connect() as conn:
        conn.execute(
            text(f"COMMENT ON DATABASE \"{name}\" IS 'sms bench: {rows} messages seeded at {now.isoformat()}'")
        )
    return now


def add_units_and_users(db: Database) -> None:
    """45 more org units; a team lead in 10 units (the demo's 5 and 5 new); the admin in all 50."""
    with db.session() as session:
        demo_units = list(session.scalars(select(OrgUnit).order_by(OrgUnit.id)))
        new_units = [
            OrgUnit(
                code=town[:3].upper() + f"{i:02d}",
                name=f"{town} Helse",
                representative_name=f"Leder {town}",
                sms_sender=f"Helse{i:02d}",
            )
            for i, town in enumerate(TOWNS, start=6)
        ]
        session.add_all(new_units)
        session.flush()
        lead = User(
            username=BENCH_USER,
            display_name="Benedikte Bench",
            email="bench_lead@example.org",
            role="team_lead",
            current_org_unit_id=demo_units[0].id,
            active=True,
        )
        session.add(lead)
        session.flush()
        session.add_all(UserOrgUnit(user_id=lead.id, org_unit_id=u.id) for u in demo_units + new_units[:5])
        admin = session.scalar(select(User).where(User.username == ADMIN_USER))
        session.add_all(UserOrgUnit(user_id=admin.id, org_unit_id=u.id) for u in new_units)


def _vacuum(db: Database) -> None:
    """What autovacuum would have done by the time anyone looks: statistics and the visibility
    map (index-only scans need it), so the first measurements are not of a just-loaded table."""
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM (ANALYZE) sms_messages"))
        conn.execute(text("VACUUM (ANALYZE) sms_status_events"))
        for table in rollups.ROLLUP_TABLES:
            conn.execute(text(f"VACUUM (ANALYZE) {table}"))


def secondary_indexes(conn) -> list[str]:
    """Indexes on sms_messages that back no constraint (primary key, unique): the speed ones."""
    return list(
        conn.scalars(
            text(
                """SELECT i.indexrelid::regclass::text FROM pg_index i
                    WHERE i.indrelid = 'sms_messages'::regclass
                      AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)
                    ORDER BY 1"""
            )
        )
    )


def _copy_without_indexes(engine, source: str, target: str, fresh: bool, log) -> None:
    """The naive database: a copy of the rows, kept while the source is not seeded again and
    has the same schema (a new migration makes a new copy, so both sides read the same columns)."""
    with engine.connect() as conn:
        exists = conn.scalar(text("SELECT count(*) FROM pg_database WHERE datname = :n"), {"n": target})
        if exists and not fresh and _revision(engine, target) == _revision(engine, source):
            return
        log(f"copying {source} to {target} without its secondary indexes…")
        conn.execute(text(f'DROP DATABASE IF EXISTS "{target}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{target}" TEMPLATE "{source}"'))
    naive = Database(make_url(engine.url).set(database=target).render_as_string(hide_password=False))
    try:
        with naive.engine.connect() as conn:
            for index in secondary_indexes(conn):
                conn.execute(text(f'DROP INDEX "{index}"'))
            conn.commit()
        _vacuum(naive)
    finally:
        naive.dispose()


def _revision(engine, database: str) -> str | None:
    """The Alembic revision a database is at."""
    other = create_engine(make_url(engine.url).set(database=database))
    try:
        with other.connect() as conn:
            return conn.scalar(text("SELECT version_num FROM alembic_version"))
    finally:
        other.dispose()


def message_count(db: Database) -> int:
    with db.session() as session:
        return session.scalar(select(func.count()).select_from(SmsMessage))
