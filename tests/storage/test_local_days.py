"""Days as the organisation lives them, and time to delivery: both roll-ups equal a direct count.

Messages are written around both clock changes of 2026 in Oslo (29 March, 25 October), just
before and after local midnight, and delivered after delays on both sides of the bucket edges;
the roll-ups must equal what Python counts from the rows and their history, on both databases,
also after the organisation's time zone is changed (which counts everything again).
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from alembic import command
from sqlalchemy import delete, select, text, update

from sms_core.domain.delivery_times import bucket_of
from sms_core.domain.setting_definitions import ORGANISATION_TIME_ZONE
from sms_core.domain.statuses import SmsStatus as S
from sms_core.read_models.delivery_rates import Period, delivery_report
from sms_core.storage.migrate import alembic_config, migrate
from sms_core.storage.models import OrgUnit, SmsMessage, StandardText, StatusEvent, User
from sms_core.storage.rollup_breakdowns import DIMENSIONS
from sms_core.storage.rollup_models import DailyBreakdown, DailyStatusCount, DeliveryHistogram
from sms_core.storage.rollups import zone_offsets
from sms_core.use_cases.accounts import load_actor
from sms_core.use_cases.settings import change_setting

OSLO = ZoneInfo("Europe/Oslo")
# (sent on in UTC, seconds until Received or None)
MESSAGES = [
    (datetime(2026, 3, 28, 22, 59, 59, 999999, tzinfo=UTC), 4.2),  # 23:59:59 on the 28th in Oslo
    (datetime(2026, 3, 28, 23, 0, 0, tzinfo=UTC), 9.99),  # midnight: the 29th
    (datetime(2026, 3, 29, 0, 59, 59, tzinfo=UTC), 10.01),  # 01:59:59 CET, just before the change
    (datetime(2026, 3, 29, 1, 0, 1, tzinfo=UTC), 59.5),  # 03:00:01 CEST
    (datetime(2026, 3, 29, 21, 59, 59, tzinfo=UTC), 61),  # 23:59:59 CEST: still the 29th
    (datetime(2026, 3, 29, 22, 0, 0, tzinfo=UTC), 299),  # the 30th
    (datetime(2026, 10, 24, 21, 59, 59, tzinfo=UTC), 301),  # 23:59:59 CEST on the 24th
    (datetime(2026, 10, 24, 22, 0, 0, tzinfo=UTC), 899),  # the 25th, a 25-hour day
    (datetime(2026, 10, 25, 0, 30, tzinfo=UTC), 901),  # 02:30 CEST
    (datetime(2026, 10, 25, 1, 30, tzinfo=UTC), 3 * 3600),  # 02:30 CET, the hour again
    (datetime(2026, 10, 25, 22, 59, 59, tzinfo=UTC), 2 * 86400),  # 23:59:59 CET: still the 25th
    (datetime(2026, 10, 25, 23, 0, 0, tzinfo=UTC), None),  # the 26th, never delivered
]


@pytest.fixture
def written(demo_base_db):
    """The messages above, from two senders and none, made from two standard texts and none."""
    with demo_base_db.session() as s:
        unit = s.scalar(select(OrgUnit.id).order_by(OrgUnit.id))
        users = [*s.scalars(select(User.id).order_by(User.id).limit(2)), None]
        texts = [*s.scalars(select(StandardText.id).order_by(StandardText.id).limit(2)), None]
        for i, (sent_on, seconds) in enumerate(MESSAGES):
            m = SmsMessage(text="t", phone="+4791234567", org_unit_id=unit, sent_on=sent_on, status=S.ACCEPTED)
            m.sent_by_user_id, m.standard_text_id = users[i % 3], texts[i % 2 * 2 - (i % 5 == 0)]
            s.add(m)
            s.flush()
            s.add(StatusEvent(message_id=m.id, status=S.ACCEPTED, at=sent_on, source="gateway"))
            if seconds is not None:
                m.status = S.RECEIVED
                s.add(
                    StatusEvent(message_id=m.id, status=S.RECEIVED, at=sent_on + timedelta(seconds=seconds), source="r")
                )
    return demo_base_db


def direct_counts(db, zone: str) -> tuple[Counter, Counter, Counter]:
    """Messages per local day, unit and status; Received per local day, unit and bucket; and
    messages per local day, unit, sender or standard text, and status."""
    m = SmsMessage
    with db.session() as s:
        messages = s.execute(select(m.id, m.sent_on, m.org_unit_id, m.status, m.sent_by_user_id, m.standard_text_id))
        sent, daily, breakdowns = {}, Counter(), Counter()
        for mid, on, unit, status, *keys in messages:
            sent[mid] = (on.astimezone(ZoneInfo(zone)).date(), unit)
            daily[*sent[mid], status] += 1
            for dimension, key in zip(DIMENSIONS, keys, strict=True):
                breakdowns[*sent[mid], dimension, key or 0, int(status)] += 1
        received = Counter()
        rows = s.execute(
            select(StatusEvent.at, SmsMessage.sent_on, SmsMessage.id)
            .join(SmsMessage, SmsMessage.id == StatusEvent.message_id)
            .where(StatusEvent.status == S.RECEIVED)
        )
        for at, on, mid in rows:
            day, unit = sent[mid]
            received[day, unit, bucket_of(round((at - on).total_seconds(), 3))] += 1
    return daily, received, breakdowns


def rolled_up(db) -> tuple[Counter, Counter, Counter]:
    with db.session() as s:
        daily = Counter(
            {
                (r.day, r.org_unit_id, status): messages
                for r in s.scalars(select(DailyStatusCount))
                for status, (messages, _) in r.by_status().items()
                if messages
            }
        )
        times = Counter(
            {(r.day, r.org_unit_id, b): n for r in s.scalars(select(DeliveryHistogram)) for b, n in r.buckets().items()}
        )
        breakdowns = Counter(
            {
                (r.day, r.org_unit_id, r.dimension, r.key, int(status)): n
                for r in s.scalars(select(DailyBreakdown))
                for status, n in r.by_status().items()
            }
        )
    return daily, times, breakdowns


def test_roll_ups_count_local_days_across_both_clock_changes(written):
    daily, times, breakdowns = rolled_up(written)
    assert (daily, times, breakdowns) == direct_counts(written, "Europe/Oslo")
    assert {key for (_, _, dimension, key, _) in breakdowns if dimension == 1} == {0, 1, 2}
    days = Counter(
        day for (day, _, _), n in daily.items() for _ in range(n) if day.year == 2026 and day.month in (3, 10)
    )
    assert days[date(2026, 3, 28)] == 1 and days[date(2026, 3, 29)] == 4 and days[date(2026, 3, 30)] == 1
    assert days[date(2026, 10, 24)] == 1 and days[date(2026, 10, 25)] == 4 and days[date(2026, 10, 26)] == 1


def test_edits_no_service_makes_keep_every_roll_up_exact(written):
    """Another sender, standard text, unit or day, a status change and a delete: each edit moves
    the message's counts out of one roll-up row and into another, in one statement each."""
    with written.session() as s:
        ids = s.scalars(select(SmsMessage.id).order_by(SmsMessage.id)).all()
        units = s.scalars(select(OrgUnit.id).order_by(OrgUnit.id)).all()
        user = s.scalar(select(User.id).order_by(User.id.desc()))
        s.execute(update(SmsMessage).where(SmsMessage.id == ids[0]).values(sent_by_user_id=user))
        s.execute(update(SmsMessage).where(SmsMessage.id == ids[1]).values(standard_text_id=None, org_unit_id=units[1]))
        moved = s.get(SmsMessage, ids[2]).sent_on - timedelta(days=2)
        s.execute(update(SmsMessage).where(SmsMessage.id == ids[2]).values(sent_on=moved))
        s.execute(update(SmsMessage).where(SmsMessage.id == ids[3]).values(status=S.SENDING_FAILED))
        s.execute(delete(StatusEvent).where(StatusEvent.message_id == ids[4]))
        s.execute(delete(SmsMessage).where(SmsMessage.id == ids[4]))
    daily, _, breakdowns = rolled_up(written)
    expected_daily, _, expected_breakdowns = direct_counts(written, "Europe/Oslo")
    assert (daily, breakdowns) == (expected_daily, expected_breakdowns)


