"""Time to delivery kept as one row per local day and org unit, the 41 buckets side by side.

The narrow roll-up of 0010 (a row per day, unit and bucket) made the page hash about 23 rows for
every day and unit it read: at ten million messages the largest of the delivery-rates page's reads.
The new table is filled from the status history, the same pass 0010 made, so on a populated
database it counts every Received event again (at ten million messages a minute or two); the
narrow table, its trigger and its covering index go.  The downgrade makes the narrow table again
and counts it from the wide one.

Revision ID: 0016
Revises: 0014
Create Date: 2026-12-08
"""

import sqlalchemy as sa
from alembic import op

from sms_core.domain.delivery_times import bucket_sql
from sms_core.storage import rollup_histogram, rollups

revision = "0016"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    conn = op.get_bind()
    rollups.uninstall(conn)  # every roll-up trigger but the daily counts'; install makes them again
    op.drop_table("sms_delivery_times")  # with its covering index (0010, 0014)
    op.create_table(
        rollup_histogram.TABLE,
        sa.Column("org_unit_id", sa.Integer(), primary_key=True),
        sa.Column("day", sa.Date(), primary_key=True),
        *(sa.Column(name, sa.Integer(), nullable=False, server_default="0") for name in rollup_histogram.COLUMNS),
    )
    rollups.install(conn)
    rollup_histogram.add_messages(conn, 0, rollups.local_day_sql)
    if conn.dialect.name == "postgresql":
        op.execute(f"ANALYZE {rollup_histogram.TABLE}")


def downgrade() -> None:
    conn = op.get_bind()
    rollup_histogram.uninstall(conn)
    op.create_table(
        "sms_delivery_times",
        sa.Column("day", sa.Date(), primary_key=True),
        sa.Column("org_unit_id", sa.Integer(), primary_key=True),
        sa.Column("bucket", sa.SmallInteger(), primary_key=True),
        sa.Column("messages", sa.BigInteger(), nullable=False),
    )
    if conn.dialect.name == "postgresql":
        op.execute(
            "CREATE INDEX ix_sms_delivery_times_unit_covering ON sms_delivery_times (org_unit_id, day, bucket) "
            "INCLUDE (messages)"
        )
    for bucket, column in zip(rollup_histogram.BUCKETS, rollup_histogram.COLUMNS, strict=True):
        op.execute(
            f"""INSERT INTO sms_delivery_times (day, org_unit_id, bucket, messages)
                SELECT day, org_unit_id, {bucket}, {column} FROM {rollup_histogram.TABLE} WHERE {column} <> 0"""
        )
    op.drop_table(rollup_histogram.TABLE)
    _narrow_trigger(conn)


def _narrow_trigger(conn) -> None:
    """0014's trigger for the narrow table, frozen here: today's code no longer has it."""
    dialect = conn.dialect.name
    seconds = (
        "extract(epoch FROM NEW.at - m.sent_on)"
        if dialect == "postgresql"
        else "round((julianday(NEW.at) - julianday(m.sent_on)) * 86400.0, 3)"
    )
    prefix = "d." if dialect == "postgresql" else ""
    insert = f"""INSERT INTO sms_delivery_times {"AS d" if prefix else ""} (day, org_unit_id, bucket, messages)
        SELECT {rollups.local_day_sql("m.sent_on", dialect)}, m.org_unit_id, {bucket_sql(seconds, dialect)}, 1
          FROM sms_messages m WHERE m.id = NEW.message_id
        ON CONFLICT (day, org_unit_id, bucket) DO UPDATE SET messages = {prefix}messages + 1"""
    when = f"NEW.status = {rollup_histogram.RECEIVED}"
    if dialect == "postgresql":
        op.execute(
            f"""CREATE OR REPLACE FUNCTION sms_delivery_times_keep() RETURNS trigger AS $$
            BEGIN {insert}; RETURN NULL; END $$ LANGUAGE plpgsql {rollups.TRIGGER_PLANS}"""
        )
        op.execute(
            f"""CREATE TRIGGER sms_delivery_times_insert AFTER INSERT ON sms_status_events
                FOR EACH ROW WHEN ({when}) EXECUTE FUNCTION sms_delivery_times_keep()"""
        )
    else:
        op.execute(
            f"CREATE TRIGGER sms_delivery_times_insert AFTER INSERT ON sms_status_events WHEN {when} BEGIN {insert}; END"
        )
