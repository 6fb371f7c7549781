"""SMS settings: the org-unit sender service and the gateway status on both databases, and the
settings page with AppTest (who may open it, the on/off switch, senders validated as typed)."""

from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from test_app_shell import open_page, run_as

from sms_core.demo.seed import seed_demo
from sms_core.domain.errors import InvalidInput, PermissionDenied, SmsError
from sms_core.domain.statuses import SmsStatus
from sms_core.storage.models import OrgUnit, SettingChange, SmsMessage, StatusEvent, User, UserOrgUnit
from sms_core.use_cases.accounts import load_actor
from sms_core.use_cases.org_units import list_unit_senders, update_unit_sender
from sms_core.use_cases.sending import send_sms
from sms_core.use_cases.settings import (
    SENDING_ENABLED,
    change_setting,
    gateway_status,
    get_settings,
    recent_setting_changes,
    setting_states,
)


def unit_ids(db) -> dict[str, int]:
    with db.session() as s:
        return {code: uid for uid, code in s.execute(select(OrgUnit.id, OrgUnit.code))}


@pytest.fixture
def base_db(db):
    """The demo org units and users, without messages."""
    seed_demo(db, messages=0)
    return db


# --- org units' SMS senders (sms_core.use_cases.org_units) ---------------------------------------------


def test_units_that_cannot_send_are_listed_first(base_db):
    units = list_unit_senders(base_db, load_actor(base_db, "admin"))
    assert [u.code for u in units][0] == "TOS"  # "Tromsø Helse Nord" is too long a sender
    assert units[0].problem and all(u.problem is None for u in units[1:])
    assert [u.name for u in units[1:]] == sorted(u.name for u in units[1:])


def test_a_valid_sender_is_saved_in_its_stored_form(base_db):
    admin, tos = load_actor(base_db, "admin"), unit_ids(base_db)["TOS"]
    saved = update_unit_sender(base_db, admin, tos, " Mari Olsen ", "+47 915 00 200")
    assert (saved.representative_name, saved.sms_sender, saved.problem) == ("Mari Olsen", "+4791500200", None)
    assert [u.code for u in list_unit_senders(base_db, admin)][0] != "TOS"


@pytest.mark.parametrize(
    ("representative", "sender", "field", "sentence"),
    [
        ("Mari Olsen", "Tromsø Helse Nord", "sms_sender", "at most 11 characters"),
        ("Mari Olsen", "", "sms_sender", "no SMS sender"),
        ("", "TromsoHelse", "representative_name", "no representative"),
        ("Mari Olsen", "+47 12", "sms_sender", "not a valid phone number"),
    ],
)
def test_an_invalid_configuration_is_refused_with_the_field_to_fix(base_db, representative, sender, field, sentence):
    admin, tos = load_actor(base_db, "admin"), unit_ids(base_db)["TOS"]
    with pytest.raises(InvalidInput, match=sentence) as refused:
        update_unit_sender(base_db, admin, tos, representative, sender)
    assert refused.value.field == field
    with base_db.session() as s:
        assert s.get(OrgUnit, tos).sms_sender == "Tromsø Helse Nord"


def test_only_administrators_of_the_unit_change_senders(base_db):
    ids = unit_ids(base_db)
    with pytest.raises(PermissionDenied, match="manage SMS settings"):
        update_unit_sender(base_db, load_actor(base_db, "lead"), ids["OSL"], "Ingrid Berg", "OsloHelse")
    with pytest.raises(PermissionDenied, match="manage SMS settings"):
        list_unit_senders(base_db, load_actor(base_db, "lead"))
    with base_db.session() as s:  # an administrator of Oslo only
        user = User(username="osladmin", display_name="Oslo Admin", role="administrator")
        s.add(user)
        s.flush()
        s.add(UserOrgUnit(user_id=user.id, org_unit_id=ids["OSL"]))
    osl_admin = load_actor(base_db, "osladmin")
    assert [u.code for u in list_unit_senders(base_db, osl_admin)] == ["OSL"]
    with pytest.raises(PermissionDenied, match="not associated"):
        update_unit_sender(base_db, osl_admin, ids["TOS"], "Mari Olsen", "TromsoHelse")


# --- settings and the gateway status (sms_core.use_cases.settings) -------------------------------------


def test_setting_states_say_who_changed_them(base_db):
    admin = load_actor(base_db, "admin")
    assert all(state.updated_by is None for state in setting_states(base_db, admin))
    change_setting(base_db, admin, SENDING_ENABLED, False)
    sending = next(s for s in setting_states(base_db, admin) if s.key == SENDING_ENABLED)
    assert (sending.value, sending.updated_by, sending.label) == (False, "Ada Administrator", "SMS sending")
    latest = recent_setting_changes(base_db, admin)[0]
    assert (latest.key, latest.old_value, latest.new_value, latest.changed_by) == (
        SENDING_ENABLED,
        True,
        False,
        "Ada Administrator",
    )
    with pytest.raises(PermissionDenied):
        setting_states(base_db, load_actor(base_db, "lead"))


class FakeGateway:
    name = "fake"

    def __init__(self, problem=None):
        self._problem = problem

    def problem(self):
        return self._problem


