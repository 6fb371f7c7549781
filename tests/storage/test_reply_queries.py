"""Reading replies, on SQLite and PostgreSQL: the Replies page's filters, unit visibility (another
unit's user never sees a reply, whatever the filter asks), and the opt-outs delivery rates count."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import update
from support import accepting, consented_number

from sms_core.domain.errors import NotFound, PermissionDenied
from sms_core.gateways.base import IncomingMessage
from sms_core.read_models.delivery_rate_figures import Period
from sms_core.read_models.message_detail import get_message_detail
from sms_core.read_models.overview import OverviewFilter
from sms_core.read_models.replies import count_replies, list_replies, opt_outs
from sms_core.storage.models import utcnow
from sms_core.storage.reply_models import OPT_OUT, IncomingSms
from sms_core.use_cases.accounts import load_actor
from sms_core.use_cases.replies import receive_reply
from sms_core.use_cases.sending import send_sms


@pytest.fixture
def answered(demo_base_db):
    """Staff's SMS (Oslo Sentrum) answered twice, the second time with STOP."""
    staff = load_actor(demo_base_db, "staff")
    contact_id, number = consented_number(demo_base_db)
    sent = send_sms(demo_base_db, staff, text="Hei", phone=number, contact_id=contact_id, gateway=accepting()).message
    now = utcnow().replace(microsecond=0)
    receive_reply(demo_base_db, "kannel", IncomingMessage(number, "Kan vi flytte timen?", None, "1", now))
    receive_reply(demo_base_db, "kannel", IncomingMessage(number, "STOP", None, "2", now + timedelta(seconds=1)))
    return sent, number, contact_id


def test_the_user_of_the_unit_sees_the_replies_with_their_message_and_contact(demo_base_db, answered):
    sent, number, contact_id = answered
    staff = load_actor(demo_base_db, "staff")
    rows = list_replies(demo_base_db, staff, OverviewFilter())
    assert [r.text for r in rows] == ["STOP", "Kan vi flytte timen?"]
    assert {(r.message_id, r.message_text, r.contact_id, r.sender) for r in rows} == {
        (sent.id, "Hei", contact_id, number)
    }
    assert [r.text for r in get_message_detail(demo_base_db, staff, sent.id).replies] == [
        "Kan vi flytte timen?",
        "STOP",
    ]


def test_another_units_user_never_sees_a_reply(demo_base_db, answered):
    sent, _, _ = answered
    kari = load_actor(demo_base_db, "kari")  # Trondheim only
    for f in (OverviewFilter(), OverviewFilter(org_unit_ids={sent.org_unit_id})):
        assert list_replies(demo_base_db, kari, f) == []
        assert count_replies(demo_base_db, kari, f).value == 0
    with pytest.raises(NotFound):
        get_message_detail(demo_base_db, kari, sent.id)


@pytest.mark.parametrize(
    ("f", "expected"),
    [
        (OverviewFilter(text="flytte"), ["Kan vi flytte timen?"]),
        (OverviewFilter(text="stop"), ["STOP"]),
        (OverviewFilter(text="100%"), []),
        (OverviewFilter(phone="+47 000"), []),
        (OverviewFilter(sent_from=utcnow().date() + timedelta(days=2)), []),
        (OverviewFilter(sent_to=utcnow().date() + timedelta(days=2)), ["STOP", "Kan vi flytte timen?"]),
    ],
)
def test_the_filters_are_the_overviews(demo_base_db, answered, f, expected):
    staff = load_actor(demo_base_db, "staff")
    assert [r.text for r in list_replies(demo_base_db, staff, f)] == expected
    assert count_replies(demo_base_db, staff, f).value == len(expected)


def test_a_phone_filter_finds_the_sender(demo_base_db, answered):
    _, number, _ = answered
    staff = load_actor(demo_base_db, "staff")
    assert len(list_replies(demo_base_db, staff, OverviewFilter(phone=number[-5:]))) == 2


def test_opt_outs_are_counted_per_unit_and_period(demo_base_db, answered):
    sent, _, _ = answered
    lead, kari = load_actor(demo_base_db, "lead"), load_actor(demo_base_db, "kari")
    today = utcnow().date()
    counted = opt_outs(demo_base_db, lead, Period(today - timedelta(days=6), today), lead.org_unit_ids)
    assert (counted.count, counted.previous, counted.per_unit) == (1, 0, {sent.org_unit_id: 1})
    earlier = opt_outs(
        demo_base_db, lead, Period(today + timedelta(days=1), today + timedelta(days=7)), [sent.org_unit_id]
    )
    assert (earlier.count, earlier.previous) == (0, 1)
    with pytest.raises(PermissionDenied):
        opt_outs(demo_base_db, kari, Period(today, today), kari.org_unit_ids)


def test_opt_outs_count_the_organisations_days_as_the_other_figures_do(demo_base_db, answered):
    """23:30 UTC on 14 January is half past midnight on the 15th in Oslo (the default zone)."""
    lead = load_actor(demo_base_db, "lead")
    with demo_base_db.session() as s:
        s.execute(
            update(IncomingSms)
            .where(IncomingSms.keyword == OPT_OUT)
            .values(received_at=datetime(2026, 1, 14, 23, 30, tzinfo=UTC))
        )
    day = date(2026, 1, 15)
    assert opt_outs(demo_base_db, lead, Period(day, day), lead.org_unit_ids).count == 1
    day_before = Period(day - timedelta(days=1), day - timedelta(days=1))
    assert opt_outs(demo_base_db, lead, day_before, lead.org_unit_ids).count == 0
