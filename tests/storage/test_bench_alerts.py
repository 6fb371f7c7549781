"""The bench's alert figures (every rule of every unit, grouped) equal the same rules asked of
each unit on its own, on both databases: so the bench compares like with like."""

from datetime import timedelta

from sqlalchemy import select

from bench.alerts import naive_figures, our_figures
from sms_core.domain.statuses import SmsStatus as S
from sms_core.storage.models import OrgUnit, SmsMessage, StatusEvent, utcnow


def test_grouped_alert_figures_equal_the_per_unit_ones(demo_db):
    now = utcnow()
    with demo_db.session() as session:
        units = sorted(session.scalars(select(OrgUnit.id)))
        for i, status in enumerate([S.SENDING_FAILED, S.RECEIVED, S.ACCEPTED, S.UNKNOWN, S.RECEIVED] * 6):
            sent_on = now - timedelta(minutes=3 + i)
            message = SmsMessage(text="x", org_unit_id=units[i % len(units)], status=status, sent_on=sent_on)
            session.add(message)
            session.flush()
            session.add(StatusEvent(message_id=message.id, status=S.ACCEPTED, at=sent_on, source="gateway"))
    ours = our_figures(demo_db, units, now)
    assert ours == naive_figures(demo_db, units, now)
    assert sum(f.affected for f in ours.values()) > 0  # the figures are about something
