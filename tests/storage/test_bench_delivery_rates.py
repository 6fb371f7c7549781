"""The delivery rates read at scale must equal the raw messages, on both databases.

For speed (issue 8) the figures no longer aggregate messages: counts come from the daily roll-up,
failure reasons are the roll-up's totals minus the messages that carry a gateway error (read from
a partial index, long errors from another), and stuck messages come from a partial index with a
bounded look-up of resends.  Each of those is a place where a message could be counted twice or
lost, so a few hundred random messages — every status, no error, an empty one, errors too long
for the index in bytes and in characters, resends, messages inside the status-check window, at
the edges of the periods — are written, changed and deleted, and every figure is compared with
one computed here from the rows themselves.
"""

import random
from collections import Counter
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import delete, select, update

from sms_core.config import get_config
from sms_core.domain.statuses import SmsStatus as S
from sms_core.read_models.delivery_rates import FAILURES_AND_REFUSALS, LONG_ERROR_BYTES, STUCK, Period, delivery_report
from sms_core.storage.models import OrgUnit, SmsMessage, User, UserOrgUnit
from sms_core.use_cases.accounts import load_actor

ZONE = "Europe/Oslo"  # the organisation's time zone by default: its midnights are the edges
NOW = datetime(2024, 3, 15, 20, 0, tzinfo=ZoneInfo(ZONE))
PERIOD = Period(date(2024, 3, 9), date(2024, 3, 15))
ERRORS = [
    None,
    None,
    None,
    "",
    "Connection refused",
    "Unknown subscriber",
    "x" * (LONG_ERROR_BYTES + 1),
    "ø" * (LONG_ERROR_BYTES // 2 + 1),
]  # the last two: too long in bytes, not in characters


def random_moment(rng: random.Random) -> datetime:
    """Anywhere from before the previous period to after this one, often exactly on an edge."""
    edges = [datetime(2024, 3, day, tzinfo=ZoneInfo(ZONE)) for day in (2, 9, 16)]
    edges += [edge - timedelta(microseconds=1) for edge in edges] + [NOW - timedelta(seconds=30)]
    if rng.random() < 0.2:
        return rng.choice(edges)
    return datetime(2024, 3, 1, tzinfo=ZoneInfo(ZONE)) + timedelta(seconds=rng.uniform(0, 16 * 86400))


@pytest.fixture
def messages(db):
    """Units A and B (the lead's) and C (not), with random messages, resends, edits and deletes."""
    rng = random.Random(8)
    with db.session() as s:
        units = [OrgUnit(code=c, name=f"Unit {c}", representative_name="Rep", sms_sender="Sender") for c in "ABC"]
        s.add_all(units)
        s.flush()
        lead = User(username="lead", display_name="Lead", role="team_lead", current_org_unit_id=units[0].id)
        s.add(lead)
        s.flush()
        s.add_all(UserOrgUnit(user_id=lead.id, org_unit_id=u.id) for u in units[:2])
        made = [
            SmsMessage(
                text="Hello",
                phone="+4791234567",
                org_unit_id=rng.choice(units).id,
                sent_on=random_moment(rng),
                status=rng.choice(list(S)),
                segments=rng.randint(1, 3),
                gateway_error=rng.choice(ERRORS),
            )
            for _ in range(400)
        ]
        s.add_all(made)
        s.flush()
        for original in rng.sample([m for m in made if m.status.resendable], 40):
            s.add(
                SmsMessage(
                    text="Hello",
                    phone=original.phone,
                    org_unit_id=original.org_unit_id,
                    resent=True,
                    original_id=original.id,
                    status=rng.choice(list(S)),
                    gateway_error=rng.choice(ERRORS),
                    sent_on=original.sent_on + timedelta(minutes=rng.randint(1, 600)),
                )
            )
        ids = [m.id for m in made]
    with db.session() as s:  # later changes: statuses move, errors arrive, messages are deleted
        for message_id in rng.sample(ids, 60):
            s.execute(
                update(SmsMessage)
                .where(SmsMessage.id == message_id)
                .values(status=rng.choice(list(S)), gateway_error=rng.choice(ERRORS))
            )
        unresent = s.scalars(
            select(SmsMessage.id)
            .where(SmsMessage.id.in_(ids), SmsMessage.resent.is_(False))
            .where(~SmsMessage.id.in_(select(SmsMessage.original_id).where(SmsMessage.original_id.is_not(None))))
        )
        s.execute(delete(SmsMessage).where(SmsMessage.id.in_(rng.sample(list(unresent), 20))))
    return [u.id for u in units]


def raw_figures(db, units: list[int], period: Period) -> dict:
    """The report's figures counted the slow, obvious way: every row, in Python."""
    with db.session() as s:
        rows = s.execute(
            select(
                SmsMessage.id,
                SmsMessage.org_unit_id,
                SmsMessage.sent_on,
                SmsMessage.status,
                SmsMessage.gateway_error,
                SmsMessage.original_id,
            )
        ).all()
    resent = {row.original_id for row in rows if row.original_id}
    start, end = period.bounds(ZONE)
    before, _ = period.previous.bounds(ZONE)
    mine = [r for r in rows if r.org_unit_id in units]
    current = [r for r in mine if start <= r.sent_on < end]
    settled = NOW - timedelta(seconds=get_config().status_check_timeout)
    return {
        "current": Counter(r.status for r in current),
        "previous": Counter(r.status for r in mine if before <= r.sent_on < start),
        "reasons": Counter((r.status, r.gateway_error) for r in current if r.status in FAILURES_AND_REFUSALS),
        "stuck": Counter(r.status for r in current if r.status in STUCK and r.sent_on < settled and r.id not in resent),
    }


def reported_figures(db, username: str, units: list[int] | None) -> dict:
    report = delivery_report(db, load_actor(db, username), PERIOD, units, now=NOW, reasons=1000)
    return {
        "current": Counter(report.current.by_status),
        "previous": Counter(report.previous.by_status),
        "reasons": Counter({(r.status, r.error): r.count for r in report.reasons}),
        "stuck": Counter(report.stuck),
    }


def test_figures_equal_the_raw_messages(db, messages):
    a, b, _ = messages
    for units in ([a], [a, b]):
        assert reported_figures(db, "lead", units) == raw_figures(db, units, PERIOD)
    assert reported_figures(db, "lead", None) == raw_figures(db, [a, b], PERIOD)


def test_the_random_world_has_every_case(db, messages):
    """The comparison above proves something only if the awkward cases are really there."""
    figures = raw_figures(db, messages[:2], PERIOD)
    errors = {error for _, error in figures["reasons"]}
    assert None in errors and "" in errors and any(e and len(e.encode()) > LONG_ERROR_BYTES for e in errors)
    assert len(figures["stuck"]) == 2 and sum(figures["previous"].values()) > 0
    with db.session() as s:
        resent_stuck = s.scalar(
            select(SmsMessage.id)
            .where(
                SmsMessage.status.in_(STUCK),
                SmsMessage.id.in_(select(SmsMessage.original_id).where(SmsMessage.original_id.is_not(None))),
            )
            .limit(1)
        )
    assert resent_stuck is not None


def test_the_report_indexes_hold_the_statuses_the_report_asks_for():
    """Migration 0004 writes its status numbers out; if they drifted from the report's sets,
    PostgreSQL could no longer match the report's predicates to the partial indexes and the page
    would quietly fall back to reading every message of the period."""
    import importlib

    revision = importlib.import_module("sms_core.storage.migrations.versions.0004_report_indexes")
    as_numbers = lambda text: {int(n) for n in text.split(",")}  # noqa: E731
    assert as_numbers(revision.FAILURES_AND_REFUSALS) == {int(s) for s in FAILURES_AND_REFUSALS}
    assert as_numbers(revision.STUCK) == {int(s) for s in STUCK}
    assert revision.LONG_ERROR_BYTES == LONG_ERROR_BYTES


def test_postgres_answers_reasons_and_stuck_from_the_partial_indexes(pg_db):
    """With sequential scans priced out, the planner can answer both reads from the partial
    indexes: proof that the predicates match (a mismatch leaves only the table scan)."""
    from sqlalchemy import text

    with pg_db.engine.connect() as conn:
        conn.execute(text("SET enable_seqscan = off"))
        plans = {}
        for name, where in (
            (
                "failure_errors",
                "status IN (2, 4, 5, 6, 8, 9) AND gateway_error IS NOT NULL AND octet_length(gateway_error) <= 2000",
            ),
            ("stuck", "status IN (1, 7)"),
        ):
            plan = (
                conn.execute(
                    text(
                        f"EXPLAIN SELECT count(*) FROM sms_messages WHERE org_unit_id = 1 "
                        f"AND sent_on >= now() - interval '90 days' AND {where}"
                    )
                )
                .scalars()
                .all()
            )
            plans[name] = "\n".join(plan)
    for name, plan in plans.items():
        assert f"ix_sms_messages_{name}" in plan, plan
