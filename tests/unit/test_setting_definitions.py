"""The settings catalogue: each kind of setting accepts what an administrator would type and says
what to change when it cannot be used, and a stored value that no longer fits reads as the default."""

import pytest

from sms_core.domain.errors import InvalidInput
from sms_core.domain.setting_definitions import BY_KEY, DEFINITIONS, SENDING_ENABLED, SettingDefinition

DAYS = SettingDefinition("days", "Days to keep texts", "", "number", 0, minimum=0, maximum=3650)
WORDS = SettingDefinition("words", "Opt-out keywords", "", "words", ("STOP",), max_length=30)
ZONE = SettingDefinition("zone", "Time zone", "", "time_zone", "Europe/Oslo")
TEXT = SettingDefinition(
    "text", "Confirmation text", "", "text", "", check=lambda v: "Write something." if not v else None
)


def test_every_setting_has_a_unique_key_and_a_valid_default():
    assert len(BY_KEY) == len(DEFINITIONS)
    for definition in DEFINITIONS:
        assert definition.validate(definition.default) == definition.default
        assert definition.parse(definition.serialise(definition.default)) == definition.default


def test_a_switch_round_trips_and_reads_as_the_page_shows_it():
    switch = BY_KEY[SENDING_ENABLED]
    assert switch.parse(switch.serialise(False)) is False
    assert (switch.describe(True), switch.describe(False)) == ("On", "Off")
    with pytest.raises(InvalidInput, match="either on or off"):
        switch.validate("maybe")


@pytest.mark.parametrize(("typed", "stored"), [("180", 180), (" 7 ", 7), (0, 0), (3650, 3650)])
def test_a_number_is_taken_as_typed(typed, stored):
    assert DAYS.validate(typed) == stored


@pytest.mark.parametrize(
    ("typed", "sentence"), [("a week", "whole number"), ("-1", "between 0 and 3,650"), (4000, "between")]
)
def test_a_number_out_of_range_names_the_setting_and_the_range(typed, sentence):
    with pytest.raises(InvalidInput, match=sentence) as refused:
        DAYS.validate(typed)
    assert refused.value.field == "days" and "Days to keep texts" in refused.value.message


def test_keywords_are_trimmed_upper_cased_and_kept_once_in_order():
    assert WORDS.validate(" stop, Stopp ,,STOP, avmeld ") == ("STOP", "STOPP", "AVMELD")
    assert WORDS.parse(WORDS.serialise(("STOP", "STOPP"))) == ("STOP", "STOPP")
    assert WORDS.describe(()) == "(none)"
    with pytest.raises(InvalidInput, match="at most 30 characters"):
        WORDS.validate("UNSUBSCRIBE, UNSUBSCRIBE2, UNSUBSCRIBE3")


def test_a_time_zone_must_be_a_real_zone_name():
    assert ZONE.validate(" Europe/Oslo ") == "Europe/Oslo"
    with pytest.raises(InvalidInput, match="not a time zone name"):
        ZONE.validate("Oslo")
    assert ZONE.parse("Mars/Olympus") == "Europe/Oslo"  # a stored value no longer valid: the default


def test_a_further_rule_refuses_with_its_own_sentence():
    assert TEXT.validate("  Thanks, you will get no more SMS.  ") == "Thanks, you will get no more SMS."
    with pytest.raises(InvalidInput, match="Write something"):
        TEXT.validate("   ")