def test_changing_the_time_zone_counts_every_day_again(written):
    admin = load_actor(written, "admin")
    change_setting(written, admin, ORGANISATION_TIME_ZONE, "UTC")
    assert rolled_up(written) == direct_counts(written, "UTC")
    change_setting(written, admin, ORGANISATION_TIME_ZONE, "America/St_Johns")  # UTC−3:30, and DST
    assert rolled_up(written) == direct_counts(written, "America/St_Johns")
    later = datetime(2026, 11, 1, 2, 0, tzinfo=UTC)  # the triggers count in the new zone too
    with written.session() as s:
        unit = s.scalar(select(SmsMessage.org_unit_id).limit(1))
        s.add(SmsMessage(text="t", phone="+4791234567", org_unit_id=unit, sent_on=later, status=S.UNKNOWN))
    assert rolled_up(written) == direct_counts(written, "America/St_Johns")
    with written.session() as s:  # a sender or a standard text changed afterwards moves the counts
        s.execute(update(SmsMessage).where(SmsMessage.sent_on == later).values(sent_by_user_id=1, standard_text_id=1))
        s.execute(delete(SmsMessage).where(SmsMessage.sent_on == MESSAGES[-1][0]))
    assert rolled_up(written) == direct_counts(written, "America/St_Johns")


