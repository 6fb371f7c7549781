"""Change counters per org unit, so open overviews can tell cheaply whether to re-query.

On PostgreSQL changes are also announced with NOTIFY; the counters serve SQLite, where there is
no NOTIFY, and any process that starts watching late.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sms_change_versions",
        sa.Column("org_unit_id", sa.Integer(), sa.ForeignKey("org_units.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("version", sa.BigInteger(), nullable=False, server_default="0"),
    )


def downgrade() -> None:
    op.drop_table("sms_change_versions")
