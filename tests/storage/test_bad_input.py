"""Bad input, thousands of cases (hypothesis): the services answer with a refusal a person can
read, or send — never anything else; and what is stored is exactly what was typed."""

from collections import Counter

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sms_core.domain.errors import InvalidInput
from sms_core.domain.phones import InvalidPhoneNumber, parse_phone
from sms_core.domain.segments import count_sms
from sms_core.gateways.simulated import OutcomeMix, SimulatedGateway
from sms_core.read_models.message_detail import get_message
from sms_core.use_cases.accounts import load_actor
from sms_core.use_cases.sending import send_sms

NASTY_TEXTS = st.one_of(
    st.text(max_size=1100),
    st.sampled_from(
        [
            "",
            " ",
            "\n\t ",
            "x" * 1000,
            "x" * 1001,
            "\u202eevil\u202c",
            "\u200f\u200e",
            "\x00\x01\x07",
            "<script>alert(1)</script>",
            "'; DROP TABLE sms_messages; --",
            "%_\\",
            "😊" * 500,
            "ᚠᛇᚻ",
            "\r\n",
        ]
    ),
)
NASTY_PHONES = st.one_of(
    st.text(max_size=40),
    st.from_regex(r"\+?[0-9 ()\-]{0,25}", fullmatch=True),
    st.sampled_from(["+47 415 55 123", "0047 41555123", "+", "00", "+4", "1" * 40, "+47 22 12 34 56", "٤١٥٥٥١٢٣"]),
)
ONE_LOG = [HealthCheck.function_scoped_fixture]  # every example adds to the one ``tally`` of its test


@pytest.fixture
def tally(reliability):
    """Counts the cases hypothesis really ran (they vary with its database and shrinking), recorded
    after the last one; a failing run writes no RELIABILITY.md, so only passed cases are reported."""
    counts = Counter()
    yield counts
    reliability.record("Bad input", **counts)


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


@pytest.fixture
def staff(demo_db):
    return load_actor(demo_db, "staff")


@given(text=NASTY_TEXTS, typed=NASTY_PHONES)
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_send_refuses_clearly_or_stores_exactly_what_was_typed(demo_db, staff, tally, text, typed):
    tally["cases"] += 1
    gateway = SimulatedGateway(OutcomeMix(0, 0, 0, 0), latency=0)
    try:
        result = send_sms(demo_db, staff, text=text, phone=typed, gateway=gateway)
    except InvalidInput as exc:
        assert exc.field in {"text", "phone"} and exc.message
        tally["refused"] += 1
        return
    stored = get_message(demo_db, staff, result.message.id)
    assert stored.text == text  # no trimming, no escaping: rendering is the page's job
    assert len(gateway.submitted) <= 1
