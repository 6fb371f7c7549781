"""Daily roll-up of messages per UTC day, org unit and status, kept by database triggers.

Delivery rates read a few hundred roll-up rows instead of aggregating millions of messages.
Triggers (not application code) keep it exactly equal to the messages, whatever writes them;
the first upgrade fills it from the messages already there.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

POSTGRES_FUNCTION = """
CREATE OR REPLACE FUNCTION sms_daily_counts_keep() RETURNS trigger AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        INSERT INTO sms_daily_counts AS d (day, org_unit_id, status, messages, segments)
        VALUES (OLD.sent_on::date, OLD.org_unit_id, OLD.status, -1, -OLD.segments)
        ON CONFLICT (day, org_unit_id, status)
        DO UPDATE SET messages = d.messages - 1, segments = d.segments - OLD.segments;
    END IF;
    IF TG_OP IN ('UPDATE', 'INSERT') THEN
        INSERT INTO sms_daily_counts AS d (day, org_unit_id, status, messages, segments)
        VALUES (NEW.sent_on::date, NEW.org_unit_id, NEW.status, 1, NEW.segments)
        ON CONFLICT (day, org_unit_id, status)
        DO UPDATE SET messages = d.messages + 1, segments = d.segments + NEW.segments;
    END IF;
    RETURN NULL;
END $$ LANGUAGE plpgsql
"""
POSTGRES_TRIGGERS = [
    """CREATE TRIGGER sms_daily_counts_insert_delete AFTER INSERT OR DELETE ON sms_messages
       FOR EACH ROW EXECUTE FUNCTION sms_daily_counts_keep()""",
    """CREATE TRIGGER sms_daily_counts_update AFTER UPDATE OF status, sent_on, org_unit_id, segments ON sms_messages
       FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status OR OLD.sent_on IS DISTINCT FROM NEW.sent_on
                          OR OLD.org_unit_id IS DISTINCT FROM NEW.org_unit_id OR OLD.segments IS DISTINCT FROM NEW.segments)
       EXECUTE FUNCTION sms_daily_counts_keep()""",
]
_SQLITE_ADD = """INSERT INTO sms_daily_counts (day, org_unit_id, status, messages, segments)
        VALUES (date({r}.sent_on), {r}.org_unit_id, {r}.status, {sign}1, {sign}{r}.segments)
        ON CONFLICT (day, org_unit_id, status)
        DO UPDATE SET messages = messages {sign}+ 1, segments = segments {sign}+ {r}.segments;"""
SQLITE_TRIGGERS = [
    f"CREATE TRIGGER sms_daily_counts_insert AFTER INSERT ON sms_messages BEGIN {_SQLITE_ADD.format(r='NEW', sign='')} END",
    f"CREATE TRIGGER sms_daily_counts_delete AFTER DELETE ON sms_messages BEGIN {_SQLITE_ADD.format(r='OLD', sign='-')} END",
    f"""CREATE TRIGGER sms_daily_counts_update AFTER UPDATE OF status, sent_on, org_unit_id, segments ON sms_messages
        WHEN OLD.status IS NOT NEW.status OR OLD.sent_on IS NOT NEW.sent_on
             OR OLD.org_unit_id IS NOT NEW.org_unit_id OR OLD.segments IS NOT NEW.segments
        BEGIN {_SQLITE_ADD.format(r="OLD", sign="-")} {_SQLITE_ADD.format(r="NEW", sign="")} END""",
]
BACKFILL = """INSERT INTO sms_daily_counts (day, org_unit_id, status, messages, segments)
    SELECT {day}, org_unit_id, status, count(*), sum(segments) FROM sms_messages GROUP BY 1, 2, 3"""


def upgrade() -> None:
    op.create_table(
        "sms_daily_counts",
        sa.Column("day", sa.Date(), primary_key=True),
        sa.Column("org_unit_id", sa.Integer(), primary_key=True),
        sa.Column("status", sa.SmallInteger(), primary_key=True),
        sa.Column("messages", sa.BigInteger(), nullable=False),
        sa.Column("segments", sa.BigInteger(), nullable=False),
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(POSTGRES_FUNCTION)
        for statement in POSTGRES_TRIGGERS:
            op.execute(statement)
        op.execute(BACKFILL.format(day="sent_on::date"))
    else:
        for statement in SQLITE_TRIGGERS:
            op.execute(statement)
        op.execute(BACKFILL.format(day="date(sent_on)"))


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS sms_daily_counts_update ON sms_messages")
        op.execute("DROP TRIGGER IF EXISTS sms_daily_counts_insert_delete ON sms_messages")
        op.execute("DROP FUNCTION IF EXISTS sms_daily_counts_keep()")
    else:
        for name in ("insert", "delete", "update"):
            op.execute(f"DROP TRIGGER IF EXISTS sms_daily_counts_{name}")
    op.drop_table("sms_daily_counts")
