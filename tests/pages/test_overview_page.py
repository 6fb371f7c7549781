"""The SMS messages overview with AppTest, as a user meets it: default and URL filters, filters that
narrow the table, selecting a row, Resend SMS, the export, a contact context, live updates, and the
refusals.  The page runs through app.py, so the menu and permissions are the real ones.
"""

import csv
import importlib.util
import io
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import event, select
from streamlit.testing.v1 import AppTest
from test_app_shell import APP, open_page

from pages._overview_table import counts
from pages._shared import runtime
from sms_core.domain.statuses import SmsStatus as S
from sms_core.gateways.simulated import OutcomeMix, SimulatedGateway
from sms_core.read_models.overview import (
    EXPORT_COLUMNS,
    OverviewFilter,
    Sort,
    count_messages,
    export_csv,
    list_messages,
)
from sms_core.storage.models import Contact, RolePermission, SmsMessage, StandardText
from sms_core.use_cases.accounts import load_actor, unit_id_by_code
from sms_core.use_cases.sending import send_sms

COLUMNS = ["Text", "Phone", "Sent on", "SMS status", "Org. unit", "Resent"]


def overview(username: str = "staff", **params) -> AppTest:
    """The overview as ``username`` opens it, with ``params`` as the link's query parameters."""
    at = AppTest.from_file(APP, default_timeout=30)
    at.session_state["demo_user"] = username
    for name, value in params.items():
        at.query_params[name] = value
    at.run()
    assert not at.exception, at.exception
    return at


def rerun(at: AppTest) -> AppTest:
    at.run()
    assert not at.exception, at.exception
    return at


def table(at: AppTest):
    return at.dataframe[0].value


def select_row(at: AppTest, position: int) -> AppTest:
    """Tick a row of the table, as the user would."""
    at.session_state[at.dataframe[0].key] = {"selection": {"rows": [position], "columns": [], "cells": []}}
    return rerun(at)


def add_message(db, text: str, status: S, unit: str = "OSL", minutes_ago: float = 1, **fields) -> int:
    """A message newer than the demo history, so it is on top of the table."""
    with db.session() as s:
        message = SmsMessage(
            text=text,
            phone="+4791234567",
            org_unit_id=unit_id_by_code(db, unit),
            status=status,
            sent_on=datetime.now(UTC) - timedelta(minutes=minutes_ago),
            **fields,
        )
        s.add(message)
        s.flush()
        return message.id


def accepting() -> SimulatedGateway:
    return SimulatedGateway(OutcomeMix(0, 0, 0, 0), latency=0)


def warnings(at: AppTest) -> str:
    return " ".join(w.value for w in at.warning)


def test_opens_on_the_current_unit_newest_first(app_env):
    at = overview()
    staff = load_actor(app_env, "staff")
    assert at.title[0].value == "SMS messages"
    assert at.selectbox(key="ov_unit").value == str(staff.current_org_unit_id)
    assert at.selectbox(key="ov_unit").options == ["All my units", "Bergen Bryggen", "Oslo Sentrum"]
    frame = table(at)
    assert list(frame.columns) == COLUMNS
    f = OverviewFilter(org_unit_ids={staff.current_org_unit_id})
    expected = list_messages(app_env, staff, f)
    assert list(frame["Text"]) == [r.text for r in expected] and set(frame["Org. unit"]) == {"Oslo Sentrum"}
    assert list(frame["Phone"]) == [r.phone_display for r in expected]
    assert caption_after_counting(at, app_env, staff) == f"{count_messages(app_env, staff, f).label} messages match."


def caption_after_counting(at: AppTest, db, actor) -> str:
    """The count's caption once the count has arrived: at once when it came within the page's
    budget; else "at least …, still counting" first and the exact figure on the table's next tick."""
    [caption] = [c.value for c in at.caption if "match" in c.value]
    if caption.startswith("at least"):
        assert caption.endswith(" messages match – still counting the rest."), caption
        shown_filter = at.session_state["overview"].shown.query[0]  # the page's own, time zone and all
        assert counts().wait(db, actor, shown_filter) is not None
        [caption] = [c.value for c in rerun(at).caption if "match" in c.value]
    return caption


