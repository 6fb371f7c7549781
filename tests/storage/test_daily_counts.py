"""The daily roll-up the delivery rates read must always equal the messages themselves."""

from datetime import timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import delete, func, select, text, update
from support import accepting, refusing

from sms_core.gateways.base import DeliveryReportKind as K
from sms_core.storage.models import SmsMessage
from sms_core.storage.rollup_daily import ALL_MESSAGES
from sms_core.storage.rollup_models import DailyStatusCount
from sms_core.use_cases.accounts import load_actor
from sms_core.use_cases.message_lifecycle import apply_delivery_report
from sms_core.use_cases.sending import resend_sms, send_sms


def raw_counts(db, zone: str = "Europe/Oslo") -> dict:
    """Messages and segments per local day (of ``zone``), unit and status, counted in Python."""
    with db.session() as s:
        rows = s.execute(
            select(SmsMessage.sent_on, SmsMessage.org_unit_id, SmsMessage.status, SmsMessage.segments)
        ).all()
    counts: dict = {}
    for sent_on, unit, status, segments in rows:
        key = (sent_on.astimezone(ZoneInfo(zone)).date(), unit, status)
        messages, total = counts.get(key, (0, 0))
        counts[key] = (messages + 1, total + segments)
    return counts


def rollup(db) -> dict:
    with db.session() as s:
        rows = s.scalars(select(DailyStatusCount)).all()
        return {(r.day, r.org_unit_id, status): both for r in rows for status, both in r.by_status().items()}


def test_rollup_equals_the_messages_through_seed_sends_reports_resends_and_edits(demo_db):
    assert rollup(demo_db) == raw_counts(demo_db) and rollup(demo_db)
    staff = load_actor(demo_db, "staff")
    failed = send_sms(demo_db, staff, text="x" * 200, phone="+4741555123", gateway=refusing(0, 1)).message
    resent = resend_sms(demo_db, staff, failed.id, gateway=accepting()).message
    with demo_db.session() as s:
        token = s.get(SmsMessage, resent.id).dlr_token
    apply_delivery_report(demo_db, resent.id, token, K.DELIVERED)
    with demo_db.session() as s:  # edits that no service makes still keep it exact
        s.execute(
            update(SmsMessage).where(SmsMessage.id == failed.id).values(sent_on=failed.sent_on - timedelta(days=3))
        )
        s.execute(delete(SmsMessage).where(SmsMessage.id == resent.id))
        # Only the segments change: both sides of the change land on the same roll-up row.
        s.execute(update(SmsMessage).where(SmsMessage.id == failed.id).values(segments=SmsMessage.segments + 2))
    assert rollup(demo_db) == raw_counts(demo_db)
    with demo_db.session() as s:
        assert s.scalar(select(func.sum(text(ALL_MESSAGES))).select_from(DailyStatusCount)) == s.scalar(
            select(func.count()).select_from(SmsMessage)
        )
