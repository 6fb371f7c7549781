"""The delivery-rates page with AppTest: who may open it, that its figures are the report's, and
that every figure links to the overview with the matching filters."""

from datetime import UTC, date, datetime, timedelta
from urllib.parse import parse_qs

from test_app_shell import menu, open_page, run_as

from pages._shared import plain
from sms_core.domain.delivery_times import describe_seconds
from sms_core.domain.statuses import SmsStatus
from sms_core.read_models.delivery_rates import Period, delivery_report, today_in
from sms_core.read_models.overview import count_messages
from sms_core.read_models.overview_link import read_link
from sms_core.storage.models import SmsMessage
from sms_core.use_cases.accounts import load_actor, units_of


def add_message(db, unit_code: str, status: SmsStatus, days_ago: int = 2, error: str | None = None) -> None:
    """A message of our own on top of the demo history, so a test does not hang on its mix."""
    unit = next(u for u in units_of(db, load_actor(db, "admin")) if u.code == unit_code)
    with db.session() as s:
        s.add(
            SmsMessage(
                text="Hi",
                phone="+4791234567",
                org_unit_id=unit.id,
                status=status,
                sent_on=datetime.now(UTC) - timedelta(days=days_ago),
                gateway_error=error,
            )
        )


def open_rates(username: str = "lead"):
    return open_page(run_as(username), "sms-delivery-rates")


def links(at) -> list[tuple[str, dict[str, list[str]]]]:
    return [(link.proto.label, parse_qs(link.proto.query_string)) for link in at.page_link]


def metric(at, title: str) -> str:
    return next(m.value for m in at.metric if m.label == title)


def test_a_lead_sees_their_units_delivery_rates(app_env):
    at = open_rates()
    assert at.title[0].value == "Delivery rates"
    lead = load_actor(app_env, "lead")
    assert at.multiselect(key="dr_units").options == [u.name for u in units_of(app_env, lead)]
    assert len(at.multiselect(key="dr_units").value) == 3  # all of the lead's units by default
    report = delivery_report(app_env, lead, Period.preset("30 days", today_in("Europe/Oslo")))
    assert metric(at, "Messages sent") == f"{report.current.sent:,}"
    assert metric(at, "Delivered") == f"{report.current.delivered_share:.1%}"
    assert [m.label for m in at.metric] == [
        "Messages sent",
        "SMS segments",
        "Delivered",
        "Failed",
        "Still pending",
        "Not sent",
        "Opt-outs by SMS reply",
        "Median time to delivery",
        "95th percentile",
        "Received",
    ]
    assert any("midnight to midnight, Europe/Oslo time" in c.value for c in at.caption)
    assert not any("UTC" in c.value for c in at.caption)


def test_figures_link_to_the_overview_with_matching_filters(app_env):
    add_message(app_env, "OSL", SmsStatus.SENDING_FAILED)
    at = open_rates()
    today = today_in("Europe/Oslo")
    period = {"from": [(today - timedelta(days=29)).isoformat()], "to": [today.isoformat()]}
    shows = [params for label, params in links(at) if label == "Show messages"]  # under each headline
    assert len(shows) == 6 and all(p["unit"] == ["all"] and {k: p[k] for k in period} == period for p in shows)
    assert shows[2]["status"] == ["Received"] and shows[3]["status"] == ["Rejected", "Sending failed"]
    sending_failed = next(params for label, params in links(at) if label.startswith("Sending failed:"))
    assert sending_failed == {"status": ["Sending failed"], "unit": ["all"], **period}
    tromso = next(u for u in units_of(app_env, load_actor(app_env, "lead")) if u.code == "TOS")
    unit_links = [params for _, params in links(at) if params.get("unit") == [str(tromso.id)]]
    assert {tuple(p["status"]) for p in unit_links} >= {("Received",), ("Rejected", "Sending failed")}


def test_stuck_messages_are_counted_and_linked(app_env):
    add_message(app_env, "BGN", SmsStatus.ACCEPTED)
    at = open_rates()
    report = delivery_report(app_env, load_actor(app_env, "lead"), Period.preset("30 days", today_in("Europe/Oslo")))
    assert report.stuck_total >= 1
    assert f"{report.stuck_total:,} messages are stuck" in at.warning[0].value
    stuck = dict(links(at))["Review them in SMS messages"]
    assert stuck["status"] == ["Accepted", "Timeout during status check"] and stuck["unit"] == ["all"]


def test_changing_the_period_and_units_changes_figures_and_links(app_env):
    at = open_rates()
    at.segmented_control(key="dr_period").set_value("7 days").run()
    lead = load_actor(app_env, "lead")
    week = delivery_report(app_env, lead, Period.preset("7 days", today_in("Europe/Oslo")))
    assert metric(at, "Messages sent") == f"{week.current.sent:,}"
    oslo = next(u for u in units_of(app_env, lead) if u.code == "OSL")
    at.multiselect(key="dr_units").set_value([oslo.id]).run()
    assert not at.exception
    oslo_week = delivery_report(app_env, lead, Period.preset("7 days", today_in("Europe/Oslo")), [oslo.id])
    assert metric(at, "Messages sent") == f"{oslo_week.current.sent:,}"
    assert all(params["unit"] == [str(oslo.id)] for _, params in links(at))
    assert all(params["from"] == [(today_in("Europe/Oslo") - timedelta(days=6)).isoformat()] for _, params in links(at))


