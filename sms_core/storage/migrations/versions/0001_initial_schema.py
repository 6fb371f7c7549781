"""Initial schema: org units, users and roles, contacts and consent, SMS messages with their
status history, standard texts and settings.

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

from sms_core.domain.permissions import DEFAULT_ROLES

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "contacts",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("email", sa.String(length=200), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("contacts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_contacts_name"), ["name"], unique=False)

    op.create_table(
        "org_units",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("representative_name", sa.String(length=200), nullable=True),
        sa.Column("sms_sender", sa.String(length=40), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("code"),
    )
    op.create_table(
        "roles",
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("label", sa.String(length=80), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )
    op.create_table(
        "contact_phones",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("contact_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("number", sa.String(length=20), nullable=False),
        sa.Column("label", sa.String(length=40), nullable=False),
        sa.ForeignKeyConstraint(["contact_id"], ["contacts.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("contact_id", "number"),
    )
    with op.batch_alter_table("contact_phones", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_contact_phones_number"), ["number"], unique=False)

    op.create_table(
        "role_permissions",
        sa.Column("role", sa.String(length=40), nullable=False),
        sa.Column("permission", sa.String(length=40), nullable=False),
        sa.ForeignKeyConstraint(["role"], ["roles.name"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("role", "permission"),
    )
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=80), nullable=False),
        sa.Column("display_name", sa.String(length=200), nullable=False),
        sa.Column("email", sa.String(length=200), nullable=True),
        sa.Column("role", sa.String(length=40), nullable=False),
        sa.Column("current_org_unit_id", sa.Integer(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["current_org_unit_id"],
            ["org_units.id"],
        ),
        sa.ForeignKeyConstraint(
            ["role"],
            ["roles.name"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("email"),
        sa.UniqueConstraint("username"),
    )
    op.create_table(
        "setting_changes",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("key", sa.String(length=80), nullable=False),
        sa.Column("old_value", sa.String(length=400), nullable=True),
        sa.Column("new_value", sa.String(length=400), nullable=False),
        sa.Column("changed_at", sa.DateTime(), nullable=False),
        sa.Column("changed_by_user_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["changed_by_user_id"],
            ["users.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("setting_changes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_setting_changes_key"), ["key"], unique=False)

    op.create_table(
        "settings",
        sa.Column("key", sa.String(length=80), nullable=False),
        sa.Column("value", sa.String(length=400), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("updated_by_user_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["updated_by_user_id"],
            ["users.id"],
        ),
        sa.PrimaryKeyConstraint("key"),
    )
    op.create_table(
        "sms_consents",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("contact_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("phone_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("registered_at", sa.DateTime(), nullable=False),
        sa.Column("registered_by_user_id", sa.Integer(), nullable=True),
        sa.Column("source", sa.String(length=200), nullable=False),
        sa.Column("withdrawn_at", sa.DateTime(), nullable=True),
        sa.Column("withdrawn_by_user_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["contact_id"], ["contacts.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["phone_id"], ["contact_phones.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(
            ["registered_by_user_id"],
            ["users.id"],
        ),
        sa.ForeignKeyConstraint(
            ["withdrawn_by_user_id"],
            ["users.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("sms_consents", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sms_consents_phone_id"), ["phone_id"], unique=False)

    op.create_table(
        "sms_messages",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("phone", sa.String(length=20), nullable=True),
        sa.Column("contact_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("org_unit_id", sa.Integer(), nullable=False),
        sa.Column("sent_on", sa.DateTime(), nullable=False),
        sa.Column("status", sa.SmallInteger(), nullable=False),
        sa.Column("resent", sa.Boolean(), nullable=False),
        sa.Column("original_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("segments", sa.SmallInteger(), nullable=False),
        sa.Column("sent_by_user_id", sa.Integer(), nullable=True),
        sa.Column("gateway", sa.String(length=40), nullable=True),
        sa.Column("gateway_message_id", sa.String(length=100), nullable=True),
        sa.Column("gateway_error", sa.Text(), nullable=True),
        sa.Column("idempotency_key", sa.String(length=100), nullable=True),
        sa.Column("dispatch_state", sa.SmallInteger(), nullable=False),
        sa.Column("submitted_at", sa.DateTime(), nullable=True),
        sa.Column("dlr_token", sa.String(length=64), nullable=True),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["contact_id"],
            ["contacts.id"],
        ),
        sa.ForeignKeyConstraint(
            ["org_unit_id"],
            ["org_units.id"],
        ),
        sa.ForeignKeyConstraint(
            ["original_id"],
            ["sms_messages.id"],
        ),
        sa.ForeignKeyConstraint(
            ["sent_by_user_id"],
            ["users.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("idempotency_key"),
        sa.UniqueConstraint("original_id"),
    )
    with op.batch_alter_table("sms_messages", schema=None) as batch_op:
        batch_op.create_index("ix_sms_messages_contact_sent", ["contact_id", "sent_on"], unique=False)
        batch_op.create_index("ix_sms_messages_dispatch", ["dispatch_state", "submitted_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_sms_messages_gateway_message_id"), ["gateway_message_id"], unique=False)
        batch_op.create_index("ix_sms_messages_sent", ["sent_on", "id"], unique=False)
        batch_op.create_index("ix_sms_messages_unit_sent", ["org_unit_id", "sent_on", "id"], unique=False)
        batch_op.create_index(
            "ix_sms_messages_unit_status_sent", ["org_unit_id", "status", "sent_on", "id"], unique=False
        )

    op.create_table(
        "standard_texts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("org_unit_id", sa.Integer(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("updated_by_user_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["org_unit_id"],
            ["org_units.id"],
        ),
        sa.ForeignKeyConstraint(
            ["updated_by_user_id"],
            ["users.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "user_org_units",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("org_unit_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["org_unit_id"], ["org_units.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("user_id", "org_unit_id"),
    )
    op.create_table(
        "sms_status_events",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("message_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("status", sa.SmallInteger(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("source", sa.String(length=40), nullable=False),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["message_id"], ["sms_messages.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("sms_status_events", schema=None) as batch_op:
        batch_op.create_index("ix_sms_status_events_message", ["message_id", "id"], unique=False)

    _postgres_search_indexes()
    _default_roles_and_settings()


def _postgres_search_indexes() -> None:
    """Trigram indexes make "text contains" and "phone contains" index-backed on PostgreSQL."""
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.execute("CREATE INDEX ix_sms_messages_text_trgm ON sms_messages USING gin (text gin_trgm_ops)")
    op.execute("CREATE INDEX ix_sms_messages_phone_trgm ON sms_messages USING gin (phone gin_trgm_ops)")


def _default_roles_and_settings() -> None:
    roles = sa.table("roles", sa.column("name"), sa.column("label"))
    grants = sa.table("role_permissions", sa.column("role"), sa.column("permission"))
    settings = sa.table("settings", sa.column("key"), sa.column("value"), sa.column("updated_at"))
    op.bulk_insert(roles, [{"name": n, "label": label} for n, (label, _) in DEFAULT_ROLES.items()])
    op.bulk_insert(
        grants,
        [{"role": n, "permission": p.value} for n, (_, perms) in DEFAULT_ROLES.items() for p in sorted(perms)],
    )
    now = sa.func.current_timestamp()
    op.execute(settings.insert().values(key="sms_sending_enabled", value="true", updated_at=now))
    op.execute(settings.insert().values(key="require_consent_for_unknown_numbers", value="false", updated_at=now))


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_sms_messages_text_trgm")
        op.execute("DROP INDEX IF EXISTS ix_sms_messages_phone_trgm")
    with op.batch_alter_table("sms_status_events", schema=None) as batch_op:
        batch_op.drop_index("ix_sms_status_events_message")

    op.drop_table("sms_status_events")
    op.drop_table("user_org_units")
    op.drop_table("standard_texts")
    with op.batch_alter_table("sms_messages", schema=None) as batch_op:
        batch_op.drop_index("ix_sms_messages_unit_status_sent")
        batch_op.drop_index("ix_sms_messages_unit_sent")
        batch_op.drop_index("ix_sms_messages_sent")
        batch_op.drop_index(batch_op.f("ix_sms_messages_gateway_message_id"))
        batch_op.drop_index("ix_sms_messages_dispatch")
        batch_op.drop_index("ix_sms_messages_contact_sent")

    op.drop_table("sms_messages")
    with op.batch_alter_table("sms_consents", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sms_consents_phone_id"))

    op.drop_table("sms_consents")
    op.drop_table("settings")
    with op.batch_alter_table("setting_changes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_setting_changes_key"))

    op.drop_table("setting_changes")
    op.drop_table("users")
    op.drop_table("role_permissions")
    with op.batch_alter_table("contact_phones", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_contact_phones_number"))

    op.drop_table("contact_phones")
    op.drop_table("roles")
    op.drop_table("org_units")
    with op.batch_alter_table("contacts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_contacts_name"))

    op.drop_table("contacts")