def test_filters_narrow_the_rows(app_env):
    at = overview()
    at.text_input(key="text").input("PRESCRIPTION")
    frame = table(rerun(at))
    assert len(frame) and all("prescription" in t.lower() for t in frame["Text"])
    at.selectbox(key="ov_unit").set_value("all")
    at.multiselect(key="status").set_value(["Received"])
    frame = table(rerun(at))
    assert set(frame["SMS status"]) == {"Received"} and set(frame["Org. unit"]) == {"Oslo Sentrum", "Bergen Bryggen"}
    staff = load_actor(app_env, "staff")
    expected = count_messages(app_env, staff, OverviewFilter(text="prescription", statuses={S.RECEIVED}))
    assert any(c.value.startswith(f"{expected.label} message") for c in at.caption)
    at.selectbox(key="ov_resent").set_value("yes")
    assert set(table(rerun(at))["Resent"]) <= {"✓"}


def test_the_url_restores_the_filters(app_env):
    add_message(app_env, "Failed in Bergen", S.SENDING_FAILED, unit="BGN", resent=False)
    add_message(app_env, "Rejected in Bergen", S.REJECTED, unit="BGN", minutes_ago=2, resent=False)
    today = datetime.now(UTC).date()
    at = overview(
        status=["Sending failed", "Rejected"],
        unit="all",
        resent="no",
        sort="status_asc",
        text="bergen",
        **{"from": (today - timedelta(days=30)).isoformat(), "to": today.isoformat()},
    )
    assert at.multiselect(key="status").value == ["Sending failed", "Rejected"]
    assert at.selectbox(key="ov_unit").value == "all" and at.selectbox(key="ov_resent").value == "no"
    assert at.selectbox(key="ov_sort").value == Sort.STATUS_ASC
    assert at.text_input(key="text").value == "bergen"
    assert at.date_input(key="from").value == today - timedelta(days=30) and at.date_input(key="to").value == today
    frame = table(at)
    assert frame[frame["SMS status"] == "Sending failed"]["Text"].iloc[0] == "Failed in Bergen"  # newest first
    assert set(frame["SMS status"]) == {"Rejected", "Sending failed"} and set(frame["Resent"]) == {""}
    assert list(frame["SMS status"]) == sorted(frame["SMS status"], key=lambda label: S.from_label(label))
    assert not at.warning


def test_a_link_to_several_units_shows_them_together(app_env):
    lead = load_actor(app_env, "lead")
    osl, bgn = unit_id_by_code(app_env, "OSL"), unit_id_by_code(app_env, "BGN")
    at = overview("lead", unit=[str(bgn), str(osl)])
    unit = at.selectbox(key="ov_unit")
    assert unit.value == f"{min(osl, bgn)},{max(osl, bgn)}" and "Oslo Sentrum + Bergen Bryggen" in unit.options
    assert set(table(at)["Org. unit"]) <= {"Oslo Sentrum", "Bergen Bryggen"}
    assert count_messages(app_env, lead, OverviewFilter(org_unit_ids={osl, bgn})).value > 0


def test_bad_url_parameters_are_ignored_with_a_warning(app_env):
    at = overview(
        status=["Nonsense", "Received"],
        unit="abc",
        resent="maybe",
        sort="sideways",
        contact="-1",
        **{"from": "notadate"},
    )
    text = warnings(at)
    for bad in ("Nonsense", "abc", "maybe", "sideways", "-1", "notadate"):
        assert f"“{bad}”" in text
    staff = load_actor(app_env, "staff")
    assert at.selectbox(key="ov_unit").value == str(staff.current_org_unit_id)
    assert at.multiselect(key="status").value == ["Received"]
    assert set(table(at)["SMS status"]) <= {"Received"}
    assert at.button(key="ov_send").disabled  # the link asked for a contact, and it is not valid


