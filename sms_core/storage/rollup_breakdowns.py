"""The breakdowns' roll-up: messages per local day, unit, sender or standard text, and status.

The delivery rates by sender and by standard text must stay as cheap as the other figures at ten
million messages, so they are counted as the daily counts are: by triggers, on both databases, in
one table with a ``dimension`` column (``SENDER``: the user who sent, 0 for none; ``STANDARD_TEXT``:
the standard text the message was made from, 0 for none).  Days are local, as in ``rollups``.
"""

from __future__ import annotations

from sqlalchemy import Connection, inspect, text

TABLE = "sms_daily_breakdowns"
SENDER, STANDARD_TEXT = 1, 2
DIMENSIONS = {SENDER: "sent_by_user_id", STANDARD_TEXT: "standard_text_id"}
WATCHED = ("status", "sent_on", "org_unit_id", "sent_by_user_id", "standard_text_id")


def present(conn: Connection) -> bool:
    return inspect(conn).has_table(TABLE)


def _add(row: str, sign: str, day: str) -> str:
    """SQLite: both dimensions' rows of message ``row`` (NEW or OLD), counted ``sign`` once."""
    keys = " UNION ALL ".join(
        f"SELECT {dim} AS dimension, COALESCE({row}.{col}, 0) AS k" for dim, col in DIMENSIONS.items()
    )
    return f"""INSERT INTO sms_daily_breakdowns (day, org_unit_id, dimension, key, status, messages)
        SELECT {day}, {row}.org_unit_id, keys.dimension, keys.k, {row}.status, {sign}1 FROM ({keys}) AS keys WHERE true
        ON CONFLICT (day, org_unit_id, dimension, key, status) DO UPDATE SET messages = messages {sign}+ 1;"""


def _postgres_function(local_day, trigger_plans: str) -> str:
    """Both sides of a change in one statement, as the daily counts' trigger does (rollups.py)."""
    sides = ", ".join(
        f"({local_day(f'{row}.sent_on', 'postgresql')}, {row}.org_unit_id, {dim}, COALESCE({row}.{col}, 0), "
        f"{row}.status, {sign}1)"
        for row, sign in (("OLD", "-"), ("NEW", ""))
        for dim, col in DIMENSIONS.items()
    )
    return f"""
CREATE OR REPLACE FUNCTION sms_daily_breakdowns_keep() RETURNS trigger AS $$
BEGIN
    INSERT INTO sms_daily_breakdowns AS d (day, org_unit_id, dimension, key, status, messages)
    SELECT day, org_unit_id, dimension, key, status, sum(messages)
      FROM (VALUES {sides}) AS change (day, org_unit_id, dimension, key, status, messages)
     WHERE org_unit_id IS NOT NULL GROUP BY 1, 2, 3, 4, 5 HAVING sum(messages) <> 0
    ON CONFLICT (day, org_unit_id, dimension, key, status) DO UPDATE SET messages = d.messages + excluded.messages;
    RETURN NULL;
END $$ LANGUAGE plpgsql {trigger_plans}"""


def install(conn: Connection, local_day, trigger_plans: str) -> None:
    """(Re)create the triggers; ``local_day(column, dialect)`` is the roll-ups' local-day SQL,
    ``trigger_plans`` the PostgreSQL function's plan settings."""
    dialect = conn.dialect.name
    if dialect == "postgresql":
        conn.exec_driver_sql(_postgres_function(local_day, trigger_plans))
        changed = " OR ".join(f"OLD.{c} IS DISTINCT FROM NEW.{c}" for c in WATCHED)
        for name, event, when in (
            ("insert_delete", "INSERT OR DELETE", ""),
            ("update", f"UPDATE OF {', '.join(WATCHED)}", f"WHEN ({changed})"),
        ):
            conn.exec_driver_sql(f"DROP TRIGGER IF EXISTS sms_daily_breakdowns_{name} ON sms_messages")
            conn.exec_driver_sql(
                f"""CREATE TRIGGER sms_daily_breakdowns_{name} AFTER {event} ON sms_messages
                    FOR EACH ROW {when} EXECUTE FUNCTION sms_daily_breakdowns_keep()"""
            )
        return
    old = _add("OLD", "-", local_day("OLD.sent_on", dialect))
    new = _add("NEW", "", local_day("NEW.sent_on", dialect))
    changed = " OR ".join(f"OLD.{c} IS NOT NEW.{c}" for c in WATCHED)
    for name, event, body in (
        ("insert", "INSERT", new),
        ("delete", "DELETE", old),
        ("update", f"UPDATE OF {', '.join(WATCHED)}", f"{old} {new}"),
    ):
        when = f"WHEN {changed}" if name == "update" else ""
        conn.exec_driver_sql(f"DROP TRIGGER IF EXISTS sms_daily_breakdowns_{name}")
        conn.exec_driver_sql(
            f"CREATE TRIGGER sms_daily_breakdowns_{name} AFTER {event} ON sms_messages {when} BEGIN {body} END"
        )


def uninstall(conn: Connection) -> None:
    if conn.dialect.name == "postgresql":
        for name in ("insert_delete", "update"):
            conn.exec_driver_sql(f"DROP TRIGGER IF EXISTS sms_daily_breakdowns_{name} ON sms_messages")
        conn.exec_driver_sql("DROP FUNCTION IF EXISTS sms_daily_breakdowns_keep()")
    else:
        for name in ("insert", "delete", "update"):
            conn.exec_driver_sql(f"DROP TRIGGER IF EXISTS sms_daily_breakdowns_{name}")


def add_messages(conn: Connection, first_id: int, local_day) -> None:
    """Add the messages from ``first_id`` on (written with the triggers off, or all: 0)."""
    dialect = conn.dialect.name
    prefix = "d." if dialect == "postgresql" else ""
    target = "sms_daily_breakdowns AS d" if dialect == "postgresql" else "sms_daily_breakdowns"
    for dimension, column in DIMENSIONS.items():
        conn.execute(
            text(
                f"""INSERT INTO {target} (day, org_unit_id, dimension, key, status, messages)
                SELECT {local_day("sent_on", dialect)}, org_unit_id, {dimension}, COALESCE({column}, 0), status, count(*)
                  FROM sms_messages WHERE id >= :first GROUP BY 1, 2, 3, 4, 5
                ON CONFLICT (day, org_unit_id, dimension, key, status)
                DO UPDATE SET messages = {prefix}messages + excluded.messages"""
            ),
            {"first": first_id},
        )
