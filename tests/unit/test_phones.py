"""Phone numbers typed by people: stored E.164, shown international, refused with a reason."""

import pytest

from sms_core.domain.phones import (
    InvalidPhoneNumber,
    PhoneProblem,
    digits_only,
    format_international,
    parse_e164,
    parse_phone,
)
from sms_core.domain.senders import normalise_sender, sender_problem


@pytest.mark.parametrize(
    "typed, e164",
    [
        ("+47 912 34 567", "+4791234567"),
        ("912 34 567", "+4791234567"),
        ("0047 91234567", "+4791234567"),
        ("(+47) 91-23-45-67", "+4791234567"),
        ("+46 70 123 45 67", "+46701234567"),
    ],
)
def test_valid_numbers_are_stored_as_e164(typed, e164):
    assert parse_phone(typed, "NO").e164 == e164
    assert parse_e164(typed, "NO") == e164  # the API's way: the same number


@pytest.mark.parametrize(
    "typed, problem",
    [
        ("", PhoneProblem.EMPTY),
        ("   ", PhoneProblem.EMPTY),
        ("call me", PhoneProblem.NOT_A_NUMBER),
        ("12", PhoneProblem.TOO_SHORT),
        ("+999 1234567", PhoneProblem.INVALID_COUNTRY_CODE),
        ("1234567890123456789", PhoneProblem.TOO_LONG),
        ("+47 12345678", PhoneProblem.INVALID),
        ("9123456a", PhoneProblem.NOT_A_NUMBER),
    ],
)
@pytest.mark.parametrize("parse", [parse_phone, parse_e164])
def test_invalid_numbers_say_what_to_fix(typed, problem, parse):
    with pytest.raises(InvalidPhoneNumber) as caught:
        parse(typed, "NO")
    assert caught.value.problem is problem
    assert caught.value.message.endswith(".") and "Traceback" not in caught.value.message


def test_fixed_line_is_accepted_with_a_warning():
    phone = parse_phone("22 12 34 56", "NO")
    assert not phone.can_receive_sms and "fixed line" in phone.warning
    assert parse_e164("22 12 34 56", "NO") == phone.e164  # a warning, not a refusal: the API sends too
    assert parse_phone("91234567", "NO").warning is None


def test_default_region_is_a_setting():
    assert parse_phone("070-123 45 67", "SE").e164 == "+46701234567"


def test_display_and_filter_helpers():
    assert format_international("+4791234567") == "+47 91 23 45 67"
    assert format_international(None) == ""
    assert digits_only("+47 912-34") == "4791234"


@pytest.mark.parametrize(
    "sender, ok",
    [
        ("OsloHelse", True),
        ("StavangerHC", True),
        ("+4791500100", True),
        ("Tromsø Helse Nord", False),
        ("", False),
        (None, False),
        ("Oslo#1", False),
        ("12345", False),
        ("Ærø-Klinikk", True),
    ],
)
def test_representative_sender_configuration(sender, ok):
    assert (sender_problem(sender, "Ingrid Berg") is None) is ok


def test_unit_without_representative_is_invalid():
    assert "no representative" in sender_problem("OsloHelse", None)
    assert normalise_sender(" 915 00 100 ") == "+4791500100"
