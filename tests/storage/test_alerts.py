"""Alert rules on a real database: one incident per rule and unit while it lasts, its mails in
the outbox, the rules an administrator edits — on SQLite and PostgreSQL."""

from __future__ import annotations

import secrets
import threading
from datetime import timedelta

import pytest
from sqlalchemy import delete, func, insert, select

from sms_core.domain.alert_rules import CALM_EVALUATIONS, DEFAULT_RULES, AlertRule, RuleKind
from sms_core.domain.errors import InvalidInput, PermissionDenied
from sms_core.domain.setting_definitions import ALERT_MAIL_TO
from sms_core.domain.statuses import SmsStatus as S
from sms_core.read_models.alerts import incident_history, open_incidents, unit_rules
from sms_core.storage.alert_models import AlertIncident, AlertRuleRow, MailOutbox
from sms_core.storage.models import DispatchState, SmsMessage, StatusEvent, utcnow
from sms_core.use_cases.accounts import load_actor, unit_id_by_code
from sms_core.use_cases.alert_rules import save_alert_rule
from sms_core.use_cases.alerting import Evaluation, evaluate_alerts
from sms_core.use_cases.settings import change_setting

ONLY_SPIKES = {kind: AlertRule(kind, enabled=False) for kind in RuleKind if kind is not RuleKind.FAILED_SHARE}


def add_messages(db, unit_id: int, statuses, minutes_ago: float, *, reported: bool | None = None) -> None:
    """Messages of ``unit_id`` sent ``minutes_ago``, the gateway having accepted each that it was
    handed; ``reported``: each has (or has not) had a delivery report."""
    sent_on = utcnow() - timedelta(minutes=minutes_ago)
    rows = [
        dict(
            text="alert me",
            phone="+4741555123",
            org_unit_id=unit_id,
            sent_on=sent_on,
            status=status,
            segments=1,
            dispatch_state=DispatchState.SETTLED,
            submitted_at=sent_on,
            dlr_token=secrets.token_hex(8),
            updated_at=sent_on,
        )
        for status in statuses
    ]
    with db.session() as session:
        ids = session.scalars(insert(SmsMessage).returning(SmsMessage.id, sort_by_parameter_order=True), rows).all()
        for message_id, status in zip(ids, statuses, strict=True):
            session.add(StatusEvent(message_id=message_id, status=S.ACCEPTED, at=sent_on, source="gateway"))
            if reported or (reported is None and status is not S.ACCEPTED):
                at = sent_on + timedelta(seconds=2)
                session.add(StatusEvent(message_id=message_id, status=status, at=at, source="delivery-report"))


def only(db, admin, unit_id: int, rules: dict) -> None:
    for rule in rules.values():
        save_alert_rule(db, admin, unit_id, rule)


def calm_down(db, gateway_problem: str | None = None):
    """The evaluations it takes to resolve: the rule not holding CALM_EVALUATIONS times in a row."""
    for _ in range(CALM_EVALUATIONS - 1):
        assert evaluate_alerts(db, gateway_problem).resolved == 0
    return evaluate_alerts(db, gateway_problem)


def incidents(db) -> list[AlertIncident]:
    with db.session() as session:
        return list(session.scalars(select(AlertIncident).order_by(AlertIncident.id)))


def mails(db) -> list[MailOutbox]:
    with db.session() as session:
        return list(session.scalars(select(MailOutbox).order_by(MailOutbox.id)))


@pytest.fixture
def demo_rules(demo_base_db) -> set:
    """The demo seed's own rules, read before ``oslo`` puts the issue's defaults back."""
    with demo_base_db.session() as session:
        return {(r.kind, r.minutes, r.percent, r.min_messages) for r in session.scalars(select(AlertRuleRow))}


@pytest.fixture
def oslo(demo_base_db, demo_rules) -> int:
    """Oslo Sentrum, every unit watched by the defaults of issue 16 (the demo seed's own rule gone)."""
    with demo_base_db.session() as session:
        session.execute(delete(AlertRuleRow))
    return unit_id_by_code(demo_base_db, "OSL")


def test_the_demo_watches_failure_spikes_over_10_minutes_and_5_messages(demo_rules):
    assert demo_rules == {("failed_share", 10, 20, 5)}


@pytest.fixture
def admin(demo_base_db):
    return load_actor(demo_base_db, "admin")


