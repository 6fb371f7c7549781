"""The breakdowns by sender and standard text: a row per local day, unit and sender or standard text
holding every status's count (migration 0018), always equal to the messages counted one by one.

On both databases: through sends, resends and delivery reports, through edits no service makes
(another status, sender, standard text, unit or day; a delete), and across migration 0018 on a
populated database, down to the row-per-status shape and up again, with the page's figures the same.
"""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from alembic import command
from sqlalchemy import Date, delete, select, text, update
from support import accepting, refusing

from sms_core.domain.statuses import SmsStatus as S
from sms_core.gateways.base import DeliveryReportKind as K
from sms_core.read_models.breakdowns import breakdowns
from sms_core.read_models.delivery_rate_figures import Period
from sms_core.storage import rollup_breakdowns
from sms_core.storage.migrate import alembic_config, migrate
from sms_core.storage.models import OrgUnit, SmsMessage, StandardText, StatusEvent, User
from sms_core.storage.rollup_breakdowns import COUNTS, DIMENSIONS
from sms_core.storage.rollup_models import DailyBreakdown
from sms_core.use_cases.accounts import load_actor
from sms_core.use_cases.message_lifecycle import apply_delivery_report
from sms_core.use_cases.sending import resend_sms, send_sms

NARROW = (
    f"SELECT day, org_unit_id, dimension, key, status, messages FROM {rollup_breakdowns.NARROW} WHERE messages <> 0"
)


def direct(db) -> Counter:
    """Messages per local day (Oslo), unit, dimension, key (0: none) and status."""
    m = SmsMessage
    counts = Counter()
    with db.session() as s:
        for on, unit, status, *keys in s.execute(
            select(m.sent_on, m.org_unit_id, m.status, m.sent_by_user_id, m.standard_text_id)
        ):
            for dimension, key in zip(DIMENSIONS, keys, strict=True):
                counts[on.astimezone(ZoneInfo("Europe/Oslo")).date(), unit, dimension, key or 0, int(status)] += 1
    return counts


def rows(db) -> dict:
    """The roll-up as stored: (day, unit, dimension, key) → the counts in status order."""
    with db.session() as s:
        return {
            (r.day, r.org_unit_id, r.dimension, r.key): tuple(getattr(r, name) for name in COUNTS.values())
            for r in s.scalars(select(DailyBreakdown))
        }


def rolled_up(db) -> Counter:
    return Counter(
        {
            (*key, int(status)): n
            for key, counts in rows(db).items()
            for status, n in zip(COUNTS, counts, strict=True)
            if n
        }
    )


def figures(db) -> Counter:
    """What the page reads: (dimension, key, status) → messages, all units, every day."""
    with db.session() as s:
        units = frozenset(s.scalars(select(OrgUnit.id)))
        split = breakdowns(s, units, Period(date(2000, 1, 1), date(2100, 1, 1)))
    return Counter(
        {
            (dimension, row.key or 0, int(status)): n
            for dimension, found in ((1, split.senders), (2, split.standard_texts))
            for row in found
            for status, n in row.figures.by_status.items()
        }
    )


def test_a_delivery_report_rewrites_one_row_per_dimension(demo_db):
    staff = load_actor(demo_db, "staff")
    sent = send_sms(demo_db, staff, text="hello", phone="+4741555123", gateway=accepting()).message
    before = rows(demo_db)
    with demo_db.session() as s:
        token = s.get(SmsMessage, sent.id).dlr_token
    apply_delivery_report(demo_db, sent.id, token, K.DELIVERED)
    after = rows(demo_db)
    changed = {key: (before[key], after[key]) for key in after if after[key] != before.get(key)}
    assert after.keys() == before.keys() and len(changed) == 2  # one row per dimension, no new row
    accepted, received = list(COUNTS).index(S.ACCEPTED), list(COUNTS).index(S.RECEIVED)
    for old, new in changed.values():
        assert new[accepted] == old[accepted] - 1 and new[received] == old[received] + 1
    assert rolled_up(demo_db) == direct(demo_db)


def test_sends_resends_reports_and_edits_keep_it_exact(demo_db):
    assert rolled_up(demo_db) == direct(demo_db) and rolled_up(demo_db)
    staff = load_actor(demo_db, "staff")
    with demo_db.session() as s:
        text_id = s.scalar(select(StandardText.id).order_by(StandardText.id))
        other_unit = s.scalar(select(OrgUnit.id).order_by(OrgUnit.id.desc()))
        other_user = s.scalar(select(User.id).order_by(User.id.desc()))
    failed = send_sms(
        demo_db, staff, text="x", phone="+4741555123", gateway=refusing(0, 1), standard_text_id=text_id
    ).message
    resent = resend_sms(demo_db, staff, failed.id, gateway=accepting()).message
    with demo_db.session() as s:
        token = s.get(SmsMessage, resent.id).dlr_token
    apply_delivery_report(demo_db, resent.id, token, K.UNDELIVERED)
    assert rolled_up(demo_db) == direct(demo_db)
    m = SmsMessage
    with demo_db.session() as s:  # edits no service makes: each in one statement
        s.execute(update(m).where(m.id == failed.id).values(sent_by_user_id=other_user, status=S.UNKNOWN))
        s.execute(update(m).where(m.id == resent.id).values(standard_text_id=None))
        s.execute(update(m).where(m.id == failed.id).values(org_unit_id=other_unit))
        s.execute(update(m).where(m.id == resent.id).values(sent_on=resent.sent_on - timedelta(days=40)))
        s.execute(update(m).where(m.id == failed.id).values(sent_by_user_id=None, standard_text_id=None))
        s.execute(update(m).where(m.id == resent.id).values(segments=m.segments + 1))  # not counted here
    assert rolled_up(demo_db) == direct(demo_db)
    with demo_db.session() as s:
        s.execute(delete(StatusEvent).where(StatusEvent.message_id.in_([failed.id, resent.id])))
        s.execute(delete(m).where(m.id.in_([resent.id, failed.id])))
    assert rolled_up(demo_db) == direct(demo_db)


def test_migration_0018_keeps_the_figures_of_a_populated_database(demo_db):
    """Down to a row per status and up again: the same figures, and changes made in between counted."""
    before = figures(demo_db)
    assert before and rolled_up(demo_db) == direct(demo_db)
    with demo_db.engine.begin() as conn:
        command.downgrade(alembic_config(conn), "0017")
    try:
        assert _narrow(demo_db) == direct(demo_db)
        summed = Counter()
        for (_, _, dimension, key, status), n in _narrow(demo_db).items():
            summed[dimension, key, status] += n
        assert summed == before
        m = SmsMessage
        with demo_db.session() as s:  # the row-per-status triggers are back
            first, second = s.scalars(select(m.id).order_by(m.id).limit(2))
            s.execute(update(m).where(m.id == first).values(status=S.RECEIVED, standard_text_id=None))
            s.execute(update(m).where(m.id == second).values(sent_by_user_id=None))
        assert _narrow(demo_db) == direct(demo_db)
        changed = Counter()
        for (_, _, dimension, key, status), n in _narrow(demo_db).items():
            changed[dimension, key, status] += n
    finally:
        migrate(demo_db)
    assert rolled_up(demo_db) == direct(demo_db)
    assert figures(demo_db) == changed != before


def _narrow(db) -> Counter:
    with db.engine.connect() as conn:
        found = conn.execute(text(NARROW).columns(day=Date)).all()
    return Counter({tuple(row[:5]): row[5] for row in found})
