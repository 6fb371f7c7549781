"""Delivery-rate figures on SQLite and PostgreSQL against hand-counted messages.

The messages below are few on purpose, so every expected figure can be checked by counting the
lines of ``CURRENT`` and ``PREVIOUS`` by hand.  The report period is 9–15 March 2024, days of the
organisation's time zone (the default, Europe/Oslo: UTC+1 in March); the previous period is 2–8 March.
"""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from sms_core.domain.errors import InvalidInput, PermissionDenied
from sms_core.domain.statuses import SmsStatus as S
from sms_core.read_models.delivery_rates import DeliveryReport, Period, delivery_report
from sms_core.storage.models import OrgUnit, SmsMessage, User, UserOrgUnit
from sms_core.use_cases.accounts import load_actor

OSLO = ZoneInfo("Europe/Oslo")
PERIOD = Period(date(2024, 3, 9), date(2024, 3, 15))


def at(day: int, hour: int = 10, minute: int = 0, second: int = 0) -> datetime:
    return datetime(2024, 3, day, hour, minute, second, tzinfo=OSLO)


NOW = at(15, 20)


# (unit, sent on, status, segments, gateway error)
CURRENT = [
    ("A", at(15, 0, 0, 0), S.RECEIVED, 1, None),  # first second of the last day
    ("A", at(15, 23, 59, 59), S.RECEIVED, 1, None),  # last second of the last day
    ("A", at(15), S.RECEIVED, 2, None),
    ("A", at(15), S.SENDING_FAILED, 1, "Connection refused"),
    ("A", at(15), S.CONSENT_NOT_REGISTERED, 3, None),  # not sent: its segments do not count
    ("A", at(14), S.RECEIVED, 1, None),
    ("A", at(14), S.REJECTED, 1, "Unknown subscriber"),
    ("A", at(14), S.ACCEPTED, 1, None),  # stuck
    ("A", at(14), S.STATUS_CHECK_TIMEOUT, 1, None),  # stuck
    ("A", at(13), S.SENDING_FAILED, 1, "Connection refused"),
    ("A", at(13), S.UNKNOWN, 1, None),
    ("A", at(13), S.SENDING_NOT_ALLOWED, 1, None),
    ("A", at(15, 19, 59), S.ACCEPTED, 1, None),  # a minute old: not stuck yet
    ("B", at(10), S.RECEIVED, 1, None),
    ("B", at(10), S.RECEIVED, 1, None),
    ("B", at(9, 0, 0, 0), S.PHONE_NOT_ENTERED, 1, None),  # first second of the period
    ("C", at(15), S.SENDING_FAILED, 1, "Secret failure of a unit the lead is not in"),
    ("C", at(15), S.SENDING_FAILED, 1, "Secret failure of a unit the lead is not in"),
]
PREVIOUS = [
    ("A", at(5), S.RECEIVED, 1, None),
    ("A", at(5), S.RECEIVED, 1, None),
    ("A", at(5), S.SENDING_FAILED, 1, "HTTP 503"),
    ("A", at(2, 0, 0, 0), S.SENDING_FAILED, 1, "HTTP 503"),
    ("B", at(8, 23, 59, 59), S.RECEIVED, 1, None),
]
OUTSIDE = [
    ("A", at(1, 23, 59, 59), S.RECEIVED, 1, None),  # before the previous period
    ("A", at(16, 0, 0, 0), S.SENDING_FAILED, 1, "tomorrow"),  # after the period
]


@pytest.fixture
def world(db):
    """Units A, B, C; the lead is in A and B, the administrator in all three, staff in A."""
    with db.session() as s:
        units = {
            code: OrgUnit(code=code, name=f"Unit {code}", representative_name="Rep", sms_sender="Sender")
            for code in "ABC"
        }
        s.add_all(units.values())
        s.flush()
        for username, role, codes in [
            ("lead", "team_lead", "AB"),
            ("admin", "administrator", "ABC"),
            ("staff", "staff", "A"),
        ]:
            user = User(
                username=username, display_name=username.title(), role=role, current_org_unit_id=units[codes[0]].id
            )
            s.add(user)
            s.flush()
            s.add_all(UserOrgUnit(user_id=user.id, org_unit_id=units[c].id) for c in codes)
        ids = {code: unit.id for code, unit in units.items()}
        for code, sent_on, status, segments, error in CURRENT + PREVIOUS + OUTSIDE:
            s.add(
                SmsMessage(
                    text="Hello",
                    phone="+4791234567",
                    org_unit_id=ids[code],
                    sent_on=sent_on,
                    status=status,
                    segments=segments,
                    gateway_error=error,
                )
            )
        s.flush()
        # Resent already: the original is not stuck any more, the resend (Received) counts as delivered.
        original = SmsMessage(text="Hi", phone="+4791234567", org_unit_id=ids["A"], sent_on=at(12), status=S.ACCEPTED)
        s.add(original)
        s.flush()
        s.add(
            SmsMessage(
                text="Hi",
                phone="+4791234567",
                org_unit_id=ids["A"],
                sent_on=at(12, 11),
                status=S.RECEIVED,
                resent=True,
                original_id=original.id,
            )
        )
    return ids


def report_for(db, username: str, units=None) -> DeliveryReport:
    return delivery_report(db, load_actor(db, username), PERIOD, units, now=NOW)


