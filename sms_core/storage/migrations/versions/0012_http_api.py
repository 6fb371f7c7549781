"""The HTTP API (issue 14): API keys, Idempotency-Key answers, the status callbacks' outbox, and
what a message and a contact need for it.

- A message records the key that sent it (``sent_by_api_key_id``, beside ``sent_by_user_id``) and
  the caller's own id for it (``reference``), which the API lists messages by.
- A contact is found by the caller's id through ``contacts.external_id`` (0007), and a withdrawal
  of consent records its source in ``sms_consents.withdrawn_source`` (0008): nothing to add here.
- ``api_idempotency_keys`` is unique per key and Idempotency-Key: concurrent repeats meet at that
  constraint, and only the first creates a message.
- ``api_callbacks`` is an outbox: written in the transaction that changes a status, delivered by
  the worker, so a restart loses none.

The new columns are added without rebuilding ``sms_messages`` (SQLite's ALTER TABLE ADD COLUMN),
which keeps the daily roll-up's triggers of 0003 in place.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Utc = sa.DateTime()


def upgrade() -> None:
    op.create_table(
        "api_keys",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("org_unit_id", sa.Integer(), sa.ForeignKey("org_units.id"), nullable=False),
        sa.Column("prefix", sa.String(20), nullable=False, unique=True),
        sa.Column("secret_hash", sa.String(64), nullable=False),
        sa.Column("callback_url", sa.String(500)),
        sa.Column("callback_secret", sa.String(100), nullable=False),
        sa.Column("created_at", Utc, nullable=False),
        sa.Column("created_by_user_id", sa.Integer(), sa.ForeignKey("users.id")),
        sa.Column("last_used_at", Utc),
        sa.Column("revoked_at", Utc),
        sa.Column("revoked_by_user_id", sa.Integer(), sa.ForeignKey("users.id")),
    )
    op.create_table(
        "api_idempotency_keys",
        sa.Column("id", BigId, primary_key=True),
        sa.Column("api_key_id", sa.Integer(), sa.ForeignKey("api_keys.id", ondelete="CASCADE"), nullable=False),
        sa.Column("idempotency_key", sa.String(100), nullable=False),
        sa.Column("request_hash", sa.String(64), nullable=False),
        sa.Column("created_at", Utc, nullable=False),
        sa.Column("message_id", BigId, sa.ForeignKey("sms_messages.id", ondelete="SET NULL")),
        sa.Column("status_code", sa.SmallInteger()),
        sa.Column("response_body", sa.Text()),
        sa.UniqueConstraint("api_key_id", "idempotency_key"),
    )
    op.create_index("ix_api_idempotency_keys_created_at", "api_idempotency_keys", ["created_at"])
    op.create_table(
        "api_callbacks",
        sa.Column("id", BigId, primary_key=True),
        sa.Column("api_key_id", sa.Integer(), sa.ForeignKey("api_keys.id", ondelete="CASCADE"), nullable=False),
        sa.Column("message_id", BigId, sa.ForeignKey("sms_messages.id", ondelete="CASCADE"), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("created_at", Utc, nullable=False),
        sa.Column("next_attempt_at", Utc, nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("delivered_at", Utc),
        sa.Column("gave_up_at", Utc),
        sa.Column("last_error", sa.String(500)),
        sa.Column("last_attempt_at", Utc),
    )
    op.create_index("ix_api_callbacks_due", "api_callbacks", ["delivered_at", "next_attempt_at"])
    op.create_index("ix_api_callbacks_message", "api_callbacks", ["message_id", "id"])
    op.create_index("ix_api_callbacks_key", "api_callbacks", ["api_key_id", "id"])
    # Plain ADD COLUMN on both databases (no batch rebuild on SQLite, so 0003's triggers stay).
    if op.get_bind().dialect.name == "sqlite":  # Alembic would ask for a batch rebuild to add the reference
        op.execute("ALTER TABLE sms_messages ADD COLUMN sent_by_api_key_id INTEGER REFERENCES api_keys (id)")
    else:
        op.add_column("sms_messages", sa.Column("sent_by_api_key_id", sa.Integer(), sa.ForeignKey("api_keys.id")))
    op.add_column("sms_messages", sa.Column("reference", sa.String(100)))
    # GET /api/v1/sms?reference=…: the few messages with a reference, by unit.
    only_referenced = sa.text("reference IS NOT NULL")
    op.create_index(
        "ix_sms_messages_unit_reference",
        "sms_messages",
        ["org_unit_id", "reference"],
        postgresql_where=only_referenced,
        sqlite_where=only_referenced,
    )


def downgrade() -> None:
    op.drop_index("ix_sms_messages_unit_reference", "sms_messages")
    with op.batch_alter_table("sms_messages") as batch:
        batch.drop_column("reference")
        batch.drop_column("sent_by_api_key_id")
    op.drop_table("api_callbacks")
    op.drop_table("api_idempotency_keys")
    op.drop_table("api_keys")
