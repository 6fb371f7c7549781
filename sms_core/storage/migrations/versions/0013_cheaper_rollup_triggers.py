"""The roll-ups' PostgreSQL triggers at a delivery report's pace: one statement per roll-up for
both sides of a change, generic plans kept however the session plans its own statements, and the
time-to-delivery bucket found by ``width_bucket``.  The counts they keep are the same, so nothing
is rebuilt; SQLite's triggers are made again unchanged.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-01
"""

from alembic import op

from sms_core.storage import rollups

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    rollups.install(op.get_bind())


def downgrade() -> None:
    pass  # the functions before 0013 counted the same; keeping these is harmless
