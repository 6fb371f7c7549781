"""The time-to-delivery roll-up: one row per local day and org unit, its buckets side by side.

The delivery-rates page sums a period's histogram per day, per unit and for the period before.
Kept as one row per (day, unit, bucket), that was about 23 non-empty rows for every day and unit,
each hashed into its group: at ten million messages the largest of the page's reads (113 ms for
all 50 units over 90 days).  With the 41 buckets as columns of one row, the database adds up
one row per day and unit, column by column, and a Received event still changes one row.
Days are local, as in ``rollups``; the row is kept by a trigger on the status history.
"""

from __future__ import annotations

from sqlalchemy import Connection, inspect, text

from sms_core.domain.delivery_times import OPEN_ENDED, bucket_sql
from sms_core.domain.statuses import SmsStatus

TABLE = "sms_delivery_histograms"
BUCKETS = tuple(range(OPEN_ENDED + 1))
COLUMNS = tuple(f"bucket_{b}" for b in BUCKETS)  # bucket b's count in column COLUMNS[b]
RECEIVED = int(SmsStatus.RECEIVED)
NEW_EVENT = "(SELECT NEW.message_id AS message_id, NEW.status AS status, NEW.at AS at) e"


def present(conn: Connection) -> bool:
    """Whether the table exists yet: the migrations before the one that makes it (0016) install
    and rebuild the other roll-ups with today's code and must leave this one alone."""
    return inspect(conn).has_table(TABLE)


def _seconds_to_delivery(dialect: str) -> str:
    if dialect == "postgresql":
        return "extract(epoch FROM e.at - m.sent_on)"
    return "round((julianday(e.at) - julianday(m.sent_on)) * 86400.0, 3)"  # julianday keeps milliseconds


def _insert(dialect: str, event: str, local_day, since: str = "") -> str:
    """Count the Received events chosen by ``event`` (a FROM-clause source aliased ``e``)."""
    day = local_day("m.sent_on", dialect)
    bucket = bucket_sql(_seconds_to_delivery(dialect), dialect)
    counts = ", ".join(f"sum(CASE WHEN b = {b} THEN 1 ELSE 0 END)" for b in BUCKETS)
    postgres = dialect == "postgresql"
    prefix = "d." if postgres else ""
    added = ", ".join(f"{c} = {prefix}{c} + excluded.{c}" for c in COLUMNS)
    return f"""INSERT INTO {TABLE} {"AS d" if postgres else ""} (day, org_unit_id, {", ".join(COLUMNS)})
        SELECT day, unit, {counts} FROM (
            SELECT {day} AS day, m.org_unit_id AS unit, {bucket} AS b FROM {event}
              JOIN sms_messages m ON m.id = e.message_id
             WHERE e.status = {RECEIVED} {since}) AS received
         GROUP BY day, unit
        ON CONFLICT (org_unit_id, day) DO UPDATE SET {added}"""


def install(conn: Connection, local_day, trigger_plans: str) -> None:
    """(Re)create the trigger; ``local_day`` and ``trigger_plans`` as in ``rollup_breakdowns``."""
    dialect = conn.dialect.name
    insert = _insert(dialect, NEW_EVENT, local_day)
    if dialect == "postgresql":
        conn.exec_driver_sql(
            f"""CREATE OR REPLACE FUNCTION sms_delivery_histograms_keep() RETURNS trigger AS $$
            BEGIN
                {insert};
                RETURN NULL;
            END $$ LANGUAGE plpgsql {trigger_plans}"""
        )
        conn.exec_driver_sql("DROP TRIGGER IF EXISTS sms_delivery_histograms_insert ON sms_status_events")
        conn.exec_driver_sql(
            f"""CREATE TRIGGER sms_delivery_histograms_insert AFTER INSERT ON sms_status_events
                FOR EACH ROW WHEN (NEW.status = {RECEIVED}) EXECUTE FUNCTION sms_delivery_histograms_keep()"""
        )
        return
    conn.exec_driver_sql("DROP TRIGGER IF EXISTS sms_delivery_histograms_insert")
    conn.exec_driver_sql(
        f"""CREATE TRIGGER sms_delivery_histograms_insert AFTER INSERT ON sms_status_events
            WHEN NEW.status = {RECEIVED} BEGIN {insert}; END"""
    )


def uninstall(conn: Connection) -> None:
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql("DROP TRIGGER IF EXISTS sms_delivery_histograms_insert ON sms_status_events")
        conn.exec_driver_sql("DROP FUNCTION IF EXISTS sms_delivery_histograms_keep()")
    else:
        conn.exec_driver_sql("DROP TRIGGER IF EXISTS sms_delivery_histograms_insert")


def add_messages(conn: Connection, first_id: int, local_day) -> None:
    """Add the Received events of the messages from ``first_id`` on (all: 0)."""
    since = "AND m.id >= :first"
    conn.execute(text(_insert(conn.dialect.name, "sms_status_events e", local_day, since)), {"first": first_id})
