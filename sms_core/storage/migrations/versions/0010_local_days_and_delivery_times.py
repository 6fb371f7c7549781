"""Delivery rates count days in the organisation's time zone, and keep time to delivery.

A lead in Oslo saw "today" begin at 01:00 or 02:00, because the daily roll-up (0003) counted UTC
days.  Its triggers now key each message by the local day of its Sent on (the zone's offsets are a
table, so SQLite counts them too), and the roll-up is counted again from the messages already
there, in the default zone (Europe/Oslo) — on a populated database that is one pass over the
messages.  Time to delivery gets a roll-up of its own, per local day, unit and histogram bucket,
kept by a trigger on the status history and filled from the Received events already recorded.
A message records the standard text it was made from, and the delivery rates by sender and by
standard text get a roll-up too (one pass more); the overview's "Sent by" filter an index.

Revision ID: 0010
Revises: 0006
Create Date: 2026-12-01
"""

import importlib.util
from pathlib import Path

import sqlalchemy as sa
from alembic import op

from sms_core.storage import rollups

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sms_zone_offsets",
        sa.Column("starts_at", sa.DateTime(), primary_key=True),
        sa.Column("minutes", sa.Integer(), nullable=False),
    )
    op.create_table(
        "sms_delivery_times",
        sa.Column("day", sa.Date(), primary_key=True),
        sa.Column("org_unit_id", sa.Integer(), primary_key=True),
        sa.Column("bucket", sa.SmallInteger(), primary_key=True),
        sa.Column("messages", sa.BigInteger(), nullable=False),
    )
    op.create_table(
        "sms_daily_breakdowns",
        sa.Column("day", sa.Date(), primary_key=True),
        sa.Column("org_unit_id", sa.Integer(), primary_key=True),
        sa.Column("dimension", sa.SmallInteger(), primary_key=True),
        sa.Column("key", sa.BigInteger(), primary_key=True),
        sa.Column("status", sa.SmallInteger(), primary_key=True),
        sa.Column("messages", sa.BigInteger(), nullable=False),
    )
    with op.batch_alter_table("sms_messages") as batch:
        batch.add_column(sa.Column("standard_text_id", sa.Integer(), nullable=True))
        batch.create_foreign_key("fk_sms_messages_standard_text", "standard_texts", ["standard_text_id"], ["id"])
    op.create_index("ix_sms_messages_sender_sent", "sms_messages", ["sent_by_user_id", "sent_on", "id"])
    conn = op.get_bind()
    if conn.dialect.name == "postgresql":  # read from the index alone, as the daily counts (0006)
        op.execute(
            "CREATE INDEX ix_sms_delivery_times_day_covering ON sms_delivery_times (day, org_unit_id, bucket) "
            "INCLUDE (messages)"
        )
        op.execute(
            "CREATE INDEX ix_sms_daily_breakdowns_day_covering ON sms_daily_breakdowns "
            "(day, dimension, org_unit_id, key, status) INCLUDE (messages)"
        )
    rollups.install(conn)
    rollups.rebuild(conn, rollups.organisation_zone(conn))


def downgrade() -> None:
    conn = op.get_bind()
    rollups.uninstall(conn)
    op.drop_index("ix_sms_messages_sender_sent", table_name="sms_messages")
    with op.batch_alter_table("sms_messages") as batch:  # SQLite copies the table: triggers go too
        batch.drop_constraint("fk_sms_messages_standard_text", type_="foreignkey")
        batch.drop_column("standard_text_id")
    daily = _revision_0003()
    if conn.dialect.name == "postgresql":
        op.execute(daily.POSTGRES_FUNCTION)  # the UTC day again; its triggers call it by name
        op.execute("DROP FUNCTION IF EXISTS sms_local_day(timestamp)")
        day = "sent_on::date"
    else:
        for name in ("insert", "delete", "update"):
            op.execute(f"DROP TRIGGER IF EXISTS sms_daily_counts_{name}")
        for statement in daily.SQLITE_TRIGGERS:
            op.execute(statement)
        day = "date(sent_on)"
    op.execute("DELETE FROM sms_daily_counts")
    op.execute(daily.BACKFILL.format(day=day))
    for table in ("sms_daily_breakdowns", "sms_delivery_times", "sms_zone_offsets"):
        op.drop_table(table)


def _revision_0003():
    """Migration 0003's own SQL for UTC days (revision files are not an importable package)."""
    path = Path(__file__).with_name("0003_daily_counts.py")
    spec = importlib.util.spec_from_file_location("revision_0003", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