def test_a_unit_without_rules_of_its_own_has_the_defaults_and_an_administrator_changes_them(demo_base_db, admin, oslo):
    assert unit_rules(demo_base_db, admin, oslo) == DEFAULT_RULES
    assert DEFAULT_RULES[RuleKind.FAILED_SHARE] == AlertRule(RuleKind.FAILED_SHARE, True, 30, 10, 20)
    assert (DEFAULT_RULES[RuleKind.STUCK].minutes, DEFAULT_RULES[RuleKind.SILENT].minutes) == (15, 15)
    save_alert_rule(demo_base_db, admin, oslo, AlertRule(RuleKind.FAILED_SHARE, True, 10, 25, 5))
    save_alert_rule(demo_base_db, admin, oslo, AlertRule(RuleKind.FAILED_SHARE, True, 10, 30, 5))  # changed again
    rules = unit_rules(demo_base_db, admin, oslo)
    assert rules[RuleKind.FAILED_SHARE] == AlertRule(RuleKind.FAILED_SHARE, True, 10, 30, 5)
    assert rules[RuleKind.STUCK] == DEFAULT_RULES[RuleKind.STUCK]
    bergen = unit_id_by_code(demo_base_db, "BGN")
    assert unit_rules(demo_base_db, admin, bergen) == DEFAULT_RULES  # another unit keeps its own


def test_rules_refuse_values_out_of_range_and_people_without_the_permission(demo_base_db, admin, oslo):
    with pytest.raises(InvalidInput, match="from 1 to 100") as refused:
        save_alert_rule(demo_base_db, admin, oslo, AlertRule(RuleKind.FAILED_SHARE, True, 30, 0, 20))
    assert refused.value.field == "percent"
    with pytest.raises(InvalidInput, match="Minutes"):
        save_alert_rule(demo_base_db, admin, oslo, AlertRule(RuleKind.STUCK, True, 2))
    with pytest.raises(PermissionDenied):
        save_alert_rule(demo_base_db, load_actor(demo_base_db, "lead"), oslo, AlertRule(RuleKind.STUCK, True, 20))
    trondheim = unit_id_by_code(demo_base_db, "TRD")
    with pytest.raises(PermissionDenied):
        unit_rules(demo_base_db, load_actor(demo_base_db, "lead"), trondheim)
    assert unit_rules(demo_base_db, admin, oslo) == DEFAULT_RULES


def test_a_failure_spike_opens_one_incident_updates_it_and_resolves_it_with_one_mail_each(demo_base_db, admin, oslo):
    db = demo_base_db
    only(db, admin, oslo, ONLY_SPIKES)
    change_setting(db, admin, ALERT_MAIL_TO, "oncall@example.org")
    add_messages(db, oslo, [S.RECEIVED] * 16 + [S.SENDING_FAILED] * 4, minutes_ago=5)  # 20 %, 20 messages
    first = evaluate_alerts(db, public_url="https://sms.example.org")
    assert (first.opened, first.resolved) == (1, 0)
    [incident] = incidents(db)
    assert (incident.kind, incident.org_unit_id, incident.messages, incident.affected) == ("failed_share", oslo, 20, 4)
    assert "4 of 20 messages of the last 30 minutes failed (20 %" in incident.summary
    opened = mails(db)
    assert sorted(m.recipient for m in opened) == ["lead@example.org", "oncall@example.org"]  # Oslo's team lead
    assert all(m.subject == "SMS alert: Failure spike in Oslo Sentrum" for m in opened)
    assert "https://sms.example.org/sms-messages?" in opened[0].body and "status=Sending+failed" in opened[0].body

    add_messages(db, oslo, [S.SENDING_FAILED] * 2, minutes_ago=1)  # worse: figures change, still one incident
    assert evaluate_alerts(db).updated == 1
    [incident] = incidents(db)
    assert (incident.affected, incident.peak_affected, incident.resolved_at) == (6, 6, None)
    assert len(mails(db)) == 2  # no mail for an update

    add_messages(db, oslo, [S.RECEIVED] * 60, minutes_ago=1)  # 6 of 82: back under 10 %
    assert calm_down(db).resolved == 1
    [incident] = incidents(db)
    assert incident.resolved_at is not None
    resolved = [m for m in mails(db) if m.subject.startswith("SMS alert resolved")]
    assert sorted(m.recipient for m in resolved) == ["lead@example.org", "oncall@example.org"]
    assert "At its worst: 6 messages." in resolved[0].body
    assert evaluate_alerts(db) == type(first)()  # nothing to do: no new incident, no mail
    assert len(mails(db)) == 4