def test_a_url_cannot_open_another_units_messages(app_env):
    """kari (Trondheim only) following a link to Oslo's messages sees only her own unit's."""
    add_message(app_env, "Oslo secret", S.SENDING_FAILED, unit="OSL")
    at = overview("kari", unit=str(unit_id_by_code(app_env, "OSL")), text="Oslo secret")
    assert "not one of your org. units" in warnings(at)
    assert set(table(at)["Org. unit"]) <= {"Trondheim Midtbyen"} and "Oslo secret" not in list(table(at)["Text"])


def test_resend_is_enabled_only_for_resendable_statuses(app_env):
    add_message(app_env, "Failed one", S.SENDING_FAILED, minutes_ago=2)
    add_message(app_env, "Received one", S.RECEIVED, minutes_ago=1)
    at = overview()
    assert at.button(key="ov_resend").disabled and "Select an SMS" in at.button(key="ov_resend").help
    select_row(at, 0)
    resend = at.button(key="ov_resend")
    assert resend.disabled and "this one is Received" in resend.help
    assert any("delivered and confirmed received" in m.value for m in at.markdown)
    select_row(at, 1)
    assert not at.button(key="ov_resend").disabled
    assert any("Resend the SMS. If it fails again, contact support." in m.value for m in at.markdown)


def test_resend_adds_the_resent_row_by_itself(app_env, monkeypatch):
    monkeypatch.setattr(runtime(), "gateway", accepting())
    failed = add_message(app_env, "Please call us", S.SENDING_FAILED)
    at = select_row(overview(), 0)
    at.button(key="ov_resend").click()
    rerun(at)
    assert any("accepted by the SMS gateway" in t.value for t in at.success)
    frame = table(at)
    assert (frame["Text"].iloc[0], frame["SMS status"].iloc[0], frame["Resent"].iloc[0]) == (
        "Please call us",
        "Resent",
        "✓",
    )
    assert frame["Text"].iloc[1] == "Please call us" and frame["Resent"].iloc[1] == ""
    assert any(s.value.startswith(f"SMS #{failed} ") for s in at.subheader)  # the original stays selected
    resend = at.button(key="ov_resend")
    assert resend.disabled and "already been resent" in resend.help
    at.button(key="ov_show_resend").click()
    rerun(at)
    assert any(s.value.startswith(f"SMS #{failed + 1} ") for s in at.subheader)
    assert "this one is Resent" in at.button(key="ov_resend").help  # waiting for its delivery report
    assert at.button(key="ov_show_original").label == f"Show the original SMS (#{failed})"


def test_details_show_the_status_history(app_env, monkeypatch):
    monkeypatch.setattr(runtime(), "gateway", accepting())
    staff = load_actor(app_env, "staff")
    sent = send_sms(
        app_env, staff, text="Hei *Kari*, [timen] er i morgen", phone="+47 415 55 123", gateway=runtime().gateway
    )
    at = select_row(overview(), 0)
    assert any(m.value == "Hei \\*Kari\\*, \\[timen\\] er i morgen" for m in at.markdown)  # shown as typed
    history = at.dataframe[1].value
    assert list(history["SMS status"]) == ["Unknown", "Accepted"] and sent.message.status is S.ACCEPTED


def test_export_holds_every_matching_row(app_env, exported_csv):
    rows = exported_csv(overview(unit="all", status="Received"))
    staff = load_actor(app_env, "staff")
    f = OverviewFilter(statuses={S.RECEIVED})
    expected = list(csv.reader(io.StringIO("".join(export_csv(app_env, staff, f)))))
    assert rows[0] == list(EXPORT_COLUMNS) and rows == expected
    assert len(rows) - 1 == count_messages(app_env, staff, f).value > 50  # more than one page


def test_export_says_when_its_file_is_ready(app_env, exported_csv):
    at = overview(unit="all", status="Received")
    rows = exported_csv(at)  # the click, then the link followed through the app's route
    at = rerun(at)  # the table's next tick
    assert any(c.value.startswith(f"The CSV of {len(rows) - 1:,} messages is downloaded") for c in at.caption)


