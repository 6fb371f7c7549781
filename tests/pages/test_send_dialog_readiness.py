"""What the Send SMS dialog says as soon as it opens: that sending is off, or that the unit's
representative cannot send — before anything is written (an SMS sent anyway is still recorded
with that status, as DESIGN.md wants every attempt visible) — and that the text is required."""

import pytest
from sqlalchemy import update
from test_send_dialog import (
    TEXT,
    UNKNOWN_NUMBER,
    click_send,
    gateway,  # noqa: F401 (the fixture)
    messages_with,
    open_dialog,
    send_button,
    type_number,
)

from sms_core.domain.statuses import SmsStatus
from sms_core.storage.models import OrgUnit
from sms_core.use_cases.accounts import load_actor
from sms_core.use_cases.readiness import send_readiness
from sms_core.use_cases.settings import SENDING_ENABLED, change_setting


def switch_sending_off(db) -> None:
    change_setting(db, load_actor(db, "admin"), SENDING_ENABLED, False)


def break_the_sender(db) -> None:
    with db.session() as s:
        unit = load_actor(db, "staff").current_org_unit_id
        s.execute(update(OrgUnit).where(OrgUnit.id == unit).values(sms_sender="Far too long a sender"))


@pytest.mark.parametrize(
    "spoil, status",
    [(switch_sending_off, SmsStatus.SENDING_NOT_ALLOWED), (break_the_sender, SmsStatus.INVALID_REPRESENTATIVE)],
)
@pytest.mark.usefixtures("gateway")
def test_the_dialog_warns_as_it_opens_and_a_send_anyway_is_recorded(app_env, spoil, status):
    spoil(app_env)
    at = open_dialog()
    [warning] = [w.value for w in at.warning]  # before anything was typed or sent
    assert status.explanation in warning and f"“{status.label}”" in warning
    at = type_number(at, UNKNOWN_NUMBER)
    at.session_state[TEXT] = "Sent anyway"
    assert not send_button(at).disabled
    click_send(at)
    assert [m.status for m in messages_with(app_env, "Sent anyway")] == [status]


def test_a_unit_that_can_send_gets_no_warning(app_env):
    assert not open_dialog().warning
    assert send_readiness(app_env, load_actor(app_env, "staff")) is None


def test_the_sms_text_is_marked_required(app_env):
    at = open_dialog()
    shown = "\n".join(str(getattr(node, "proto", "")) for node in at)
    assert "SMS text *" in shown and "Required" in shown
