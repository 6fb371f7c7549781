"""The schema, the demo seed and the accounts, on SQLite and on real PostgreSQL."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, inspect, select
from sqlalchemy.exc import IntegrityError

from sms_core.demo.seed import seed_demo
from sms_core.domain.errors import NotFound, PermissionDenied
from sms_core.domain.permissions import Permission
from sms_core.domain.senders import sender_problem
from sms_core.domain.statuses import SmsStatus
from sms_core.storage.database import Database
from sms_core.storage.migrate import migrate
from sms_core.storage.models import (
    Contact,
    ContactPhone,
    OrgUnit,
    SmsConsent,
    SmsMessage,
    StandardText,
    StatusEvent,
    User,
)
from sms_core.use_cases.accounts import load_actor, set_current_org_unit


def test_migrations_create_the_schema_and_are_repeatable(db):
    migrate(db)  # the fixture already migrated: running again changes nothing
    tables = set(inspect(db.engine).get_table_names())
    assert {
        "org_units",
        "users",
        "contacts",
        "contact_phones",
        "sms_consents",
        "sms_messages",
        "sms_status_events",
        "standard_texts",
        "settings",
        "setting_changes",
        "retention_progress",
        "retention_runs",
    } <= tables
    indexes = {ix["name"] for ix in inspect(db.engine).get_indexes("sms_messages")}
    assert {"ix_sms_messages_unit_sent", "ix_sms_messages_unit_status_sent"} <= indexes
    if db.is_postgres:
        assert {"ix_sms_messages_unit_text_trgm", "ix_sms_messages_unit_phone_trgm"} <= indexes


def test_phone_contains_is_answered_by_the_unit_phone_index_on_postgres(pg_db):
    """Migration 0005 replaced the phone-only trigram index with one over (unit, phone): the
    phone filter must still find an index, or "phone contains" reads every message.  (At a
    million rows the planner also puts the unit into the same scan; `make bench` shows that.)"""
    from sms_core.read_models.overview import OverviewFilter, count_statement
    from sms_core.use_cases.accounts import load_actor

    seed_demo(pg_db, messages=2000)
    statement = count_statement(load_actor(pg_db, "staff"), OverviewFilter(phone="2345"))
    compiled = str(statement.compile(pg_db.engine, compile_kwargs={"literal_binds": True}))
    with pg_db.engine.connect() as conn:
        conn.exec_driver_sql("ANALYZE sms_messages")
        conn.exec_driver_sql("SET enable_seqscan = off")
        conn.exec_driver_sql("SET enable_indexscan = off")  # tiny tables: make the planner show its index choice
        plan = "\n".join(row[0] for row in conn.exec_driver_sql(f"EXPLAIN {compiled}"))
    assert "Index Scan on ix_sms_messages_unit_phone_trgm" in plan, plan


def test_text_contains_is_answered_by_the_unit_text_index_on_postgres(pg_db):
    """Migration 0011 replaced the text-only trigram index with one over (unit, text): "text
    contains" must still find an index, and in the same scan as the unit."""
    from sms_core.read_models.overview import OverviewFilter, count_statement

    seed_demo(pg_db, messages=2000)
    statement = count_statement(load_actor(pg_db, "staff"), OverviewFilter(text="prescription"))
    compiled = str(statement.compile(pg_db.engine, compile_kwargs={"literal_binds": True}))
    with pg_db.engine.connect() as conn:
        conn.exec_driver_sql("ANALYZE sms_messages")
        conn.exec_driver_sql("SET enable_seqscan = off")
        conn.exec_driver_sql("SET enable_indexscan = off")
        plan = "\n".join(row[0] for row in conn.exec_driver_sql(f"EXPLAIN {compiled}"))
    assert "Index Scan on ix_sms_messages_unit_text_trgm" in plan and "BitmapAnd" not in plan, plan


def test_overview_statements_are_never_given_a_generic_plan_on_postgres(postgres_url):
    """psycopg prepares a statement run five times, and PostgreSQL would then plan it once for
    any values — the wrong plan for a common word (68 ms instead of 7 at a million rows).  After
    a dozen runs of the same page on one connection, every plan was still made with the values."""
    from sms_core.read_models.overview import OverviewFilter, list_messages

    db = Database(postgres_url, pool_size=1, max_overflow=0)
    try:
        seed_demo(db, messages=300)
        staff = load_actor(db, "staff")
        one_unit = OverviewFilter(text="prescription", org_unit_ids={staff.current_org_unit_id})
        for _ in range(12):
            list_messages(db, staff, one_unit)
        with db.engine.connect() as conn:
            plans = conn.exec_driver_sql(
                "SELECT sum(generic_plans), sum(custom_plans) FROM pg_prepared_statements"
            ).one()
    finally:
        db.dispose()
    assert plans[0] == 0 and plans[1] >= 5, plans  # prepared (psycopg did its part), never generic