def test_the_wide_roll_ups_go_back_to_narrow_rows_and_come_again(demo_db):
    """Migrations 0016 to 0018 on a populated database, down and up: the narrow tables the
    downgrade makes hold the same counts and keep counting, and the upgrade counts them again."""
    with demo_db.engine.begin() as conn:
        command.downgrade(alembic_config(conn), "0014")
    with demo_db.session() as s:  # a message sent and received at 0014
        unit = s.scalar(select(OrgUnit.id).order_by(OrgUnit.id))
        sent_on = datetime(2026, 10, 25, 0, 30, tzinfo=UTC)
        m = SmsMessage(text="t", phone="+4791234567", org_unit_id=unit, sent_on=sent_on, status=S.RECEIVED)
        s.add(m)
        s.flush()
        s.add(StatusEvent(message_id=m.id, status=S.RECEIVED, at=sent_on + timedelta(seconds=42), source="r"))
    daily, times, breakdowns = direct_counts(demo_db, "Europe/Oslo")
    with demo_db.session() as s:
        narrow = "SELECT day, org_unit_id, {0}, messages FROM {1} WHERE messages <> 0"
        narrow_daily = {
            (_day(d), u, S(k)): n for d, u, k, n in s.execute(text(narrow.format("status", "sms_daily_counts")))
        }
        narrow_times = {
            (_day(d), u, k): n for d, u, k, n in s.execute(text(narrow.format("bucket", "sms_delivery_times")))
        }
    assert narrow_daily == daily and narrow_times == times and sum(times.values()) > 100
    migrate(demo_db)
    assert rolled_up(demo_db) == (daily, times, breakdowns)


def _day(value) -> date:
    return date.fromisoformat(str(value))


def test_time_to_delivery_in_the_report(written):
    admin = load_actor(written, "admin")
    report = delivery_report(written, admin, Period(date(2026, 3, 29), date(2026, 3, 29)))
    times = report.times.current
    assert times.received == 4 and report.zone == "Europe/Oslo"
    assert dict(times.groups()) == {"Under 10 s": 1, "10–60 s": 2, "1–5 min": 1, "5–15 min": 0, "Over 15 min": 0}
    assert 10 <= times.median <= 12  # 9.99, 10.01, 59.5 and 61 s: read from the 10–12 s bucket
    assert report.times.previous.received == 1  # 28 March: 4.2 s
    autumn = delivery_report(written, admin, Period(date(2026, 10, 24), date(2026, 10, 26))).times.current
    assert dict(autumn.groups()) == {"Under 10 s": 0, "10–60 s": 0, "1–5 min": 0, "5–15 min": 2, "Over 15 min": 3}


def test_the_offsets_follow_the_zone():
    rows = dict(zone_offsets("Europe/Oslo"))
    assert rows[datetime(2026, 3, 29, 1, 0)] == 120 and rows[datetime(2026, 10, 25, 1, 0)] == 60
    assert zone_offsets("UTC") == ((datetime(1, 1, 1), 0),)


def test_time_to_delivery_per_day_unit_and_period_before_equal_the_history(demo_db):
    """The page's three sums (per day and per unit in the period, and the period before) equal
    the Received events counted one by one — on PostgreSQL read with GROUPING SETS."""
    _, received, _ = direct_counts(demo_db, "Europe/Oslo")
    last = max(day for day, _, _ in received)
    period = Period(last - timedelta(days=13), last)
    admin = load_actor(demo_db, "admin")
    times = delivery_report(demo_db, admin, period).times

    def summed(keep, key) -> dict:
        out: dict = {}
        for (day, unit, bucket), n in received.items():
            if keep(day, unit):
                out.setdefault(key(day, unit), Counter())[bucket] += n
        return out

    now = lambda day, unit: period.first <= day <= period.last  # noqa: E731
    before = lambda day, unit: period.previous.first <= day < period.first  # noqa: E731
    assert {day: dict(t.buckets) for day, t in times.daily.items()} == summed(now, lambda day, unit: day)
    assert {unit: dict(t.buckets) for unit, t in times.units.items()} == summed(now, lambda day, unit: unit)
    assert dict(times.previous.buckets) == summed(before, lambda day, unit: 0).get(0, {})
    assert times.current.received > 20 and times.previous.received > 20 and len(times.units) > 1
