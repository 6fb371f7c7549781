"""Alerts: rules per org unit, the incidents they open, and the outbox their mails go through.

- A unit's rules are rows only where an administrator changed a default, so a new unit is
  watched by the defaults without any row written for it.
- "One incident per rule and unit while it lasts" is a partial unique index over the open
  incidents, so two workers evaluating at the same moment cannot both open one: the second
  insert fails and its transaction, with its mails, is rolled back.
- An incident counts the evaluations in a row that found its rule no longer holding, so it
  resolves only once the figures have settled, not at their first wobble under the limit.
- Mails are rows first and sent later by the worker, so a mail server that is down delays a
  mail, never the evaluation that wrote it; the partial index holds only the unsent ones, which
  is all the sending loop ever reads.

Both databases: SQLite supports partial indexes as PostgreSQL does.

Revision ID: 0009
Revises: 0006
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "alert_rules",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("org_unit_id", sa.Integer(), sa.ForeignKey("org_units.id", ondelete="CASCADE"), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("minutes", sa.Integer(), nullable=False),
        sa.Column("percent", sa.SmallInteger(), nullable=False),
        sa.Column("min_messages", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("updated_by_user_id", sa.Integer(), sa.ForeignKey("users.id"), nullable=True),
        sa.UniqueConstraint("org_unit_id", "kind"),
    )
    op.create_table(
        "alert_incidents",
        sa.Column("id", BIG_ID, primary_key=True),
        sa.Column("org_unit_id", sa.Integer(), sa.ForeignKey("org_units.id", ondelete="CASCADE"), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("opened_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("resolved_at", sa.DateTime(), nullable=True),
        sa.Column("since", sa.DateTime(), nullable=False),
        sa.Column("messages", sa.Integer(), nullable=False),
        sa.Column("affected", sa.Integer(), nullable=False),
        sa.Column("peak_affected", sa.Integer(), nullable=False),
        sa.Column("calm_evaluations", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("summary", sa.String(500), nullable=False),
    )
    open_only = sa.text("resolved_at IS NULL")
    op.create_index(
        "uq_alert_incidents_open",
        "alert_incidents",
        ["org_unit_id", "kind"],
        unique=True,
        postgresql_where=open_only,
        sqlite_where=open_only,
    )
    op.create_index("ix_alert_incidents_unit_opened", "alert_incidents", ["org_unit_id", "opened_at"])
    op.create_table(
        "mail_outbox",
        sa.Column("id", BIG_ID, primary_key=True),
        sa.Column("incident_id", BIG_ID, sa.ForeignKey("alert_incidents.id", ondelete="SET NULL"), nullable=True),
        sa.Column("recipient", sa.String(200), nullable=False),
        sa.Column("subject", sa.String(300), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("sent_at", sa.DateTime(), nullable=True),
        sa.Column("last_error", sa.String(500), nullable=True),
    )
    unsent = sa.text("sent_at IS NULL")
    op.create_index(
        "ix_mail_outbox_due", "mail_outbox", ["next_attempt_at"], postgresql_where=unsent, sqlite_where=unsent
    )


def downgrade() -> None:
    op.drop_table("mail_outbox")
    op.drop_table("alert_incidents")
    op.drop_table("alert_rules")