def test_headline_figures_and_the_previous_period(db, world):
    report = report_for(db, "lead")
    cur, prev = report.current, report.previous
    # A: Received 3+1+1 resend, Failed 2, Rejected 1, Accepted 3, Timeout 1, Unknown 1, consent 1, not allowed 1
    # B: Received 2, phone not entered 1
    assert cur.attempts == 18
    assert cur.not_sent == 3
    assert cur.sent == 15
    assert cur.segments == 16  # 15 sent messages, one of them two SMS long
    assert cur.delivered == 7 and cur.failed == 3 and cur.final == 10
    assert cur.delivered_share == pytest.approx(0.7) and cur.failed_share == pytest.approx(0.3)
    assert cur.pending == 5  # 3 Accepted, 1 Timeout, 1 Unknown
    assert cur.pending + cur.final == cur.sent
    assert (prev.sent, prev.delivered, prev.failed, prev.pending, prev.not_sent) == (5, 3, 2, 0, 0)
    headlines = {h.title: h for h in report.headlines()}
    assert headlines["Messages sent"].change == 10
    assert headlines["Delivered"].change == pytest.approx(0.7 - 0.6)
    assert headlines["Failed"].change == pytest.approx(0.3 - 0.4)
    assert headlines["Not sent"].statuses == {
        S.CONSENT_NOT_REGISTERED,
        S.PHONE_NOT_ENTERED,
        S.SENDING_NOT_ALLOWED,
        S.INVALID_REPRESENTATIVE,
    }


def test_daily_buckets_are_the_organisations_days(db, world):
    report = report_for(db, "lead")
    day15 = {r.status: r.count for r in report.daily if r.day == date(2024, 3, 15)}
    assert day15 == {S.RECEIVED: 3, S.SENDING_FAILED: 1, S.CONSENT_NOT_REGISTERED: 1, S.ACCEPTED: 1}
    assert min(r.day for r in report.daily) == date(2024, 3, 9)
    assert sum(r.count for r in report.daily) == 18
    shares = {d.day: (d.delivered, d.final) for d in report.daily_shares()}
    assert shares == {
        date(2024, 3, 10): (2, 2),
        date(2024, 3, 12): (1, 1),
        date(2024, 3, 13): (0, 1),
        date(2024, 3, 14): (1, 2),
        date(2024, 3, 15): (3, 4),
    }


def test_units_compared(db, world):
    units = {u.name: u.figures for u in report_for(db, "lead").units}
    assert set(units) == {"Unit A", "Unit B"}
    assert units["Unit A"].delivered_share == pytest.approx(5 / 8)
    assert (units["Unit B"].sent, units["Unit B"].delivered_share, units["Unit B"].not_sent) == (2, 1.0, 1)


def test_top_reasons_for_failures_and_refusals(db, world):
    reasons = [(r.status, r.error, r.count) for r in report_for(db, "lead").reasons]
    assert reasons[0] == (S.SENDING_FAILED, "Connection refused", 2)
    assert set(reasons[1:]) == {
        (S.REJECTED, "Unknown subscriber", 1),
        (S.CONSENT_NOT_REGISTERED, None, 1),
        (S.SENDING_NOT_ALLOWED, None, 1),
        (S.PHONE_NOT_ENTERED, None, 1),
    }
    labels = {r.reason for r in report_for(db, "lead").reasons}
    assert {"Sending failed: Connection refused", "SMS phone number is not entered"} <= labels


def test_stuck_messages_that_can_still_be_resent(db, world):
    report = report_for(db, "lead")
    # Accepted on the 14th and the Timeout; not the one already resent, not the one a minute old.
    assert report.stuck == {S.ACCEPTED: 1, S.STATUS_CHECK_TIMEOUT: 1}
    assert report.stuck_total == 2


def test_a_lead_never_sees_units_they_do_not_belong_to(db, world):
    asked_for_c = report_for(db, "lead", [world["C"]])
    assert asked_for_c.org_unit_ids == frozenset()
    assert asked_for_c.current.attempts == 0 and asked_for_c.units == [] and asked_for_c.reasons == []
    mixed = report_for(db, "lead", [world["B"], world["C"]])
    assert mixed.org_unit_ids == {world["B"]} and mixed.current.attempts == 3
    everything = report_for(db, "lead")
    assert all("Secret" not in (r.error or "") for r in everything.reasons)
    admin = report_for(db, "admin")
    assert admin.current.attempts == 20
    assert any(r.error and "Secret" in r.error for r in admin.reasons)


def test_only_delivery_report_viewers_get_figures(db, world):
    with pytest.raises(PermissionDenied, match="view delivery rates"):
        report_for(db, "staff")


def test_periods():
    today = date(2024, 3, 15)
    assert Period.preset("Today", today) == Period(today, today)
    week = Period.preset("7 days", today)
    assert week == PERIOD and week.days == 7
    assert week.previous == Period(date(2024, 3, 2), date(2024, 3, 8))
    start, end = week.bounds("Europe/Oslo")
    assert start == at(9, 0) and end == at(16, 0) and end - start == timedelta(days=7)
    spring = Period(date(2024, 3, 31), date(2024, 3, 31)).bounds("Europe/Oslo")  # clocks go forward
    assert spring[1] - spring[0] == timedelta(hours=23) and spring[0].hour == 23
    assert Period.preset("90 days", today).previous.days == 90
    with pytest.raises(InvalidInput, match="before its first day"):
        Period(date(2024, 3, 15), date(2024, 3, 14))
