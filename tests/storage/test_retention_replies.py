"""Retention of replies on SQLite and PostgreSQL: what a recipient wrote back, and their number,
kept only as many days as the setting says; the opt-out counts and the links stay."""

import secrets
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select

from sms_core.delivery.retention import removed, run_retention
from sms_core.domain.setting_definitions import RETENTION_REPLY_DAYS
from sms_core.read_models.delivery_rates import Period
from sms_core.read_models.replies import opt_outs
from sms_core.storage.models import Contact, OrgUnit
from sms_core.storage.reply_models import OPT_OUT, IncomingSms
from sms_core.use_cases.accounts import load_actor
from sms_core.use_cases.settings import change_setting

NOW = datetime(2026, 6, 30, 12, 0, tzinfo=UTC)
DAYS = 30


def add_replies(db) -> None:
    """Twelve replies a few days apart, one in three a STOP, from 60 days ago to yesterday."""
    with db.session() as s:
        unit = s.scalar(select(OrgUnit.id).order_by(OrgUnit.id))
        contact = s.scalar(select(Contact.id).order_by(Contact.id))
        for i in range(12):
            s.add(
                IncomingSms(
                    sender=f"+4741555{100 + i}",
                    text="STOP" if i % 3 == 0 else f"Kan vi flytte timen? ({i})",
                    received_at=NOW - timedelta(days=60 - 5 * i),
                    org_unit_id=unit,
                    contact_id=contact,
                    keyword=OPT_OUT if i % 3 == 0 else None,
                    gateway="simulated",
                    dedupe_key=secrets.token_hex(32),
                )
            )


def replies(db) -> list:
    with db.session() as s:
        return s.scalars(select(IncomingSms).order_by(IncomingSms.received_at)).all()


def test_replies_older_than_the_setting_lose_text_number_and_contact_and_the_opt_out_counts_stay(demo_base_db):
    db = demo_base_db
    add_replies(db)
    admin = load_actor(db, "admin")
    period = Period(date(2026, 5, 15), date(2026, 6, 30))  # the period before it reaches back to April
    counted = opt_outs(db, admin, period, admin.org_unit_ids)
    assert counted.count and counted.previous  # opt-outs on both sides of the cutoff
    before = replies(db)
    assert run_retention(db, now=NOW) == []  # kept for ever until the setting says otherwise
    change_setting(db, admin, RETENTION_REPLY_DAYS, DAYS)

    stopped = run_retention(db, now=NOW, batch_size=2, batches=1)  # as a crash between two batches would
    assert [(r.target, r.rows, r.finished) for r in stopped] == [("replies", 2, False)]
    assert [r.finished for r in run_retention(db, now=NOW, batch_size=2)] == [True]

    cutoff = NOW - timedelta(days=DAYS)
    after = replies(db)
    old = [r for r in after if r.received_at < cutoff]
    assert len(old) == 6 and all(r.text == removed(DAYS) and r.contact_id is None for r in old)
    assert [r.sender for r in old] == [f"**{b.sender[-2:]}" for b in before if b.received_at < cutoff]
    assert not any(b.dedupe_key == a.dedupe_key for b, a in zip(before, after, strict=True) if a.received_at < cutoff)
    newer = [(r.text, r.sender, r.contact_id) for r in after if r.received_at >= cutoff]
    assert newer == [(b.text, b.sender, b.contact_id) for b in before if b.received_at >= cutoff]
    assert [(r.keyword, r.org_unit_id, r.received_at) for r in after] == [
        (b.keyword, b.org_unit_id, b.received_at) for b in before
    ]
    assert opt_outs(db, admin, period, admin.org_unit_ids) == counted
    assert [r.rows for r in run_retention(db, now=NOW)] == [0]  # nothing left: a run is a no-op
