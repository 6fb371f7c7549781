"""The daily counts kept as one row per local day and org unit, a column per status.

Migration 0003's roll-up had a row per day, unit and status: the delivery-rates page summed about
eight rows for every day and unit, and every status change wrote two of them.  The new table is
counted from the messages (one pass, as 0010's rebuild made), and 0003's table, its triggers and
their function go.  The downgrade makes the narrow table again from the wide one, with the
local-day triggers it had at 0014 (frozen here: today's code no longer has them).

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-08
"""

import sqlalchemy as sa
from alembic import op

from sms_core.storage import rollup_daily, rollups

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

NARROW_TRIGGERS = {"postgresql": ("insert_delete", "update"), "sqlite": ("insert", "delete", "update")}


def upgrade() -> None:
    conn = op.get_bind()
    postgres = conn.dialect.name == "postgresql"
    for name in NARROW_TRIGGERS[conn.dialect.name]:
        op.execute(f"DROP TRIGGER IF EXISTS sms_daily_counts_{name}" + (" ON sms_messages" if postgres else ""))
    if postgres:
        op.execute("DROP FUNCTION IF EXISTS sms_daily_counts_keep()")
    op.drop_table("sms_daily_counts")  # with its covering index (0006, 0014)
    op.create_table(
        rollup_daily.TABLE,
        sa.Column("org_unit_id", sa.Integer(), primary_key=True),
        sa.Column("day", sa.Date(), primary_key=True),
        *(sa.Column(name, sa.Integer(), nullable=False, server_default="0") for name in rollup_daily.COLUMNS),
    )
    rollups.install(conn)
    rollup_daily.add_messages(conn, 0, rollups.local_day_sql)
    if postgres:
        op.execute(f"ANALYZE {rollup_daily.TABLE}")


def downgrade() -> None:
    conn = op.get_bind()
    rollup_daily.uninstall(conn)
    op.create_table(
        "sms_daily_counts",
        sa.Column("day", sa.Date(), primary_key=True),
        sa.Column("org_unit_id", sa.Integer(), primary_key=True),
        sa.Column("status", sa.SmallInteger(), primary_key=True),
        sa.Column("messages", sa.BigInteger(), nullable=False),
        sa.Column("segments", sa.BigInteger(), nullable=False),
    )
    for status, messages in rollup_daily.MESSAGES.items():
        segments = rollup_daily.SEGMENTS[status]
        op.execute(
            f"""INSERT INTO sms_daily_counts (day, org_unit_id, status, messages, segments)
                SELECT day, org_unit_id, {int(status)}, {messages}, {segments} FROM {rollup_daily.TABLE}
                 WHERE {messages} <> 0 OR {segments} <> 0"""
        )
    op.drop_table(rollup_daily.TABLE)
    if conn.dialect.name == "postgresql":
        op.execute(
            "CREATE INDEX ix_sms_daily_counts_unit_covering ON sms_daily_counts (org_unit_id, day, status) "
            "INCLUDE (messages, segments)"
        )
        op.execute(_POSTGRES_NARROW.format(plans=rollups.TRIGGER_PLANS))
        op.execute("""CREATE TRIGGER sms_daily_counts_insert_delete AFTER INSERT OR DELETE ON sms_messages
                      FOR EACH ROW EXECUTE FUNCTION sms_daily_counts_keep()""")
        op.execute(f"""CREATE TRIGGER sms_daily_counts_update AFTER UPDATE OF {", ".join(rollup_daily.WATCHED)}
                       ON sms_messages FOR EACH ROW WHEN ({_changed("IS DISTINCT FROM")})
                       EXECUTE FUNCTION sms_daily_counts_keep()""")
        return
    old, new = _sqlite_narrow("OLD", "-"), _sqlite_narrow("NEW", "")
    op.execute(f"CREATE TRIGGER sms_daily_counts_insert AFTER INSERT ON sms_messages BEGIN {new} END")
    op.execute(f"CREATE TRIGGER sms_daily_counts_delete AFTER DELETE ON sms_messages BEGIN {old} END")
    op.execute(f"""CREATE TRIGGER sms_daily_counts_update AFTER UPDATE OF {", ".join(rollup_daily.WATCHED)}
                   ON sms_messages WHEN {_changed("IS NOT")} BEGIN {old} {new} END""")


def _changed(operator: str) -> str:
    return " OR ".join(f"OLD.{c} {operator} NEW.{c}" for c in rollup_daily.WATCHED)


_POSTGRES_NARROW = """
CREATE OR REPLACE FUNCTION sms_daily_counts_keep() RETURNS trigger AS $$
BEGIN
    INSERT INTO sms_daily_counts AS d (day, org_unit_id, status, messages, segments)
    SELECT day, org_unit_id, status, sum(messages), sum(segments) FROM (VALUES
        (sms_local_day(OLD.sent_on), OLD.org_unit_id, OLD.status, -1, -OLD.segments),
        (sms_local_day(NEW.sent_on), NEW.org_unit_id, NEW.status, 1, NEW.segments)
    ) AS change (day, org_unit_id, status, messages, segments)
     WHERE org_unit_id IS NOT NULL GROUP BY 1, 2, 3 HAVING sum(messages) <> 0 OR sum(segments) <> 0
    ON CONFLICT (day, org_unit_id, status)
    DO UPDATE SET messages = d.messages + excluded.messages, segments = d.segments + excluded.segments;
    RETURN NULL;
END $$ LANGUAGE plpgsql {plans}
"""


def _sqlite_narrow(row: str, sign: str) -> str:
    return f"""INSERT INTO sms_daily_counts (day, org_unit_id, status, messages, segments)
        VALUES ({rollups.local_day_sql(f"{row}.sent_on", "sqlite")}, {row}.org_unit_id, {row}.status, {sign}1,
                {sign}{row}.segments)
        ON CONFLICT (day, org_unit_id, status)
        DO UPDATE SET messages = messages {sign}+ 1, segments = segments {sign}+ {row}.segments;"""
