"""The SMS settings page with AppTest: who may open it, the on/off switch, senders validated as
they are typed."""

import pytest
from sqlalchemy import select
from test_app_shell import open_page, run_as

from sms_core.domain.statuses import SmsStatus
from sms_core.storage.models import OrgUnit, SettingChange
from sms_core.use_cases.accounts import load_actor, unit_id_by_code
from sms_core.use_cases.sending import send_sms
from sms_core.use_cases.settings import SENDING_ENABLED, get_settings


def open_settings(username: str = "admin"):
    return open_page(run_as(username), "sms-settings")


def test_the_settings_page_renders_for_administrators(app_env):
    at = open_settings()
    assert at.title[0].value == "SMS settings"
    assert [t.label for t in at.toggle] == [
        "SMS sending",
        "Require consent for unknown numbers",
        "Opt-in by SMS reply",
        "Confirm an opt-out by SMS",
    ]
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
    senders = [t.key for t in at.text_input if t.key.startswith("sender_")]
    assert senders[0] == f"sender_{unit_id_by_code(app_env, 'TOS')}"
    assert "Tromsø Nord" in at.markdown[0].value and "Cannot send" in at.markdown[0].value
    assert "at most 11 characters" in at.error[0].value


def test_a_sender_is_validated_as_it_is_typed_and_saved(app_env):
    at = open_settings()
    osl, tos = unit_id_by_code(app_env, "OSL"), unit_id_by_code(app_env, "TOS")
    at.text_input(key=f"sender_{osl}").input("Oslo Sentrum Helse").run()
    assert any("at most 11 characters (this one has 18)" in e.value for e in at.error)
    assert at.button(key=f"save_{osl}").disabled
    at.text_input(key=f"sender_{tos}").input("+47 915 00 300").run()
    assert at.button(key=f"save_{tos}").disabled is False
    at.button(key=f"save_{tos}").click().run()
    assert not at.exception
    with app_env.session() as s:
        assert s.get(OrgUnit, tos).sms_sender == "+4791500300"
        assert s.get(OrgUnit, osl).sms_sender == "OsloHelse"  # the invalid one was never saved
    assert at.text_input(key=f"sender_{tos}").value == "+4791500300"
    assert any("now sends as +4791500300" in m.value for m in at.success)


SECRET = "s3cretpw"


def shown_text(at) -> str:
    """Every sentence the page shows, in one string."""
    parts = [e.value for kind in (at.error, at.warning, at.success, at.caption, at.markdown, at.title) for e in kind]
    return " ".join([*map(str, parts), *(f"{m.label} {m.value}" for m in at.metric)])


@pytest.fixture
def kannel_with_credentials(monkeypatch):
    monkeypatch.setenv("SMS_GATEWAY", "kannel")
    monkeypatch.setenv("KANNEL_PASSWORD", SECRET)
    monkeypatch.setenv("KANNEL_SENDSMS_URL", f"http://kannel:{SECRET}@127.0.0.1:1/cgi-bin/sendsms?password={SECRET}")


def test_the_gateway_status_never_shows_a_password(kannel_with_credentials, app_env):
    at = open_settings()
    assert not at.exception
    assert "does not answer" in shown_text(at) and "127.0.0.1:1" in shown_text(at)
    assert SECRET not in shown_text(at)