def test_pages_are_read_from_the_database(app_env):
    at = overview(unit="all")
    at.pagination(key="ov_page").set_value(2)
    frame = table(rerun(at))
    second = list_messages(app_env, load_actor(app_env, "staff"), OverviewFilter(), page=2)
    assert list(frame["Text"]) == [r.text for r in second]


def test_the_page_of_the_table_is_part_of_the_link(app_env):
    staff = load_actor(app_env, "staff")
    at = overview(unit="all")
    at.pagination(key="ov_page").set_value(2)
    assert rerun(at).query_params["page"] == "2"  # paging keeps the address shareable
    at = overview(unit="all", page="2")
    second = list_messages(app_env, staff, OverviewFilter(), page=2)
    assert list(table(at)["Text"]) == [r.text for r in second] and at.pagination(key="ov_page").value == 2
    at.text_input(key="text").input("prescription")
    assert "page" not in rerun(at).query_params and "text" in at.query_params  # a new filter: its first page
    last = count_messages(app_env, staff, OverviewFilter()).pages()
    at = overview(unit="all", page="9999")  # beyond the last page: the last one
    assert at.pagination(key="ov_page").value == last and at.query_params["page"] == str(last)


def test_a_link_whose_last_day_is_before_its_first_filters_no_days(app_env):
    at = overview(**{"from": "2026-05-01", "to": "2026-01-01"})
    assert r"the last day \(2026-01-01\) is before the first day \(2026-05-01\)" in warnings(at)  # as Markdown
    assert (at.date_input(key="from").value, at.date_input(key="to").value) == (None, None) and len(table(at))