def _add_message(db, unit_id: int, status: SmsStatus, report_at: datetime | None = None) -> None:
    with db.session() as s:
        message = SmsMessage(text="Hi", phone="+4791234567", org_unit_id=unit_id, status=status)
        s.add(message)
        s.flush()
        if report_at:
            s.add(StatusEvent(message_id=message.id, status=status, at=report_at, source="delivery-report"))


def test_gateway_status_counts_waiting_messages_and_the_last_report(base_db):
    ids = unit_ids(base_db)
    early, late = datetime(2024, 3, 1, 8, tzinfo=UTC), datetime(2024, 3, 2, 9, 30, tzinfo=UTC)
    _add_message(base_db, ids["OSL"], SmsStatus.RECEIVED, report_at=late)
    _add_message(base_db, ids["BGN"], SmsStatus.SENDING_FAILED, report_at=early)
    for status in (SmsStatus.UNKNOWN, SmsStatus.ACCEPTED, SmsStatus.RESENT, SmsStatus.STATUS_CHECK_TIMEOUT):
        _add_message(base_db, ids["OSL"], status)
    status = gateway_status(base_db, load_actor(base_db, "admin"), build=lambda: FakeGateway())
    assert (status.name, status.problem, status.waiting_for_final_status) == ("fake", None, 4)
    assert status.last_delivery_report_at == late


def test_a_gateway_that_cannot_be_built_is_reported_not_raised(base_db):
    admin = load_actor(base_db, "admin")

    def missing():
        raise ImportError("No module named 'sms_core.gateways.nothing'")

    def refused():
        raise SmsError("KANNEL_SENDSMS_URL is not a URL.")

    assert "not installed" in gateway_status(base_db, admin, build=missing).problem
    assert gateway_status(base_db, admin, build=refused).problem == "KANNEL_SENDSMS_URL is not a URL."
    assert gateway_status(base_db, admin, build=lambda: FakeGateway("No answer.")).problem == "No answer."
    with pytest.raises(PermissionDenied):
        gateway_status(base_db, load_actor(base_db, "lead"), build=FakeGateway)


# --- the page, with AppTest --------------------------------------------------------------------


def open_settings(username: str = "admin"):
    return open_page(run_as(username), "sms-settings")


def test_the_settings_page_renders_for_administrators(app_env):
    at = open_settings()
    assert at.title[0].value == "SMS settings"
    assert [t.label for t in at.toggle] == ["SMS sending", "Require consent for unknown numbers"]
    assert at.toggle(key=f"setting_{SENDING_ENABLED}").value is True
    assert [m.label for m in at.metric] == [
        "Configured gateway",
        "Answers",
        "Last delivery report",
        "Waiting for a final status",
    ]


def test_the_settings_page_is_refused_to_others(app_env):
    at = open_settings("lead")
    assert "do not have permission to manage SMS settings" in at.error[0].value
    assert not at.toggle


def test_switching_sms_sending_off_is_recorded_and_stops_sending(app_env):
    at = open_settings()
    at.toggle(key=f"setting_{SENDING_ENABLED}").set_value(False).run()
    assert not at.exception
    assert get_settings(app_env).sending_enabled is False
    admin = load_actor(app_env, "admin")
    with app_env.session() as s:
        change = s.scalars(select(SettingChange).order_by(SettingChange.id.desc())).first()
    assert (change.key, change.old_value, change.new_value, change.changed_by_user_id) == (
        SENDING_ENABLED,
        "true",
        "false",
        admin.id,
    )
    assert any(c.value.startswith("Last changed by Ada Administrator") for c in at.caption)
    assert any("Sending SMS is not allowed" in w.value for w in at.warning)
    sent = send_sms(app_env, load_actor(app_env, "staff"), text="Hello", phone="+4791234567", submit=False)
    assert sent.message.status is SmsStatus.SENDING_NOT_ALLOWED
    at.run()  # a rerun of the page does not write the stale switch back
    assert get_settings(app_env).sending_enabled is False


def test_units_with_a_broken_sender_are_listed_first(app_env):
    at = open_settings()
    ids = unit_ids(app_env)
    senders = [t.key for t in at.text_input if t.key.startswith("sender_")]
    assert senders[0] == f"sender_{ids['TOS']}"
    assert "Tromsø Nord" in at.markdown[0].value and "Cannot send" in at.markdown[0].value
    assert "at most 11 characters" in at.error[0].value


def test_a_sender_is_validated_as_it_is_typed_and_saved(app_env):
    at = open_settings()
    ids = unit_ids(app_env)
    at.text_input(key=f"sender_{ids['OSL']}").input("Oslo Sentrum Helse").run()
    assert any("at most 11 characters (this one has 18)" in e.value for e in at.error)
    assert at.button(key=f"save_{ids['OSL']}").disabled
    at.text_input(key=f"sender_{ids['TOS']}").input("+47 915 00 300").run()
    assert at.button(key=f"save_{ids['TOS']}").disabled is False
    at.button(key=f"save_{ids['TOS']}").click().run()
    assert not at.exception
    with app_env.session() as s:
        assert s.get(OrgUnit, ids["TOS"]).sms_sender == "+4791500300"
        assert s.get(OrgUnit, ids["OSL"]).sms_sender == "OsloHelse"  # the invalid one was never saved
    assert at.text_input(key=f"sender_{ids['TOS']}").value == "+4791500300"
    assert any("now sends as +4791500300" in m.value for m in at.success)
