"""Bad input, thousands of cases (hypothesis), for the rules that need no database: any typed
number is parsed or refused with a sentence a person can read; the SMS counter never fails."""

from bad_input import NASTY_PHONES, NASTY_TEXTS, ONE_LOG
from hypothesis import given, settings

from sms_core.domain.phones import InvalidPhoneNumber, parse_phone
from sms_core.domain.segments import count_sms


@given(typed=NASTY_PHONES)
@settings(max_examples=2000, deadline=None, suppress_health_check=ONE_LOG)
def test_any_typed_number_is_parsed_or_refused_with_a_sentence(tally, typed):
    tally["cases"] += 1
    try:
        phone = parse_phone(typed, "NO")
    except InvalidPhoneNumber as exc:
        assert exc.message.endswith(".") and len(exc.message) < 120
        tally["refused"] += 1
    else:
        assert phone.e164.startswith("+") and phone.e164[1:].isdigit()


@given(text=NASTY_TEXTS)
@settings(max_examples=2000, deadline=None, suppress_health_check=ONE_LOG)
def test_the_counter_never_fails(tally, text):
    tally["cases"] += 1
    count = count_sms(text, 147, 67)
    assert count.segments >= (1 if text else 0) and 0 <= count.characters_in_current <= count.per_sms
