"""Counts that never wait, and personal data kept only as long as the organisation says.

- "Text contains" searched within the user's units by one index (PostgreSQL), as 0005 did for
  the phone: with a trigram index on the text alone, the count of a common word in one unit
  intersected the word's matches in every unit (111,000 at a million messages) with a bitmap of
  the unit's whole history — 63 ms.  A GIN index over (org unit, text trigrams) hands over only
  the unit's matches: 27 ms.  It replaces the text-only trigram index, which no query needs
  (every overview statement names the user's units).  Building it reads every text once: about
  40 s a million messages, while the table stays readable.
- ``sms_messages.anonymised_at``: when retention removed the text, number and contact of a
  message.  Nullable and without a default, so adding it rewrites nothing even at ten million rows;
  status, unit, sent on, segments and resent stay, and so does the daily roll-up (its triggers
  fire on none of the columns retention changes).
- ``retention_progress``: how far each kind of data has been anonymised, moved in the same
  transaction as each batch, so a run that crashes resumes where its last batch ended.
- ``retention_runs``: the audit trail, one row a run: what, how many rows, the oldest one's date.

Revision ID: 0011
Revises: 0006
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("sms_messages", sa.Column("anonymised_at", sa.DateTime(), nullable=True))
    op.create_table(
        "retention_progress",
        sa.Column("target", sa.String(40), primary_key=True),
        sa.Column("position_at", sa.DateTime(), nullable=True),
        sa.Column("position_id", sa.BigInteger(), nullable=False, server_default="0"),
    )
    op.create_table(
        "retention_runs",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True),
        sa.Column("target", sa.String(40), nullable=False),
        sa.Column("days", sa.Integer(), nullable=False),
        sa.Column("cutoff", sa.DateTime(), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
        sa.Column("rows", sa.BigInteger(), nullable=False, server_default="0"),
        sa.Column("oldest", sa.DateTime(), nullable=True),
    )
    op.create_index("ix_retention_runs_target_started", "retention_runs", ["target", "started_at"])
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE INDEX IF NOT EXISTS ix_sms_messages_unit_text_trgm ON sms_messages "
            "USING gin (org_unit_id, text gin_trgm_ops)"
        )
        op.execute("DROP INDEX IF EXISTS ix_sms_messages_text_trgm")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE INDEX IF NOT EXISTS ix_sms_messages_text_trgm ON sms_messages USING gin (text gin_trgm_ops)")
        op.execute("DROP INDEX IF EXISTS ix_sms_messages_unit_text_trgm")
    op.drop_index("ix_retention_runs_target_started", table_name="retention_runs")
    op.drop_table("retention_runs")
    op.drop_table("retention_progress")
    op.drop_column("sms_messages", "anonymised_at")  # SQLite 3.35+ drops a column in place, triggers kept
