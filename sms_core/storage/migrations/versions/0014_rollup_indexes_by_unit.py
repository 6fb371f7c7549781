"""The roll-ups' covering indexes led by the org unit, not the day.

A team lead looks at one unit or a few: with the day first, PostgreSQL read every unit's rows of
the period and kept that unit's (at ten million messages, 180 days of all 50 units' histogram to
find one unit's 2 %).  With the unit first it reads just the units asked for, one range each; for
all 50 it reads as many rows as before.  The primary keys (day first) stay for the triggers'
upserts and the rebuild.  PostgreSQL only, like the indexes they replace (0006, 0010).

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-01
"""

from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

BY_UNIT = {
    "ix_sms_daily_counts_unit_covering": "sms_daily_counts (org_unit_id, day, status) INCLUDE (messages, segments)",
    "ix_sms_delivery_times_unit_covering": "sms_delivery_times (org_unit_id, day, bucket) INCLUDE (messages)",
    "ix_sms_daily_breakdowns_unit_covering": "sms_daily_breakdowns (org_unit_id, day, dimension, key, status) "
    "INCLUDE (messages)",
}
BY_DAY = {
    "ix_sms_daily_counts_day_covering": "sms_daily_counts (day, org_unit_id, status) INCLUDE (messages, segments)",
    "ix_sms_delivery_times_day_covering": "sms_delivery_times (day, org_unit_id, bucket) INCLUDE (messages)",
    "ix_sms_daily_breakdowns_day_covering": "sms_daily_breakdowns (day, dimension, org_unit_id, key, status) "
    "INCLUDE (messages)",
}


def upgrade() -> None:
    _swap(BY_DAY, BY_UNIT)


def downgrade() -> None:
    _swap(BY_UNIT, BY_DAY)


def _swap(old: dict[str, str], new: dict[str, str]) -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for name, definition in new.items():
        op.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {definition}")
    for name in old:
        op.execute(f"DROP INDEX IF EXISTS {name}")
    op.execute("ANALYZE sms_daily_counts, sms_delivery_times, sms_daily_breakdowns")
