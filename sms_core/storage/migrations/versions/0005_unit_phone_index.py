""" "Phone contains" searched within the user's units by one index (PostgreSQL).

Every overview query is limited to the user's org units, and four typed digits match a few
thousand numbers across all units.  With a trigram index on the phone alone, PostgreSQL combined
it with a bitmap of the unit's whole history (100,000 entries at a million messages) — 35–60 ms.
A GIN index over (org unit, phone trigrams), which the ``btree_gin`` extension makes possible,
answers both conditions in one scan: 2–5 ms.  It replaces the phone-only trigram index, which
no query needs any more.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25
"""

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("CREATE EXTENSION IF NOT EXISTS btree_gin")
    op.execute(
        "CREATE INDEX IF NOT EXISTS ix_sms_messages_unit_phone_trgm ON sms_messages "
        "USING gin (org_unit_id, phone gin_trgm_ops)"
    )
    op.execute("DROP INDEX IF EXISTS ix_sms_messages_phone_trgm")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("CREATE INDEX IF NOT EXISTS ix_sms_messages_phone_trgm ON sms_messages USING gin (phone gin_trgm_ops)")
    op.execute("DROP INDEX IF EXISTS ix_sms_messages_unit_phone_trgm")
