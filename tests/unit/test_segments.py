"""The SMS counter: the shared vectors, and the article's rule spelled out case by case."""

import pytest

from sms_core.domain.segments import count_sms, load_vectors

VECTORS = load_vectors()


@pytest.mark.parametrize("case", VECTORS, ids=[c["name"] for c in VECTORS])
def test_shared_vector(case):
    result = count_sms(case["text"], 147, 67)
    assert (result.characters, result.units, result.segments, result.characters_in_current, result.unicode) == (
        case["characters"],
        case["units"],
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


def test_unicode_is_counted_in_utf16_code_units_as_the_network_bills_it():
    """An emoji outside the Basic Multilingual Plane is a surrogate pair: two of a Unicode SMS's 67."""
    hei = count_sms("Hei 😊", 147, 67)
    assert (hei.characters, hei.characters_in_current, hei.segments) == (5, 6, 1)
    assert hei.describe() == (
        "6/67 characters in current SMS · 1 SMS · sent as Unicode because of 😊 · emoji count as 2 characters"
    )
    assert count_sms("😊" * 67, 147, 67).segments == 2
    assert count_sms("Привет", 147, 67).describe().endswith("because of П р и в е т"), "no note without emoji"


def test_gsm_texts_are_unchanged_and_extension_characters_count_once():
    """DESIGN.md's rule: one character each, although the network sends € [ ] { } ^ ~ \\ | as two septets."""
    assert count_sms("€" * 147, 147, 67).segments == 1
    assert count_sms("a" * 147, 147, 67).describe() == "147/147 characters in current SMS · 1 SMS"
