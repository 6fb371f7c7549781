"""Bad input (hypothesis) at the send service: it answers with a refusal a person can read, or
sends — never anything else; and what is stored is exactly what was typed, on both databases."""

from bad_input import NASTY_PHONES, NASTY_TEXTS, ONE_LOG
from hypothesis import given, settings
from support import accepting

from sms_core.domain.errors import InvalidInput
from sms_core.read_models.message_detail import get_message
from sms_core.use_cases.sending import send_sms


@given(text=NASTY_TEXTS, typed=NASTY_PHONES)
@settings(max_examples=150, deadline=None, suppress_health_check=ONE_LOG)
def test_send_refuses_clearly_or_stores_exactly_what_was_typed(demo_db, staff, tally, text, typed):
    tally["cases"] += 1
    gateway = accepting()
    try:
        result = send_sms(demo_db, staff, text=text, phone=typed, gateway=gateway)
    except InvalidInput as exc:
        assert exc.field in {"text", "phone"} and exc.message
        tally["refused"] += 1
        return
    stored = get_message(demo_db, staff, result.message.id)
    assert stored.text == text  # no trimming, no escaping: rendering is the page's job
    assert len(gateway.submitted) <= 1
