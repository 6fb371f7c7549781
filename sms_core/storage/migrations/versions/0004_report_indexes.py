"""Partial indexes for the delivery-rates page: failures with a gateway error, and stuck messages.

The page's counts come from the daily roll-up (0003), but two of its figures need the messages
themselves: the top failure reasons group failures by their gateway error text, and the "stuck"
figure lists Accepted / Timeout during status check messages that were never resent.  Both are a
small share of all messages, so partial indexes holding exactly them make those reads index-only
(or nearly) instead of scanning a unit's whole history.  A B-tree entry must stay under about
2.7 kB, so the error index holds errors up to 2000 bytes and a second one finds the rare longer
ones.  The status numbers are written out (not imported) so this revision never changes after
the fact; ``sms_core.read_models.delivery_rates`` builds predicates with the same literals.  PostgreSQL only:
SQLite answers these from its existing indexes at the sizes it is used for.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25
"""

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

FAILURES_AND_REFUSALS = (
    "2, 4, 5, 6, 8, 9"  # Rejected, Consent…, Sending failed, Phone…, Not allowed, Invalid representative
)
STUCK = "1, 7"  # Accepted, Timeout during status check
LONG_ERROR_BYTES = 2000

INDEXES = {
    "ix_sms_messages_failure_errors": f"""(org_unit_id, sent_on, status, gateway_error)
        WHERE status IN ({FAILURES_AND_REFUSALS}) AND gateway_error IS NOT NULL
          AND octet_length(gateway_error) <= {LONG_ERROR_BYTES}""",
    "ix_sms_messages_failure_long_errors": f"""(org_unit_id, sent_on)
        WHERE status IN ({FAILURES_AND_REFUSALS}) AND gateway_error IS NOT NULL
          AND octet_length(gateway_error) > {LONG_ERROR_BYTES}""",
    "ix_sms_messages_stuck": f"(org_unit_id, sent_on, status, id) WHERE status IN ({STUCK})",
}


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for name, definition in INDEXES.items():
        op.execute(f"CREATE INDEX IF NOT EXISTS {name} ON sms_messages {definition}")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for name in INDEXES:
        op.execute(f"DROP INDEX IF EXISTS {name}")
