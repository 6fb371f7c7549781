"""Incoming SMS (replies and STOP), and where a withdrawal of consent came from.

- ``sms_incoming`` keeps every reply once: Kannel retries an MO it got no answer for, so a unique
  key made from what identifies the SMS (its gateway id, sender, time and text) turns a retry
  into "already received" instead of a second reply and a second opt-out.  Indexed by unit and
  time for the Replies page, by the message it answers for the message's detail.
- The message a reply answers is the newest one sent to the sender's number: an index on
  (phone, sent on) finds it in one probe at millions of messages, at a thousand replies a second.
- ``sms_consents.withdrawn_source``: a withdrawal by an "SMS reply" has no user, so the contact's
  page needs to say where it came from.

Revision ID: 0008
Revises: 0006
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "sms_incoming",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("sender", sa.String(length=40), nullable=False),
        sa.Column("receiver", sa.String(length=40), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("received_at", sa.DateTime(), nullable=False),
        sa.Column("org_unit_id", sa.Integer(), nullable=True),
        sa.Column("message_id", BIG_ID, nullable=True),
        sa.Column("contact_id", BIG_ID, nullable=True),
        sa.Column("keyword", sa.String(length=20), nullable=True),
        sa.Column("gateway", sa.String(length=40), nullable=False),
        sa.Column("dedupe_key", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(["org_unit_id"], ["org_units.id"]),
        sa.ForeignKeyConstraint(["message_id"], ["sms_messages.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["contact_id"], ["contacts.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("dedupe_key"),
    )
    op.create_index("ix_sms_incoming_unit_received", "sms_incoming", ["org_unit_id", "received_at", "id"])
    op.create_index("ix_sms_incoming_message", "sms_incoming", ["message_id", "id"])
    op.create_index("ix_sms_incoming_received", "sms_incoming", ["received_at", "id"])
    op.create_index("ix_sms_messages_phone_sent", "sms_messages", ["phone", "sent_on"])
    with op.batch_alter_table("sms_consents") as batch:
        batch.add_column(sa.Column("withdrawn_source", sa.String(length=200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("sms_consents") as batch:
        batch.drop_column("withdrawn_source")
    op.drop_index("ix_sms_messages_phone_sent", table_name="sms_messages")
    op.drop_table("sms_incoming")