def test_seed_demo_is_realistic_and_idempotent(db):
    now = datetime.now(UTC)
    first = seed_demo(db, messages=500, now=now)
    second = seed_demo(db, messages=500, now=now)
    assert first.created_base and first.messages_added == 500
    assert not second.created_base and second.messages_added == 0
    with db.session() as s:
        units = s.scalars(select(OrgUnit)).all()
        assert 4 <= len(units) <= 6
        broken = [u for u in units if sender_problem(u.sms_sender, u.representative_name)]
        assert len(broken) == 1
        assert {"admin", "lead", "staff"} <= set(s.scalars(select(User.username)))
        restricted = [u for u in s.scalars(select(User)) if len(u.org_units) == 1]
        assert restricted, "one demo user belongs to a single unit"
        assert 190 <= s.scalar(select(func.count()).select_from(Contact)) <= 210
        per_contact = s.execute(select(ContactPhone.contact_id, func.count()).group_by(ContactPhone.contact_id)).all()
        assert {n for _, n in per_contact} <= {1, 2, 3} and len({n for _, n in per_contact}) > 1
        consents = s.scalars(select(SmsConsent)).all()
        assert any(c.withdrawn_at for c in consents) and any(not c.withdrawn_at for c in consents)
        assert s.scalar(select(func.count()).select_from(StandardText)) >= 4
        messages = s.scalars(select(SmsMessage)).all()
        assert len(messages) == 500
        assert min(m.sent_on for m in messages) >= now - timedelta(days=90, seconds=1)
        statuses = {m.status for m in messages}
        assert {SmsStatus.RECEIVED, SmsStatus.SENDING_FAILED, SmsStatus.CONSENT_NOT_REGISTERED} <= statuses
        received = sum(m.status is SmsStatus.RECEIVED for m in messages)
        assert received > len(messages) / 2
        resends = [m for m in messages if m.resent]
        assert resends and all(m.original_id for m in resends)
        by_id = {m.id: m for m in messages}
        assert all(by_id[m.original_id].status.resendable and by_id[m.original_id].text == m.text for m in resends)
        assert s.scalar(select(func.count()).select_from(StatusEvent)) >= 500


def test_a_message_can_be_resent_only_once_by_the_database(demo_db):
    with demo_db.session() as s:
        original = s.scalars(select(SmsMessage).where(SmsMessage.resent.is_(False))).first()
        s.add(
            SmsMessage(
                text="again",
                phone=original.phone,
                org_unit_id=original.org_unit_id,
                resent=True,
                original_id=original.id,
            )
        )
    with pytest.raises(IntegrityError), demo_db.sessions() as s, s.begin():
        s.add(
            SmsMessage(
                text="twice",
                phone=original.phone,
                org_unit_id=original.org_unit_id,
                resent=True,
                original_id=original.id,
            )
        )


def test_times_come_back_as_utc(demo_db):
    with demo_db.session() as s:
        message = s.scalars(select(SmsMessage)).first()
    assert message.sent_on.tzinfo is not None and message.sent_on.utcoffset() == timedelta(0)


def test_roles_group_permissions(demo_db):
    staff, lead, admin = (load_actor(demo_db, name) for name in ("staff", "lead", "admin"))
    assert staff.can(Permission.VIEW_SMS) and staff.can(Permission.SEND_SMS)
    assert not staff.can(Permission.MANAGE_SETTINGS) and not staff.can(Permission.VIEW_DELIVERY_REPORTS)
    assert lead.can(Permission.VIEW_DELIVERY_REPORTS) and not lead.can(Permission.MANAGE_SETTINGS)
    assert all(admin.can(p) for p in Permission)
    with pytest.raises(PermissionDenied, match="manage SMS settings"):
        staff.require(Permission.MANAGE_SETTINGS)


def test_current_org_unit_only_among_the_users_units(demo_db):
    kari = load_actor(demo_db, "kari")
    staff = load_actor(demo_db, "staff")
    assert len(kari.org_unit_ids) == 1
    with pytest.raises(PermissionDenied):
        set_current_org_unit(demo_db, kari, next(iter(staff.org_unit_ids)))
    other = next(iter(staff.org_unit_ids - {staff.current_org_unit_id}))
    assert set_current_org_unit(demo_db, staff, other).current_org_unit_id == other
    assert load_actor(demo_db, "staff").current_org_unit_id == other
    with pytest.raises(NotFound):
        load_actor(demo_db, "nobody")
