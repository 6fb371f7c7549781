"""SMS settings: the org units' SMS senders, the settings with who changed them, and the gateway
status.  The rules of the services run on SQLite only (the SQL beneath is plain and the same on
both databases); the gateway status, an aggregate over messages and their times, on both."""

from datetime import UTC, datetime

import pytest

from sms_core.domain.errors import InvalidInput, PermissionDenied, SmsError
from sms_core.domain.statuses import SmsStatus
from sms_core.storage.models import OrgUnit, SmsMessage, StatusEvent, User, UserOrgUnit
from sms_core.use_cases.accounts import load_actor, unit_id_by_code
from sms_core.use_cases.org_units import list_unit_senders, update_unit_sender
from sms_core.use_cases.settings import (
    SENDING_ENABLED,
    change_setting,
    gateway_status,
    recent_setting_changes,
    setting_states,
)

# --- org units' SMS senders (sms_core.use_cases.org_units) ---------------------------------------------


@pytest.mark.sqlite_only
def test_units_that_cannot_send_are_listed_first(demo_base_db):
    units = list_unit_senders(demo_base_db, load_actor(demo_base_db, "admin"))
    assert [u.code for u in units][0] == "TOS"  # "Tromsø Helse Nord" is too long a sender
    assert units[0].problem and all(u.problem is None for u in units[1:])
    assert [u.name for u in units[1:]] == sorted(u.name for u in units[1:])


@pytest.mark.sqlite_only
def test_a_valid_sender_is_saved_in_its_stored_form(demo_base_db):
    admin, tos = load_actor(demo_base_db, "admin"), unit_id_by_code(demo_base_db, "TOS")
    saved = update_unit_sender(demo_base_db, admin, tos, " Mari Olsen ", "+47 915 00 200")
    assert (saved.representative_name, saved.sms_sender, saved.problem) == ("Mari Olsen", "+4791500200", None)
    assert [u.code for u in list_unit_senders(demo_base_db, admin)][0] != "TOS"


@pytest.mark.sqlite_only
@pytest.mark.parametrize(
    ("representative", "sender", "field", "sentence"),
    [
        ("Mari Olsen", "Tromsø Helse Nord", "sms_sender", "at most 11 characters"),
        ("Mari Olsen", "", "sms_sender", "no SMS sender"),
        ("", "TromsoHelse", "representative_name", "no representative"),
        ("Mari Olsen", "+47 12", "sms_sender", "not a valid phone number"),
    ],
)
def test_an_invalid_configuration_is_refused_with_the_field_to_fix(
    demo_base_db, representative, sender, field, sentence
):
    admin, tos = load_actor(demo_base_db, "admin"), unit_id_by_code(demo_base_db, "TOS")
    with pytest.raises(InvalidInput, match=sentence) as refused:
        update_unit_sender(demo_base_db, admin, tos, representative, sender)
    assert refused.value.field == field
    with demo_base_db.session() as s:
        assert s.get(OrgUnit, tos).sms_sender == "Tromsø Helse Nord"


@pytest.mark.sqlite_only
def test_only_administrators_of_the_unit_change_senders(demo_base_db):
    ids = {code: unit_id_by_code(demo_base_db, code) for code in ("OSL", "BGN", "TOS")}
    with pytest.raises(PermissionDenied, match="manage SMS settings"):
        update_unit_sender(demo_base_db, load_actor(demo_base_db, "lead"), ids["OSL"], "Ingrid Berg", "OsloHelse")
    with pytest.raises(PermissionDenied, match="manage SMS settings"):
        list_unit_senders(demo_base_db, load_actor(demo_base_db, "lead"))
    with demo_base_db.session() as s:  # an administrator of Oslo only
        user = User(username="osladmin", display_name="Oslo Admin", role="administrator")
        s.add(user)
        s.flush()
        s.add(UserOrgUnit(user_id=user.id, org_unit_id=ids["OSL"]))
    osl_admin = load_actor(demo_base_db, "osladmin")
    assert [u.code for u in list_unit_senders(demo_base_db, osl_admin)] == ["OSL"]
    with pytest.raises(PermissionDenied, match="not associated"):
        update_unit_sender(demo_base_db, osl_admin, ids["TOS"], "Mari Olsen", "TromsoHelse")


# --- settings and the gateway status (sms_core.use_cases.settings) -------------------------------------


@pytest.mark.sqlite_only
def test_setting_states_say_who_changed_them(demo_base_db):
    admin = load_actor(demo_base_db, "admin")
    assert all(state.updated_by is None for state in setting_states(demo_base_db, admin))
    change_setting(demo_base_db, admin, SENDING_ENABLED, False)
    sending = next(s for s in setting_states(demo_base_db, admin) if s.key == SENDING_ENABLED)
    assert (sending.value, sending.updated_by, sending.label) == (False, "Ada Administrator", "SMS sending")
    latest = recent_setting_changes(demo_base_db, admin)[0]
    assert (latest.key, latest.old_value, latest.new_value, latest.changed_by) == (
        SENDING_ENABLED,
        True,
        False,
        "Ada Administrator",
    )
    with pytest.raises(PermissionDenied):
        setting_states(demo_base_db, load_actor(demo_base_db, "lead"))


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


def test_gateway_status_counts_waiting_messages_and_the_last_report(demo_base_db):
    ids = {code: unit_id_by_code(demo_base_db, code) for code in ("OSL", "BGN", "TOS")}
    early, late = datetime(2024, 3, 1, 8, tzinfo=UTC), datetime(2024, 3, 2, 9, 30, tzinfo=UTC)
    _add_message(demo_base_db, ids["OSL"], SmsStatus.RECEIVED, report_at=late)
    _add_message(demo_base_db, ids["BGN"], SmsStatus.SENDING_FAILED, report_at=early)
    for status in (SmsStatus.UNKNOWN, SmsStatus.ACCEPTED, SmsStatus.RESENT, SmsStatus.STATUS_CHECK_TIMEOUT):
        _add_message(demo_base_db, ids["OSL"], status)
    status = gateway_status(demo_base_db, load_actor(demo_base_db, "admin"), build=lambda: FakeGateway())
    assert (status.name, status.problem, status.waiting_for_final_status) == ("fake", None, 4)
    assert status.last_delivery_report_at == late


@pytest.mark.sqlite_only
def test_a_gateway_that_cannot_be_built_is_reported_not_raised(demo_base_db):
    admin = load_actor(demo_base_db, "admin")

    def missing():
        raise ImportError("No module named 'sms_core.gateways.nothing'")

    def refused():
        raise SmsError("KANNEL_SENDSMS_URL is not a URL.")

    assert "not installed" in gateway_status(demo_base_db, admin, build=missing).problem
    assert gateway_status(demo_base_db, admin, build=refused).problem == "KANNEL_SENDSMS_URL is not a URL."
    assert gateway_status(demo_base_db, admin, build=lambda: FakeGateway("No answer.")).problem == "No answer."
    with pytest.raises(PermissionDenied):
        gateway_status(demo_base_db, load_actor(demo_base_db, "lead"), build=FakeGateway)
