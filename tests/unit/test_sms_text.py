"""What an SMS text may contain (sms_core.domain.sms_text): every refusal is a sentence at the
field "text", never an encoding error, whatever a caller hands over."""

import pytest

from sms_core.domain.errors import InvalidInput
from sms_core.domain.sms_text import validate_text


@pytest.mark.parametrize(
    "text, words",
    [
        ("a\udcffb", "not valid text (U+DCFF)"),  # the byte 0xFF of a command-line argument
        ("\ud83d half an emoji", "not valid text (U+D83D)"),
        ("\u200b", "only invisible characters (U+200B)"),
        ("\u200d\u200d", "only invisible characters (U+200D)"),
        ("\ufeff \u2060\n", "only invisible characters (U+2060, U+FEFF)"),
        ("   ", "Write the SMS text."),
        ("price\x85list", "invisible control characters (U+0085)"),
        ("a\x80b\x9f", "invisible control characters (U+0080, U+009F)"),
        ("ring\x07", "invisible control characters (U+0007)"),
        ("Log in at \u202emoc.knab\u202c now", "change the reading direction (U+202C, U+202E)"),
        ("\u2066isolated\u2069", "change the reading direction (U+2066, U+2069)"),
        ("\u202aembedded", "change the reading direction (U+202A)"),
    ],
)
def test_text_that_would_show_as_nothing_or_mislead_is_refused_with_a_sentence(text, words):
    with pytest.raises(InvalidInput) as refused:
        validate_text(text)
    assert refused.value.field == "text" and words in refused.value.message
    refused.value.message.encode("utf-8")  # the sentence itself can be printed anywhere


@pytest.mark.parametrize(
    "text",
    [
        "Hei Åse!\nMøtet er flyttet.\tHilsen",
        "Familie 👨\u200d👩\u200d👧 og flagg 🏴\U000e0067\U000e0062\U000e0065\U000e006e\U000e0067\U000e007f",
        "שלום \u200fעולם",  # Hebrew with a right-to-left mark: a mark, not an override
        "soft\u00adhyphen",
    ],
)
def test_ordinary_texts_with_joiners_and_marks_pass(text):
    assert validate_text(text) == text
