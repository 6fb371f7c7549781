"""Phone numbers: parse what a person typed, store E.164, show international format.

``phonenumbers`` gives raw results (exceptions, a ValidationResult, a number type); this module
maps them to a few causes, each with one sentence that tells the person what to do — the way
GOV.UK Notify's recipient validation does.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberType, ValidationResult

DEFAULT_REGION = "NO"  # where a number without a country code is from, unless SMS_DEFAULT_REGION says otherwise


class PhoneProblem(Enum):
    EMPTY = "empty"
    NOT_A_NUMBER = "not_a_number"
    INVALID_COUNTRY_CODE = "invalid_country_code"
    TOO_SHORT = "too_short"
    TOO_LONG = "too_long"
    INVALID = "invalid"


_MESSAGES = {
    PhoneProblem.EMPTY: "Enter a phone number.",
    PhoneProblem.NOT_A_NUMBER: "This is not a phone number – use digits, and + before a country code.",
    PhoneProblem.INVALID_COUNTRY_CODE: "Country code not found – check the number after the +.",
    PhoneProblem.TOO_SHORT: "The phone number is too short – check that no digits are missing.",
    PhoneProblem.TOO_LONG: "The phone number is too long – check for extra digits.",
    PhoneProblem.INVALID: "This phone number does not exist – check the number and its country code.",
}


class InvalidPhoneNumber(ValueError):
    """A typed number that cannot be used; ``message`` is the sentence to show at the field."""

    def __init__(self, problem: PhoneProblem, typed: str = ""):
        self.problem = problem
        self.typed = typed
        self.message = _MESSAGES[problem]
        super().__init__(self.message)


# Types that can receive an SMS (or may be able to: FIXED_LINE_OR_MOBILE covers e.g. US numbers).
_SMS_CAPABLE = {
    PhoneNumberType.MOBILE,
    PhoneNumberType.FIXED_LINE_OR_MOBILE,
    PhoneNumberType.PAGER,
    PhoneNumberType.VOIP,
    PhoneNumberType.PERSONAL_NUMBER,
    PhoneNumberType.UNKNOWN,
}


@dataclass(frozen=True)
class Phone:
    e164: str
    international: str
    can_receive_sms: bool

    @property
    def warning(self) -> str | None:
        if self.can_receive_sms:
            return None
        return f"{self.international} looks like a fixed line, which usually cannot receive SMS."


def parse_phone(typed: str | None, region: str = DEFAULT_REGION) -> Phone:
    """Parse a number as a person would type it ('+47 912 34 567', '912 34 567', '0047…')."""
    number = _valid_number(typed, region)
    return Phone(
        e164=phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164),
        international=phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL),
        can_receive_sms=phonenumbers.number_type(number) in _SMS_CAPABLE,
    )


def parse_e164(typed: str | None, region: str = DEFAULT_REGION) -> str:
    """``parse_phone(…).e164``, the same checks and refusals, without what only a person reads (the
    international format, the fixed-line warning): the API parses every send's number in its one
    event loop, where those cost as much as the checks."""
    return phonenumbers.format_number(_valid_number(typed, region), phonenumbers.PhoneNumberFormat.E164)


def _valid_number(typed: str | None, region: str) -> phonenumbers.PhoneNumber:
    text = (typed or "").strip()
    if not text:
        raise InvalidPhoneNumber(PhoneProblem.EMPTY, text)
    if text.startswith("00"):
        text = "+" + text[2:]
    try:
        number = phonenumbers.parse(text, region)
    except NumberParseException as exc:
        problem = {
            NumberParseException.INVALID_COUNTRY_CODE: PhoneProblem.INVALID_COUNTRY_CODE,
            NumberParseException.TOO_SHORT_NSN: PhoneProblem.TOO_SHORT,
            NumberParseException.TOO_SHORT_AFTER_IDD: PhoneProblem.TOO_SHORT,
            NumberParseException.TOO_LONG: PhoneProblem.TOO_LONG,
        }.get(exc.error_type, PhoneProblem.NOT_A_NUMBER)
        raise InvalidPhoneNumber(problem, typed or "") from None
    if any(ch.isalpha() for ch in text):
        raise InvalidPhoneNumber(PhoneProblem.NOT_A_NUMBER, typed or "")
    match phonenumbers.is_possible_number_with_reason(number):
        case ValidationResult.INVALID_COUNTRY_CODE:
            raise InvalidPhoneNumber(PhoneProblem.INVALID_COUNTRY_CODE, typed or "")
        case ValidationResult.TOO_SHORT | ValidationResult.INVALID_LENGTH:
            raise InvalidPhoneNumber(PhoneProblem.TOO_SHORT, typed or "")
        case ValidationResult.TOO_LONG:
            raise InvalidPhoneNumber(PhoneProblem.TOO_LONG, typed or "")
    if not phonenumbers.is_valid_number(number):
        raise InvalidPhoneNumber(PhoneProblem.INVALID, typed or "")
    return number


def format_international(e164: str | None) -> str:
    """Show a stored E.164 number the way people read it; unparseable values pass through."""
    if not e164:
        return ""
    try:
        number = phonenumbers.parse(e164, None)
    except NumberParseException:
        return e164
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def digits_only(text: str) -> str:
    """The digits of a filter value, so '912 34' matches '+4791234567'."""
    return "".join(ch for ch in text if ch.isdigit())
