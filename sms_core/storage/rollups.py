"""The roll-ups count days as the organisation lives them, and keep time to delivery.

Trigger-kept tables answer the delivery-rates page: the daily counts (``rollup_daily``), the
time-to-delivery histogram (``rollup_histogram``) and the breakdowns by sender and standard text
(``rollup_breakdowns``).  All key a message by the *local* day of its
Sent on in the organisation's time zone (the setting).  SQLite has no time zones of its own, so it
reads them from ``sms_zone_offsets`` — the zone's offsets from UTC with the instant each begins,
made by Python's zoneinfo; PostgreSQL converts with its own copy of the same rules
(``postgres_local_day``), which a delivery report's triggers need five times.

Changing the time zone rebuilds the roll-ups from the messages and their history, in the
transaction that stores the setting (``rebuild``): at ten million messages that takes a minute or
so, during which other writers wait for the roll-ups' locks; the page is exact again once it commits.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from functools import cache
from zoneinfo import ZoneInfo

from sqlalchemy import BigInteger, ColumnElement, Connection, cast, func, text

from sms_core.domain.setting_definitions import BY_KEY, ORGANISATION_TIME_ZONE
from sms_core.storage import rollup_breakdowns, rollup_daily, rollup_histogram

FIRST_YEAR, LAST_YEAR = 1970, 2100  # the offsets table's span; the first offset also holds before it


@cache  # about half a second a zone: once a process
def zone_offsets(zone: str) -> tuple[tuple[datetime, int], ...]:
    """(naive UTC start, minutes east of UTC) for each change of the zone's offset, to the second."""
    tz = ZoneInfo(zone)

    def offset(at: datetime) -> int:
        return int(at.astimezone(tz).utcoffset().total_seconds() // 60)

    at = datetime(FIRST_YEAR, 1, 1, tzinfo=UTC)
    rows = [(datetime(1, 1, 1), offset(at))]
    end = datetime(LAST_YEAR + 1, 1, 1, tzinfo=UTC)
    while at < end:
        step = at + timedelta(days=1)
        if offset(step) != offset(at):
            low, high = at, step  # offset(low) is the old one, offset(high) the new one
            while high - low > timedelta(seconds=1):
                middle = low + (high - low) / 2
                low, high = (middle, high) if offset(middle) == offset(low) else (low, middle)
            rows.append((high.replace(tzinfo=None, microsecond=0), offset(high)))
        at = step
    return tuple(rows)


def local_day_sql(column: str, dialect: str) -> str:
    """The local day of a naive-UTC time column, as SQL.  PostgreSQL wraps it in a function
    (``sms_local_day``, made by ``install``) so the triggers and the backfill read alike."""
    if dialect == "postgresql":
        return f"sms_local_day({column})"
    offset = f"(SELECT minutes FROM sms_zone_offsets WHERE starts_at <= {column} ORDER BY starts_at DESC LIMIT 1)"
    # Whole seconds first: with a modifier SQLite rounds to milliseconds, so 23:59:59.9999995
    # would land on the next day.
    return f"date(substr({column}, 1, 19), {offset} || ' minutes')"


OFFSET_LOOKUP = """SELECT (t + make_interval(mins => (
        SELECT minutes FROM sms_zone_offsets WHERE starts_at <= t ORDER BY starts_at DESC LIMIT 1)))::date"""
ZONE_NAME = re.compile(r"[A-Za-z0-9_+\-/]+")


def postgres_local_day(conn: Connection, zone: str) -> str:
    """PostgreSQL knows the zones itself: the local day from the zone's name costs a fifth of the
    offsets lookup SQLite needs, and a delivery report works out five of them in the triggers.
    Both read the same IANA rules, which tests/storage/test_local_days.py checks across both clock
    changes.  A zone PostgreSQL does not know (its time zone data older than Python's) keeps the
    lookup, so a message is never refused for it."""
    known = (
        ZONE_NAME.fullmatch(zone)
        and conn.execute(
            text("SELECT EXISTS (SELECT 1 FROM pg_timezone_names WHERE name = :zone)"), {"zone": zone}
        ).scalar()
    )
    body = f"SELECT ((t AT TIME ZONE 'UTC') AT TIME ZONE '{zone}')::date" if known else OFFSET_LOOKUP
    return f"CREATE OR REPLACE FUNCTION sms_local_day(t timestamp) RETURNS date AS $$ {body} $$ LANGUAGE sql STABLE"


# The roll-ups' trigger functions run their statements with cached generic plans, whatever the
# session's plan_cache_mode (database.py plans the app's own statements with their values): the
# statements are the same shape for every row, and planning them again on each status change
# took a quarter of a delivery report's cost.
TRIGGER_PLANS = "SET plan_cache_mode = auto"


def install_local_day(conn: Connection) -> None:
    """PostgreSQL: make ``sms_local_day`` count days in the stored zone setting — at install, and
    wherever the settings table is written by other means than ``change_setting`` (a restore)."""
    conn.exec_driver_sql(postgres_local_day(conn, organisation_zone(conn)))


def install(conn: Connection) -> None:
    """(Re)create the triggers that keep the roll-ups.  The migrations before the ones that made
    today's tables (0016, 0017) call this too, so a roll-up whose table is not there yet is left
    alone: its migration installs and fills it."""
    if conn.dialect.name == "postgresql":
        install_local_day(conn)
    for part in _present(conn):
        part.install(conn, local_day_sql, TRIGGER_PLANS)


def uninstall(conn: Connection) -> None:
    """Drop what ``install`` made, and the trigger of the histogram's narrow forerunner (0010–0014);
    migration 0003's daily-count triggers are the caller's (0010 puts back their UTC days)."""
    for part in PARTS:
        part.uninstall(conn)
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql("DROP TRIGGER IF EXISTS sms_delivery_times_insert ON sms_status_events")
        conn.exec_driver_sql("DROP FUNCTION IF EXISTS sms_delivery_times_keep()")
    else:
        conn.exec_driver_sql("DROP TRIGGER IF EXISTS sms_delivery_times_insert")


def organisation_zone(conn: Connection) -> str:
    """The time zone the roll-ups count days in: the setting, or its default."""
    definition = BY_KEY[ORGANISATION_TIME_ZONE]
    stored = conn.execute(text("SELECT value FROM settings WHERE key = :key"), {"key": definition.key}).scalar()
    return str(definition.default if stored is None else definition.parse(stored))


def rebuild(conn: Connection, zone: str) -> None:
    """Count the roll-ups again from the messages and their history, days in ``zone``."""
    dialect = conn.dialect.name
    conn.exec_driver_sql("DELETE FROM sms_zone_offsets")
    conn.execute(
        text("INSERT INTO sms_zone_offsets (starts_at, minutes) VALUES (:starts_at, :minutes)"),
        [{"starts_at": _offset_start(at, dialect), "minutes": m} for at, m in zone_offsets(zone)],
    )
    if dialect == "postgresql":
        conn.exec_driver_sql(postgres_local_day(conn, zone))
    for part in _present(conn):
        conn.exec_driver_sql(f"DELETE FROM {part.TABLE}")
    add_messages(conn, 0)


def whole_sum(column) -> ColumnElement[int]:
    """A roll-up column's sum as a whole number: PostgreSQL sums bigints into numeric, which
    arrives in Python as a Decimal per row; the sums of counts always fit a bigint."""
    return cast(func.sum(column), BigInteger)


PARTS = (rollup_daily, rollup_histogram, rollup_breakdowns)
ROLLUP_TABLES = tuple(part.TABLE for part in PARTS)


def _present(conn: Connection) -> list:
    return [part for part in PARTS if part.present(conn)]


def add_messages(conn: Connection, first_id: int) -> None:
    """Add the messages from ``first_id`` on, and their history, to the roll-ups (for a bulk load
    that wrote them with the triggers off)."""
    present = _present(conn)
    for part in present:
        part.add_messages(conn, first_id, local_day_sql)
    if present and conn.dialect.name == "postgresql":
        # Statistics at once: until autovacuum gets round to the tables (minutes, at ten million
        # messages longer), the planner takes a rebuilt roll-up for empty and reads the
        # delivery-rates page's figures through the wrong index, ten times slower.
        conn.exec_driver_sql(f"ANALYZE {', '.join(part.TABLE for part in present)}")


def _offset_start(at: datetime, dialect: str) -> datetime | str:
    return at if dialect == "postgresql" else at.isoformat(sep=" ")
