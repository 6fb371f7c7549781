"""How many SMS a text takes: the one authoritative rule (the browser counter mirrors it).

Rule (DESIGN.md): one SMS holds ``chars_per_sms`` characters (147); a longer text is split and
takes ceil(length / 147) SMS.  A text with any character outside the GSM 03.38 alphabet is sent as
Unicode and counted with ``unicode_chars_per_sms`` (67) per SMS.

What is counted is what the network bills.  A GSM text is counted in characters.  A Unicode text
travels as UCS-2/UTF-16, where a character outside the Basic Multilingual Plane (most emoji) takes
two code units, so it is counted in UTF-16 code units: "Hei 😊" is 6 of 67, and 67 emoji are 2 SMS
(as GOV.UK Notify counts).  In the browser that is ``text.length``, in Python the surrogate pairs
are added to the code points.  The 1000-character limit stays in characters (``characters``).
GSM extension characters (``€ [ ] { } ^ ~ \\ |``) count as one, as DESIGN.md defines the rule,
although the network sends each as two septets.  The shared test vectors live in
``segment_vectors.json`` beside this file.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

# GSM 03.38 default alphabet and its extension table (the extension characters are still GSM).
GSM_BASIC = (
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM_EXTENSION = "^{}\\[~]|€\f"
GSM_CHARACTERS = frozenset(GSM_BASIC + GSM_EXTENSION)

VECTORS_PATH = Path(__file__).with_name("segment_vectors.json")
CHARS_PER_SMS = 147  # DESIGN.md's sizes; SMS_CHARS_PER_SMS / SMS_UNICODE_CHARS_PER_SMS change them
UNICODE_CHARS_PER_SMS = 67


@dataclass(frozen=True)
class SmsCount:
    characters: int  # characters (code points) in the whole text: what the 1000-character limit counts
    segments: int  # number of SMS the text takes (0 for an empty text)
    characters_in_current: int  # what the network counts in the last (current) SMS
    unicode: bool  # sent as Unicode because of non-GSM characters
    per_sms: int  # capacity of one SMS for this text (147 or 67)
    non_gsm: tuple[str, ...] = ()  # the characters that force Unicode, in order of appearance
    units: int = 0  # what the network counts in the whole text: characters, or UTF-16 code units for Unicode

    def describe(self) -> str:
        """The counter line shown under the text field."""
        sms = "SMS" if self.segments == 1 else "SMS messages"
        line = f"{self.characters_in_current}/{self.per_sms} characters in current SMS · {self.segments} {sms}"
        if self.unicode:
            line += f" · sent as Unicode because of {' '.join(self.non_gsm)}"
            if any(_takes_two_units(ch) for ch in self.non_gsm):
                line += " · emoji count as 2 characters"
        return line


def _takes_two_units(ch: str) -> bool:
    """Outside the Basic Multilingual Plane: a surrogate pair in UTF-16, two of a Unicode SMS's 67."""
    return ord(ch) > 0xFFFF


def non_gsm_characters(text: str) -> tuple[str, ...]:
    seen: dict[str, None] = {}
    for ch in text:
        if ch not in GSM_CHARACTERS:
            seen.setdefault(ch, None)
    return tuple(seen)


def count_sms(
    text: str, chars_per_sms: int = CHARS_PER_SMS, unicode_chars_per_sms: int = UNICODE_CHARS_PER_SMS
) -> SmsCount:
    non_gsm = non_gsm_characters(text)
    per_sms = unicode_chars_per_sms if non_gsm else chars_per_sms
    characters = len(text)
    units = characters + sum(1 for ch in text if _takes_two_units(ch)) if non_gsm else characters
    segments = math.ceil(units / per_sms)
    in_current = units - (segments - 1) * per_sms if segments else 0
    return SmsCount(
        characters=characters,
        segments=segments,
        characters_in_current=in_current,
        unicode=bool(non_gsm),
        per_sms=per_sms,
        non_gsm=non_gsm,
        units=units,
    )


def load_vectors() -> list[dict]:
    """The shared table of cases that both the Python and the browser counter must satisfy."""
    data = json.loads(VECTORS_PATH.read_text(encoding="utf-8"))
    cases = []
    for case in data["cases"]:
        text = case["text"] if "text" in case else case["repeat"] * case["times"]
        cases.append({**case, "text": text})
    return cases
