"""Administration: org units can be deactivated, contacts carry the external id an import
matches on, one audit table for every change an administrator (or the CLI) makes to users,
org units and contacts, and the "manage users" permission for the administrator role.

- A unit is deactivated rather than deleted: its messages must keep pointing at it.
- ``contacts.external_id`` is the organisation's own id of a contact (a patient or customer
  number); re-importing a file matches on it, so it is unique where given.
- E-mail addresses are unique whatever their case, since sign-in matches them that way: a
  unique index on lower(email), which both databases support.
- 0001 grants the administrator every permission the code knows when it runs, so on a new
  database the grant may already be there; it is added only where it is missing.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("org_units") as batch_op:
        batch_op.add_column(sa.Column("active", sa.Boolean(), nullable=False, server_default=sa.true()))
    with op.batch_alter_table("contacts") as batch_op:
        batch_op.add_column(sa.Column("external_id", sa.String(length=100), nullable=True))
        batch_op.create_index("ix_contacts_external_id", ["external_id"], unique=True)
    op.create_index("ix_users_email_lower", "users", [sa.text("lower(email)")], unique=True)
    op.create_table(
        "audit_events",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("actor_user_id", sa.Integer(), nullable=True),
        sa.Column("actor_name", sa.String(length=200), nullable=False),
        sa.Column("entity", sa.String(length=20), nullable=False),
        sa.Column("entity_id", BIG_ID, nullable=False),
        sa.Column("action", sa.String(length=40), nullable=False),
        sa.Column("before", sa.Text(), nullable=True),
        sa.Column("after", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["actor_user_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_audit_events_entity", "audit_events", ["entity", "entity_id", "id"])
    op.create_index("ix_audit_events_at", "audit_events", ["at", "id"])
    op.execute(
        "INSERT INTO role_permissions (role, permission) SELECT 'administrator', 'manage_users' "
        "WHERE EXISTS (SELECT 1 FROM roles WHERE name = 'administrator') AND NOT EXISTS "
        "(SELECT 1 FROM role_permissions WHERE role = 'administrator' AND permission = 'manage_users')"
    )


def downgrade() -> None:
    op.execute("DELETE FROM role_permissions WHERE permission = 'manage_users'")
    op.drop_index("ix_audit_events_at", table_name="audit_events")
    op.drop_index("ix_audit_events_entity", table_name="audit_events")
    op.drop_table("audit_events")
    op.drop_index("ix_users_email_lower", table_name="users")
    with op.batch_alter_table("contacts") as batch_op:
        batch_op.drop_index("ix_contacts_external_id")
        batch_op.drop_column("external_id")
    with op.batch_alter_table("org_units") as batch_op:
        batch_op.drop_column("active")