def test_an_idle_page_does_not_query_the_table_but_shows_changes(app_env, monkeypatch):
    monkeypatch.setattr(runtime(), "gateway", accepting())
    at = overview()
    staff = load_actor(app_env, "staff")
    caption_after_counting(at, app_env, staff)  # the count has arrived too: all is shown
    statements: list[str] = []
    event.listen(app_env.engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
    rerun(at)
    assert not [s for s in statements if "FROM sms_messages" in s], statements
    send_sms(app_env, staff, text="Just sent", phone="+47 415 55 123", gateway=accepting())
    assert table(rerun(at))["Text"].iloc[0] == "Just sent"


def test_a_contact_context_lists_that_contacts_messages(app_env):
    with app_env.session() as s:
        message = s.query(SmsMessage).filter(SmsMessage.contact_id.is_not(None)).first()
        contact = s.get(Contact, message.contact_id)
    at = overview(contact=str(contact.id), unit="all")
    assert any(contact.name in h.value for h in at.subheader)
    staff = load_actor(app_env, "staff")
    expected = list_messages(app_env, staff, OverviewFilter(contact_id=contact.id))
    assert list(table(at)["Text"]) == [r.text for r in expected]
    assert not at.button(key="ov_send").disabled


def test_a_contact_context_without_a_contact_disables_send(app_env):
    at = overview(contact="")
    send = at.button(key="ov_send")
    assert send.disabled and "no valid contact is selected" in send.help
    at = overview(contact="999999")
    assert "That contact does not exist." in warnings(at) and at.button(key="ov_send").disabled


def test_a_user_without_view_permission_gets_a_refusal(app_env):
    with app_env.session() as s:
        s.query(RolePermission).filter_by(role="staff", permission="view_sms").delete()
    at = open_page(overview(), "sms-messages")
    assert "do not have permission to view SMS messages" in at.error[0].value
    assert not at.dataframe


@pytest.mark.skipif(
    importlib.util.find_spec("pages.send_dialog") is None, reason="the Send SMS dialog is not there yet"
)
def test_send_sms_opens_the_dialog(app_env):
    at = overview()
    at.button(key="ov_send").click()
    rerun(at)
    assert at.checkbox(key="send_sms_keep_open").label == "Keep window open"


def test_filters_survive_a_visit_to_another_page(app_env):
    at = overview()
    at.text_input(key="text").input("prescription")
    at.selectbox(key="ov_unit").set_value("all")
    at.multiselect(key="status").set_value(["Received"])
    rows = list(table(rerun(at))["Text"])
    at.switch_page("pages/contacts.py")
    at.query_params.clear()  # as in a browser: another page's URL has none of the overview's parameters
    assert rerun(at).title[0].value == "Contacts"
    at.switch_page("pages/overview.py")  # back by the menu
    rerun(at)
    assert (at.text_input(key="text").value, at.selectbox(key="ov_unit").value) == ("prescription", "all")
    assert at.multiselect(key="status").value == ["Received"] and list(table(at)["Text"]) == rows


def test_a_link_from_another_page_replaces_the_filters(app_env):
    """The delivery-rates page links to "these statuses in these units": an old text filter must not linger."""
    at = overview()
    at.text_input(key="text").input("prescription")
    at.selectbox(key="ov_resent").set_value("no")
    rerun(at)
    at.switch_page("pages/contacts.py")
    rerun(at)
    at.query_params.clear()
    at.query_params.update({"status": ["Sending failed"], "unit": ["all"]})
    at.switch_page("pages/overview.py")
    rerun(at)
    assert at.text_input(key="text").value == "" and at.selectbox(key="ov_resent").value == "all"
    assert at.multiselect(key="status").value == ["Sending failed"] and at.selectbox(key="ov_unit").value == "all"
    assert set(table(at)["SMS status"]) == {"Sending failed"}


def test_sent_by_is_a_filter_kept_in_the_url(app_env):
    staff, lead = load_actor(app_env, "staff"), load_actor(app_env, "lead")
    add_message(app_env, "Sent by the lead", S.RECEIVED, sent_by_user_id=lead.id)
    add_message(app_env, "Sent by staff", S.RECEIVED, minutes_ago=0.5, sent_by_user_id=staff.id)
    at = overview(sent_by=str(lead.id))
    sent_by = at.selectbox(key="sent_by")
    assert sent_by.value == lead.id and sent_by.format_func(lead.id) == "Liv Lead"
    assert "Sent by the lead" in set(table(at)["Text"]) and "Sent by staff" not in set(table(at)["Text"])
    sent_by.set_value(staff.id)
    rerun(at)
    assert at.query_params["sent_by"] == str(staff.id)  # the address bar says whose messages these are
    assert table(at)["Text"].iloc[0] == "Sent by staff" and "Sent by the lead" not in set(table(at)["Text"])
    at.selectbox(key="sent_by").set_value(None)
    assert "sent_by" not in rerun(at).query_params  # Anyone: nothing to keep
    assert at.selectbox(key="sent_by").proto.placeholder == "Anyone"  # what the empty box reads
    assert {"Sent by staff", "Sent by the lead"} <= set(table(at)["Text"])


def test_a_standard_text_in_the_link_lists_the_messages_made_from_it(app_env):
    with app_env.session() as s:
        chosen = s.scalar(select(StandardText).where(StandardText.title == "Call us back"))
    add_message(app_env, "Made from it", S.RECEIVED, standard_text_id=chosen.id)
    add_message(app_env, "Typed", S.RECEIVED, minutes_ago=0.5)
    at = overview(standard_text=str(chosen.id))
    assert at.selectbox(key="standard_text").format_func(chosen.id) == "Call us back"
    made_from = list(table(at)["Text"])  # ours on top, then the demo's messages made from it
    assert made_from[0] == "Made from it" and set(made_from[1:]) <= {chosen.body} and "Typed" not in made_from
    at.selectbox(key="standard_text").set_value(None)
    assert "standard_text" not in rerun(at).query_params and table(at)["Text"].iloc[0] == "Typed"


def test_a_link_naming_someone_else_still_filters_by_them(app_env):
    at = overview(sent_by="999")
    assert at.selectbox(key="sent_by").format_func(999) == "User #999"
    assert table(at).empty and not at.warning
