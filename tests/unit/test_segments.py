"""The SMS counter: the shared vectors, and the article's rule spelled out case by case."""

import pytest

from sms_core.domain.segments import count_sms, load_vectors

VECTORS = load_vectors()


@pytest.mark.parametrize("case", VECTORS, ids=[c["name"] for c in VECTORS])
def test_shared_vector(case):
    result = count_sms(case["text"], 147, 67)
    assert (result.characters, result.segments, result.characters_in_current, result.unicode) == (
        case["characters"],
        case["segments"],
        case["characters_in_current"],
        case["unicode"],
    )


@pytest.mark.parametrize(
    "length, segments, in_current",
    [(0, 0, 0), (1, 1, 1), (147, 1, 147), (148, 2, 1), (294, 2, 147), (295, 3, 1), (1000, 7, 118)],
)
def test_article_rule_147_characters_per_sms(length, segments, in_current):
    result = count_sms("s" * length, 147, 67)
    assert (result.segments, result.characters_in_current, result.unicode) == (segments, in_current, False)


def test_norwegian_letters_stay_gsm_and_emoji_switches_to_unicode():
    assert not count_sms("Blåbærsyltetøy på Ærø", 147, 67).unicode
    emoji = count_sms("Velkommen 😊", 147, 67)
    assert emoji.unicode and emoji.per_sms == 67 and emoji.non_gsm == ("😊",)
    assert "😊" in emoji.describe() and "Unicode" in emoji.describe()


def test_both_capacities_are_settings(monkeypatch):
    from sms_core.config import load_config

    monkeypatch.setenv("SMS_CHARS_PER_SMS", "160")
    monkeypatch.setenv("SMS_UNICODE_CHARS_PER_SMS", "70")
    config = load_config()
    sizes = (config.chars_per_sms, config.unicode_chars_per_sms)
    assert count_sms("a" * 160, *sizes).segments == 1
    assert count_sms("a" * 161, *sizes).segments == 2
    assert count_sms("ę" * 71, *sizes).segments == 2
    assert count_sms("a" * 148).segments == 2, "without a configuration: DESIGN.md's 147 per SMS"


def test_counter_line_names_current_sms_and_total():
    assert count_sms("a" * 148, 147, 67).describe() == "1/147 characters in current SMS · 2 SMS messages"
