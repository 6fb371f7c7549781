"""The breakdowns by sender and standard text kept as one row per local day, org unit and key,
a column per status.

0010's roll-up had a row per day, unit, sender or standard text and status: the delivery-rates
page summed a row per status seen (at ten million messages 66 ms of its reads for all 50 units
over 90 days, 5.7 times the rows of the new table), and a delivery report wrote two rows per
dimension.  The new table is counted from the messages (two passes, as 0010's rebuild made), in
this transaction: the old triggers are dropped first, which locks the messages until it commits
(on PostgreSQL against readers too), so no change is missed.  Its primary key leads with the unit
and on PostgreSQL carries the counts (INCLUDE), so the page reads the index alone once the table
has a visibility map.  VACUUM cannot run in a transaction: until autovacuum visits the table (off
on some servers: then run ``VACUUM sms_daily_breakdown_counts``) the read also fetches every row
from the table, which the count wrote in the key's order so that costs little.
The downgrade makes the narrow table again from the wide one, with the triggers it had at 0017
(frozen here: today's code no longer has them).

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-08
"""

import sqlalchemy as sa
from alembic import op

from sms_core.storage import rollup_breakdowns, rollups

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

NARROW = rollup_breakdowns.NARROW


def upgrade() -> None:
    conn = op.get_bind()
    rollup_breakdowns.uninstall(conn)  # the narrow table's triggers too
    op.drop_table(NARROW)  # with its covering index (0010, 0014)
    counts = list(rollup_breakdowns.COUNTS.values())
    op.create_table(
        rollup_breakdowns.TABLE,
        sa.Column("org_unit_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("dimension", sa.SmallInteger(), nullable=False),
        sa.Column("key", sa.BigInteger(), nullable=False),
        *(sa.Column(name, sa.Integer(), nullable=False, server_default="0") for name in counts),
        sa.PrimaryKeyConstraint(*rollup_breakdowns.KEY, postgresql_include=counts),
    )
    rollup_breakdowns.add_messages(conn, 0, rollups.local_day_sql)
    rollup_breakdowns.install(conn, rollups.local_day_sql, rollups.TRIGGER_PLANS)
    if conn.dialect.name == "postgresql":
        op.execute(f"ANALYZE {rollup_breakdowns.TABLE}")


def downgrade() -> None:
    conn = op.get_bind()
    rollup_breakdowns.uninstall(conn)
    op.create_table(
        NARROW,
        sa.Column("day", sa.Date(), primary_key=True),
        sa.Column("org_unit_id", sa.Integer(), primary_key=True),
        sa.Column("dimension", sa.SmallInteger(), primary_key=True),
        sa.Column("key", sa.BigInteger(), primary_key=True),
        sa.Column("status", sa.SmallInteger(), primary_key=True),
        sa.Column("messages", sa.BigInteger(), nullable=False),
    )
    for status, column in rollup_breakdowns.COUNTS.items():
        op.execute(
            f"""INSERT INTO {NARROW} (day, org_unit_id, dimension, key, status, messages)
                SELECT day, org_unit_id, dimension, key, {int(status)}, {column} FROM {rollup_breakdowns.TABLE}
                 WHERE {column} <> 0"""
        )
    op.drop_table(rollup_breakdowns.TABLE)
    postgres = conn.dialect.name == "postgresql"
    if postgres:
        op.execute(
            f"CREATE INDEX ix_{NARROW}_unit_covering ON {NARROW} (org_unit_id, day, dimension, key, status) "
            "INCLUDE (messages)"
        )
        op.execute(_postgres_narrow(rollups.TRIGGER_PLANS))
    watched = ", ".join(rollup_breakdowns.WATCHED)
    changed = " OR ".join(
        f"OLD.{c} {'IS DISTINCT FROM' if postgres else 'IS NOT'} NEW.{c}" for c in rollup_breakdowns.WATCHED
    )
    if postgres:
        op.execute(f"""CREATE TRIGGER {NARROW}_insert_delete AFTER INSERT OR DELETE ON sms_messages
                       FOR EACH ROW EXECUTE FUNCTION {NARROW}_keep()""")
        op.execute(f"""CREATE TRIGGER {NARROW}_update AFTER UPDATE OF {watched} ON sms_messages
                       FOR EACH ROW WHEN ({changed}) EXECUTE FUNCTION {NARROW}_keep()""")
        op.execute(f"ANALYZE {NARROW}")
    else:
        old, new = _sqlite_narrow("OLD", "-"), _sqlite_narrow("NEW", "")
        op.execute(f"CREATE TRIGGER {NARROW}_insert AFTER INSERT ON sms_messages BEGIN {new} END")
        op.execute(f"CREATE TRIGGER {NARROW}_delete AFTER DELETE ON sms_messages BEGIN {old} END")
        op.execute(f"""CREATE TRIGGER {NARROW}_update AFTER UPDATE OF {watched} ON sms_messages
                       WHEN {changed} BEGIN {old} {new} END""")


def _postgres_narrow(plans: str) -> str:
    sides = ", ".join(
        f"(sms_local_day({row}.sent_on), {row}.org_unit_id, {dim}, COALESCE({row}.{col}, 0), {row}.status, {sign}1)"
        for row, sign in (("OLD", "-"), ("NEW", ""))
        for dim, col in rollup_breakdowns.DIMENSIONS.items()
    )
    return f"""
CREATE OR REPLACE FUNCTION {NARROW}_keep() RETURNS trigger AS $$
BEGIN
    INSERT INTO {NARROW} AS d (day, org_unit_id, dimension, key, status, messages)
    SELECT day, org_unit_id, dimension, key, status, sum(messages)
      FROM (VALUES {sides}) AS change (day, org_unit_id, dimension, key, status, messages)
     WHERE org_unit_id IS NOT NULL GROUP BY 1, 2, 3, 4, 5 HAVING sum(messages) <> 0
    ON CONFLICT (day, org_unit_id, dimension, key, status) DO UPDATE SET messages = d.messages + excluded.messages;
    RETURN NULL;
END $$ LANGUAGE plpgsql {plans}"""


def _sqlite_narrow(row: str, sign: str) -> str:
    keys = " UNION ALL ".join(
        f"SELECT {dim} AS dimension, COALESCE({row}.{col}, 0) AS k" for dim, col in rollup_breakdowns.DIMENSIONS.items()
    )
    return f"""INSERT INTO {NARROW} (day, org_unit_id, dimension, key, status, messages)
        SELECT {rollups.local_day_sql(f"{row}.sent_on", "sqlite")}, {row}.org_unit_id, keys.dimension, keys.k,
               {row}.status, {sign}1 FROM ({keys}) AS keys WHERE true
        ON CONFLICT (day, org_unit_id, dimension, key, status) DO UPDATE SET messages = messages {sign}+ 1;"""