def test_figures_wavering_under_the_limit_keep_the_incident_open_without_a_new_mail(demo_base_db, admin, oslo):
    db = demo_base_db
    only(db, admin, oslo, ONLY_SPIKES)
    add_messages(db, oslo, [S.RECEIVED] * 17 + [S.SENDING_FAILED] * 3, minutes_ago=5)  # 15 %
    assert evaluate_alerts(db).opened == 1
    add_messages(db, oslo, [S.RECEIVED] * 20, minutes_ago=4)  # 3 of 40: under the limit for a while
    for _ in range(CALM_EVALUATIONS - 1):
        assert evaluate_alerts(db).resolved == 0
    add_messages(db, oslo, [S.SENDING_FAILED] * 3, minutes_ago=3)  # 6 of 43: above it again
    assert evaluate_alerts(db) == Evaluation(updated=1)
    [incident] = incidents(db)
    assert (incident.resolved_at, incident.calm_evaluations, incident.affected) == (None, 0, 6)
    assert len(mails(db)) == 1  # the opening one, to Oslo's team lead


def test_too_few_messages_or_a_share_at_the_limit_is_no_incident(demo_base_db, admin, oslo):
    only(demo_base_db, admin, oslo, ONLY_SPIKES)
    add_messages(demo_base_db, oslo, [S.SENDING_FAILED] * 19, minutes_ago=5)  # all failed, but 19 < 20
    add_messages(demo_base_db, oslo, [S.SENDING_FAILED] * 30, minutes_ago=31)  # before the window
    assert evaluate_alerts(demo_base_db).opened == 0
    add_messages(demo_base_db, oslo, [S.RECEIVED] * 171, minutes_ago=5)  # 19 of 190: exactly 10 %
    assert evaluate_alerts(demo_base_db).opened == 0
    assert incidents(demo_base_db) == []


def test_stuck_messages_silent_and_unreachable_gateway_each_open_their_incident(demo_base_db, admin, oslo):
    db = demo_base_db
    for unit in (unit_id_by_code(db, code) for code in ("OSL", "BGN", "TRD", "SVG", "TOS")):
        save_alert_rule(db, admin, unit, AlertRule(RuleKind.UNREACHABLE, enabled=unit == oslo))
    add_messages(db, oslo, [S.ACCEPTED] * 3, minutes_ago=20)  # no report: stuck after 15 min
    add_messages(db, oslo, [S.ACCEPTED] * 5, minutes_ago=25 * 60)  # a day old: out of the lookback
    add_messages(db, oslo, [S.ACCEPTED] * 2, minutes_ago=10, reported=False)  # accepted, no report since
    evaluate_alerts(db, "Kannel does not answer at http://127.0.0.1:13013 (Connection refused).")
    opened = {(i.kind, i.affected) for i in incidents(db)}
    assert opened == {("stuck", 3), ("silent", 2), ("unreachable", 0)}  # unreachable in Oslo only
    stuck = next(i for i in incidents(db) if i.kind == "stuck")
    assert stuck.summary == "3 messages are still Unknown or Accepted after 15 minutes."

    add_messages(db, oslo, [S.RECEIVED], minutes_ago=5)  # a report arrived: the gateway speaks again
    result = calm_down(db, None)  # and it answers
    assert result.resolved == 2
    assert {i.kind for i in incidents(db) if i.resolved_at is None} == {"stuck"}


def test_the_banner_and_the_alerts_page_see_only_the_users_own_units(demo_base_db, admin, oslo):
    db = demo_base_db
    trondheim = unit_id_by_code(db, "TRD")
    for unit in (oslo, trondheim):
        add_messages(db, unit, [S.ACCEPTED], minutes_ago=20)
    evaluate_alerts(db)
    kari, staff, lead = (load_actor(db, name) for name in ("kari", "staff", "lead"))
    assert {i.unit_name for i in open_incidents(db, kari)} == {"Trondheim Midtbyen"}
    assert {i.unit_name for i in open_incidents(db, staff)} == {"Oslo Sentrum"}
    current, past = incident_history(db, lead)
    assert ([i.unit_name for i in current], past) == (["Oslo Sentrum"], [])
    link = current[0].messages_filter()
    assert (link.org_unit_ids, link.statuses) == ({oslo}, {S.UNKNOWN, S.ACCEPTED, S.RESENT})
    with pytest.raises(PermissionDenied):
        incident_history(db, staff)  # no "view delivery rates"


def test_workers_evaluating_at_once_open_one_incident_and_its_mails_once(demo_base_db, oslo):
    """Four threads, twenty evaluations: on PostgreSQL the advisory lock and the unique index of
    open incidents, on SQLite the write lock, leave one incident with one mail."""
    db = demo_base_db
    add_messages(db, oslo, [S.RECEIVED] * 10 + [S.SENDING_FAILED] * 10, minutes_ago=3)
    start, results = threading.Barrier(4), []

    def evaluate() -> None:
        start.wait()
        for _ in range(5):
            results.append(evaluate_alerts(db))

    threads = [threading.Thread(target=evaluate) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(r.opened for r in results) == 1
    assert [i.kind for i in incidents(db)] == ["failed_share"]
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(MailOutbox)) == 1  # Oslo's team lead, once
