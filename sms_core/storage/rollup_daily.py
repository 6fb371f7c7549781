"""The daily counts: messages and SMS segments per local day and org unit, the statuses side by side.

Every delivery-rates figure but the gateway errors and the stuck messages starts here.  Kept as
one row per (day, unit, status) — migration 0003's shape — the page summed about eight rows for
every day and unit, and a status change wrote two rows (one less in the old status, one more in
the new).  With a column per status a day and unit is one row: the page adds up an eighth of the
rows, and a delivery report changes one row in one statement.  Days are local, as in ``rollups``.
"""

from __future__ import annotations

from sqlalchemy import Connection, inspect, text

from sms_core.domain.statuses import SmsStatus

TABLE = "sms_daily_status_counts"
MESSAGES = {status: status.name.lower() for status in SmsStatus}  # status → its messages' column
SEGMENTS = {status: f"{status.name.lower()}_segments" for status in SmsStatus}
COLUMNS = (*MESSAGES.values(), *SEGMENTS.values())
WATCHED = ("status", "sent_on", "org_unit_id", "segments")
ALL_MESSAGES = " + ".join(MESSAGES.values())  # a row's messages of every status, as SQL


def present(conn: Connection) -> bool:
    """Whether the table exists yet: the migrations before the one that makes it (0017) install
    and rebuild the other roll-ups with today's code and leave migration 0003's table as it is."""
    return inspect(conn).has_table(TABLE)


def _counts(status: str, messages: str, segments: str) -> list[str]:
    """The row's columns for messages of ``status`` (SQL expressions), ``messages`` of them with
    ``segments`` SMS segments, in the order of ``COLUMNS``."""
    return [f"CASE WHEN {status} = {int(s)} THEN {messages} ELSE 0 END" for s in MESSAGES] + [
        f"CASE WHEN {status} = {int(s)} THEN {segments} ELSE 0 END" for s in SEGMENTS
    ]


def _upsert(dialect: str) -> str:
    prefix = "d." if dialect == "postgresql" else ""
    added = ", ".join(f"{c} = {prefix}{c} + excluded.{c}" for c in COLUMNS)
    return f"ON CONFLICT (org_unit_id, day) DO UPDATE SET {added}"


def _postgres_function(local_day, trigger_plans: str) -> str:
    """Both sides of a change in one statement (OLD is NULL on INSERT, NEW on DELETE), summed per
    day and unit first, since ON CONFLICT may touch a row only once, and written in the key's
    order, so two changes that touch the same two rows lock them in one order (no deadlock)."""
    sides = ", ".join(
        f"({local_day(f'{row}.sent_on', 'postgresql')}, {row}.org_unit_id, {row}.status, {sign}1, {sign}{row}.segments)"
        for row, sign in (("OLD", "-"), ("NEW", ""))
    )
    sums = ", ".join(f"sum({c})" for c in _counts("status", "n", "segments"))
    return f"""
CREATE OR REPLACE FUNCTION sms_daily_status_counts_keep() RETURNS trigger AS $$
BEGIN
    INSERT INTO {TABLE} AS d (org_unit_id, day, {", ".join(COLUMNS)})
    SELECT org_unit_id, day, {sums}
      FROM (VALUES {sides}) AS change (day, org_unit_id, status, n, segments)
     WHERE org_unit_id IS NOT NULL GROUP BY org_unit_id, day ORDER BY org_unit_id, day
    {_upsert("postgresql")};
    RETURN NULL;
END $$ LANGUAGE plpgsql {trigger_plans}"""


def _sqlite_side(row: str, sign: str, local_day) -> str:
    values = ", ".join(_counts(f"{row}.status", f"{sign}1", f"{sign}{row}.segments"))
    return f"""INSERT INTO {TABLE} (org_unit_id, day, {", ".join(COLUMNS)})
        VALUES ({row}.org_unit_id, {local_day(f"{row}.sent_on", "sqlite")}, {values}) {_upsert("sqlite")};"""


def create_postgres_triggers(conn: Connection, table: str, watched: tuple[str, ...]) -> None:
    """The triggers on the messages that run ``{table}_keep()``: after every insert and delete,
    and after an update that changes one of the ``watched`` columns (no other edit moves a count)."""
    changed = " OR ".join(f"OLD.{c} IS DISTINCT FROM NEW.{c}" for c in watched)
    for name, event, when in (
        ("insert_delete", "INSERT OR DELETE", ""),
        ("update", f"UPDATE OF {', '.join(watched)}", f"WHEN ({changed})"),
    ):
        conn.exec_driver_sql(f"DROP TRIGGER IF EXISTS {table}_{name} ON sms_messages")
        conn.exec_driver_sql(
            f"""CREATE TRIGGER {table}_{name} AFTER {event} ON sms_messages
                FOR EACH ROW {when} EXECUTE FUNCTION {table}_keep()"""
        )


def install(conn: Connection, local_day, trigger_plans: str) -> None:
    """(Re)create the triggers; ``local_day`` and ``trigger_plans`` as in ``rollup_breakdowns``."""
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql(_postgres_function(local_day, trigger_plans))
        create_postgres_triggers(conn, TABLE, WATCHED)
        return
    old, new = _sqlite_side("OLD", "-", local_day), _sqlite_side("NEW", "", local_day)
    changed = " OR ".join(f"OLD.{c} IS NOT NEW.{c}" for c in WATCHED)
    for name, event, body in (
        ("insert", "INSERT", new),
        ("delete", "DELETE", old),
        ("update", f"UPDATE OF {', '.join(WATCHED)}", f"{old} {new}"),
    ):
        when = f"WHEN {changed}" if name == "update" else ""
        conn.exec_driver_sql(f"DROP TRIGGER IF EXISTS sms_daily_status_counts_{name}")
        conn.exec_driver_sql(
            f"CREATE TRIGGER sms_daily_status_counts_{name} AFTER {event} ON sms_messages {when} BEGIN {body} END"
        )


def uninstall(conn: Connection) -> None:
    if conn.dialect.name == "postgresql":
        for name in ("insert_delete", "update"):
            conn.exec_driver_sql(f"DROP TRIGGER IF EXISTS sms_daily_status_counts_{name} ON sms_messages")
        conn.exec_driver_sql("DROP FUNCTION IF EXISTS sms_daily_status_counts_keep()")
    else:
        for name in ("insert", "delete", "update"):
            conn.exec_driver_sql(f"DROP TRIGGER IF EXISTS sms_daily_status_counts_{name}")


def add_messages(conn: Connection, first_id: int, local_day) -> None:
    """Add the messages from ``first_id`` on (written with the triggers off, or all: 0)."""
    dialect = conn.dialect.name
    sums = ", ".join(f"sum({c})" for c in _counts("status", "1", "segments"))
    conn.execute(
        text(
            f"""INSERT INTO {TABLE} {"AS d" if dialect == "postgresql" else ""} (org_unit_id, day, {", ".join(COLUMNS)})
            SELECT org_unit_id, {local_day("sent_on", dialect)}, {sums}
              FROM sms_messages WHERE id >= :first GROUP BY 1, 2
            {_upsert(dialect)}"""
        ),
        {"first": first_id},
    )
