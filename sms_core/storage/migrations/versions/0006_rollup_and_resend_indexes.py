"""Delivery rates at ten million messages: read the roll-up and the resends from indexes alone.

- The daily roll-up (0003) is read by day range for every unit a lead picks: 72,000 rows for all
  50 units over two 90-day periods.  Its rows lie wherever the triggers first inserted them, so
  through the primary key every row was a separate heap page (50 ms).  An index that carries
  the counts too lets PostgreSQL read them from the index in key order (about 20 ms).
- "Stuck" messages must leave out the ones already resent.  A resend is always sent after its
  original, so the resends of a period's messages are among the resends sent since the period
  began; a partial index of resends by sent-on hands exactly those over, without looking at
  the other messages.

PostgreSQL only, as the other speed indexes: SQLite has no INCLUDE, and at its sizes the
existing keys suffice.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-25
"""

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

INDEXES = {
    "ix_sms_daily_counts_day_covering": "sms_daily_counts (day, org_unit_id, status) INCLUDE (messages, segments)",
    "ix_sms_messages_resends_sent": "sms_messages (sent_on, original_id) WHERE original_id IS NOT NULL",
}


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for name, definition in INDEXES.items():
        op.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {definition}")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for name in INDEXES:
        op.execute(f"DROP INDEX IF EXISTS {name}")