def test_a_custom_period(app_env):
    at = open_rates()
    at.segmented_control(key="dr_period").set_value("Custom").run()
    at.date_input(key="dr_custom").set_value((date(2020, 1, 1), date(2020, 1, 31))).run()
    assert not at.exception
    assert metric(at, "Messages sent") == "0" and metric(at, "Delivered") == "–"
    assert any("01 Jan 2020 – 31 Jan 2020" in c.value for c in at.caption)


def test_the_page_is_refused_to_users_without_the_permission(app_env):
    at = run_as("staff")
    assert "Delivery rates" not in menu(at)
    open_page(at, "sms-delivery-rates")
    assert "do not have permission to view delivery rates" in at.error[0].value
    assert not at.metric


def test_time_to_delivery_is_shown_against_the_period_before(app_env):
    at = open_rates()
    lead = load_actor(app_env, "lead")
    times = delivery_report(app_env, lead, Period.preset("30 days", today_in("Europe/Oslo"))).times
    assert times.current.received and times.previous.received  # the demo history has report times
    assert metric(at, "Median time to delivery") == describe_seconds(times.current.median)
    assert metric(at, "95th percentile") == describe_seconds(times.current.p95)
    assert metric(at, "Received") == f"{times.current.received:,}"
    for title, now, before in (
        ("Median time to delivery", times.current.median, times.previous.median),
        ("95th percentile", times.current.p95, times.previous.p95),
    ):  # compared with the period before: a faster one falls, drawn in the "better" colour (inverse)
        shown = next(m for m in at.metric if m.label == title)
        assert shown.delta == f"{'-' if now < before else '+'}{describe_seconds(abs(now - before))}", title
    assert any("Read from buckets" in c.value for c in at.caption)
    table = next(df.value for df in at.dataframe if "Median" in df.value.columns)
    assert list(table.columns) == ["Org. unit", "Received", "Median", "95th percentile"]
    assert table["Received"].sum() == times.current.received


def test_a_period_without_received_messages_says_so(app_env):
    at = open_rates()
    at.segmented_control(key="dr_period").set_value("Custom").run()
    at.date_input(key="dr_custom").set_value((date(2020, 1, 1), date(2020, 1, 7))).run()
    assert any("No message of this period has been received yet." in c.value for c in at.caption)


def test_delivery_rates_by_sender_link_to_that_senders_messages(app_env):
    lead = load_actor(app_env, "lead")
    at = open_rates()
    assert {"By sender", "By standard text"} <= {h.value for h in at.subheader}
    report = delivery_report(app_env, lead, Period.preset("30 days", today_in("Europe/Oslo")))
    top = report.breakdowns.senders[0]
    assert top.key is not None  # the demo's messages are sent by its users
    sent = [params for label, params in links(at) if params.get("sent_by") == [str(top.key)]]
    assert len(sent) == 3  # Sent, Delivered, Failed
    by_label = {tuple(p["status"]): p for p in sent}
    assert ("Received",) in by_label and ("Rejected", "Sending failed") in by_label
    assert f"{top.figures.sent:,}" in [label for label, params in links(at) if params in sent]
    assert report.breakdowns.standard_texts[0].name == "Typed, no standard text"


def test_each_top_reason_links_to_the_messages_of_its_status_and_gateway_error(app_env):
    """A lead clicking "25 · Sending failed: Absent subscriber" must land on those 25 messages,
    not on every failed one; a pre-send refusal has no error, and its status alone finds it."""
    error = "Absent *subscriber* & co, www.example.com"  # the gateway's words, shown as written
    for unit in ("OSL", "BGN") * 12 + ("TOS",):
        add_message(app_env, unit, SmsStatus.SENDING_FAILED, error=error)
    for _ in range(25):
        add_message(app_env, "OSL", SmsStatus.CONSENT_NOT_REGISTERED)
    at = open_rates()
    reasons = {label: params for label, params in links(at) if " · " in label}
    [absent] = [params for label, params in reasons.items() if label == f"**25** · {plain('Sending failed: ' + error)}"]
    today = today_in("Europe/Oslo")
    period = {"from": [(today - timedelta(days=29)).isoformat()], "to": [today.isoformat()]}
    assert absent == {"status": ["Sending failed"], "error": [error], "unit": ["all"], **period}
    lead = load_actor(app_env, "lead")
    assert count_messages(app_env, lead, read_link(absent, lead, "Europe/Oslo").filter).value == 25
    consent = next(params for label, params in reasons.items() if label.endswith("· Consent is not registered"))
    assert consent == {"status": ["Consent is not registered"], "unit": ["all"], **period}
