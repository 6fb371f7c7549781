"""What a click on Resend SMS says: once, in full, above the table — not in a toast that cuts a
long sentence behind "view more" and covers the Sort by control."""

import pytest
from support import accepting
from test_overview_page import add_message, overview, rerun, select_row

from pages._shared import runtime
from sms_core.domain.statuses import SmsStatus as S
from sms_core.use_cases.accounts import load_actor
from sms_core.use_cases.settings import SENDING_ENABLED, change_setting


def everything(at) -> str:
    return "\n".join(str(getattr(e, "value", "")) for e in at)


def resend_first_row(at):
    select_row(at, 0)
    at.button(key="ov_resend").click()
    return rerun(at)


def test_a_refused_resend_says_why_once_above_the_table(app_env, monkeypatch):
    monkeypatch.setattr(runtime(), "gateway", accepting())
    add_message(app_env, "Please call us", S.SENDING_FAILED)
    change_setting(app_env, load_actor(app_env, "admin"), SENDING_ENABLED, False)
    at = resend_first_row(overview())
    assert not at.toast
    [error] = [e.value for e in at.error]
    assert error.startswith("The SMS was not sent: SMS sending is disabled in the system settings.")
    assert error.count("not sent") == 1 and everything(at).count("not sent") == 1


@pytest.mark.parametrize(
    "status, sentence",
    [
        (S.CONSENT_NOT_REGISTERED, "The SMS was not sent because no consent"),
        (S.PHONE_NOT_ENTERED, "The SMS was not sent because no phone number"),
    ],
)
def test_a_refusal_that_explains_itself_is_not_prefixed_again(status, sentence):
    from sms_core.use_cases.sending import SendResult

    class Message:
        phone_display, gateway_error = "", None

    Message.status = status
    summary = SendResult(Message(), created=True).summary
    assert summary.startswith(sentence) and summary.count("not sent") == 1


def test_the_refusal_of_a_long_message_is_said_once_in_full(app_env, monkeypatch):
    """The tester's 1001-character message: its refusal showed twice in the toast's "view more"."""
    monkeypatch.setattr(runtime(), "gateway", accepting())
    add_message(app_env, "x" * 1001, S.SENDING_FAILED)
    change_setting(app_env, load_actor(app_env, "admin"), SENDING_ENABLED, False)
    at = resend_first_row(overview())
    assert not at.toast
    [error] = [e.value for e in at.error]
    sentence = "SMS sending is disabled in the system settings."
    assert error.endswith("Ask an administrator to switch SMS sending on, then send a new SMS.")  # in full
    assert everything(at).count(sentence) == 1


def test_an_accepted_resend_is_confirmed_above_the_table(app_env, monkeypatch):
    monkeypatch.setattr(runtime(), "gateway", accepting())
    add_message(app_env, "Please call us", S.SENDING_FAILED)
    at = resend_first_row(overview())
    assert not at.toast and any("accepted by the SMS gateway" in s.value for s in at.success)
