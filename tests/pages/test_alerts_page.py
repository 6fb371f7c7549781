"""Alerts with AppTest: the banner on the overview and Delivery rates for users of the unit, the
Alerts page's open and past incidents, and the rule editor for administrators."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qs

from test_app_shell import menu, open_page, run_as

from sms_core.domain.alert_rules import CALM_EVALUATIONS, AlertRule, RuleKind
from sms_core.domain.statuses import SmsStatus
from sms_core.read_models.alerts import unit_rules
from sms_core.storage.models import SmsMessage, utcnow
from sms_core.use_cases.accounts import load_actor, unit_id_by_code
from sms_core.use_cases.alerting import evaluate_alerts

STUCK_LINE = "Stuck messages in Oslo Sentrum"


def stuck_in_oslo(db) -> int:
    """An Oslo message still Accepted after 20 minutes, and the evaluation that notices it."""
    oslo = unit_id_by_code(db, "OSL")
    with db.session() as s:
        s.add(
            SmsMessage(
                text="Hi",
                phone="+4791234567",
                org_unit_id=oslo,
                status=SmsStatus.ACCEPTED,
                sent_on=utcnow() - timedelta(minutes=20),
            )
        )
    assert evaluate_alerts(db).opened >= 1
    return oslo


def banner(at) -> list[str]:
    return [e.value for e in at.error if "since" in e.value]


def test_the_banner_shows_an_open_incident_to_users_of_its_unit_with_a_link_to_its_messages(app_env):
    oslo = stuck_in_oslo(app_env)
    at = run_as("staff")  # Oslo is staff's unit: the overview shows the banner
    assert any(STUCK_LINE in line for line in banner(at))
    assert not any(p.proto.label == "All alerts" for p in at.page_link)  # staff cannot open the Alerts page
    at.session_state["status"] = ["Received"]  # a filter of the user's own, replaced by the banner's
    at.run()
    next(b for b in at.button if b.label == "Show these messages").click().run()  # on the overview: its filters
    assert not at.exception
    assert at.multiselect(key="status").value == ["Unknown", "Accepted", "Resent"]
    assert at.selectbox(key="ov_unit").value == str(oslo)
    assert at.query_params["status"] == ["Unknown", "Accepted", "Resent"]  # and the URL says so
    assert banner(run_as("kari")) == []  # Trondheim only: not her unit

    rates = open_page(run_as("lead"), "sms-delivery-rates")
    assert any(STUCK_LINE in line for line in banner(rates))
    link = next(p for p in rates.page_link if p.proto.label == "Show these messages")  # elsewhere: a link
    params = parse_qs(link.proto.query_string)
    assert params["unit"] == [str(oslo)] and set(params["status"]) == {"Unknown", "Accepted", "Resent"}
    assert any(p.proto.label == "All alerts" for p in rates.page_link)


def test_the_alerts_page_lists_open_and_past_incidents_for_leads(app_env):
    assert "Alerts" not in menu(run_as("staff"))
    at = open_page(run_as("lead"), "sms-alerts")
    assert at.title[0].value == "Alerts"
    assert [s.value for s in at.success] == ["No open alerts in your org. units."]
    stuck_in_oslo(app_env)
    at.run()
    assert any(STUCK_LINE in e.value for e in at.error)
    assert any("1 messages are still Unknown or Accepted after 15 minutes." in e.value for e in at.error)
    with app_env.session() as s:
        for message in s.query(SmsMessage).filter(SmsMessage.status == SmsStatus.ACCEPTED):
            message.status = SmsStatus.RECEIVED
    assert sum(evaluate_alerts(app_env).resolved for _ in range(CALM_EVALUATIONS)) >= 1
    at.run()
    past = at.dataframe[0].value
    assert list(past["Alert"]) == ["Stuck messages"] and list(past["Org. unit"]) == ["Oslo Sentrum"]
    assert "Edit rules" not in [h.value for h in at.subheader]  # a lead does not edit the rules


def test_an_administrator_edits_a_units_rules_and_the_form_shows_what_was_saved(app_env):
    at = open_page(run_as("admin"), "sms-alerts")
    oslo = unit_id_by_code(app_env, "OSL")
    at.selectbox(key="alert_rules_unit").select(oslo).run()
    at.number_input(key=f"alert_rule_{oslo}_failed_share_percent").set_value(25)
    at.number_input(key=f"alert_rule_{oslo}_failed_share_min_messages").set_value(5)
    at.toggle(key=f"alert_rule_{oslo}_silent_enabled").set_value(False)
    next(b for b in at.button if b.label == "Save rules").click().run()
    assert not at.exception
    assert any("Saved the alert rules of Oslo Sentrum" in s.value for s in at.success)
    rules = unit_rules(app_env, load_actor(app_env, "admin"), oslo)
    assert rules[RuleKind.FAILED_SHARE] == AlertRule(RuleKind.FAILED_SHARE, True, 10, 25, 5)  # the demo: 10 min
    assert rules[RuleKind.SILENT].enabled is False
    assert at.number_input(key=f"alert_rule_{oslo}_failed_share_percent").value == 25


def test_an_administrator_sees_alert_mails_waiting_for_the_mail_server(app_env):
    at = open_page(run_as("admin"), "sms-alerts")
    assert "Every alert mail has been sent." in [c.value for c in at.caption]
    stuck_in_oslo(app_env)  # a mail to Oslo's team lead, and no SMTP_HOST in these tests
    at.run()
    assert [w.value for w in at.warning] == ["1 alert mail waits in the outbox."]
