"""What an SMS text (and a standard text) may contain: the rules every caller's text passes.

A phone shows what it receives, so a text that would show as nothing, hide part of itself or
read differently from how it was typed is refused with a sentence saying what to remove — at
the page, the command line and any later caller alike, because they all come through here.
"""

from __future__ import annotations

import unicodedata

from sms_core.domain.errors import InvalidInput

MAX_TEXT = 1000  # in characters (code points), as the article says — not in what the network bills

# C0 controls except tab and newline (a carriage return is one too: the pages send newlines), DEL,
# and the C1 controls U+0080–U+009F, which no phone shows and which only arrive by pasting.
_CONTROL = frozenset(chr(c) for c in [*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), *range(0x7F, 0xA0)])
# Bidirectional embeddings, overrides and isolates: U+202E makes "moc.knab" show as "bank.com",
# so a text with them reads differently on the phone from how it was typed.  Refused rather than
# warned about: an SMS has no place for such markup, and the plain marks U+200E/U+200F stay allowed.
_DIRECTION = frozenset(chr(c) for c in [*range(0x202A, 0x202F), *range(0x2066, 0x206A)])


def _code_points(chars) -> str:
    return ", ".join(sorted({f"U+{ord(ch):04X}" for ch in chars}))


def lone_surrogates(text: str) -> str:
    """The code points that are not text at all: halves of a pair, or bytes that were not UTF-8
    (Python's surrogateescape turns the byte 0xFF of a command-line argument into U+DCFF)."""
    return _code_points(ch for ch in text if "\ud800" <= ch <= "\udfff")


def _looks_empty(text: str) -> bool:
    """Only whitespace and invisible format characters (zero-width space U+200B, joiner U+200D,
    word joiner U+2060, BOM U+FEFF, …): a phone would show an empty SMS."""
    return all(ch.isspace() or unicodedata.category(ch) == "Cf" for ch in text)


def validate_text(text: str | None) -> str:
    """The text as it will be stored and sent, or InvalidInput at the field "text"."""
    if text is not None and (broken := lone_surrogates(text)):
        raise InvalidInput(
            f"The SMS text contains bytes that are not valid text ({broken}); type or paste it again "
            "(on the command line, check that the terminal uses UTF-8).",
            field="text",
        )
    if text is None or not text.strip():
        raise InvalidInput("Write the SMS text.", field="text")
    if _looks_empty(text):
        raise InvalidInput(
            f"Write the SMS text: it holds only invisible characters ({_code_points(ch for ch in text if not ch.isspace())}), "
            "so the phone would show an empty SMS.",
            field="text",
        )
    if len(text) > MAX_TEXT:
        raise InvalidInput(f"The SMS text can have at most {MAX_TEXT} characters (it has {len(text)}).", field="text")
    if hidden := _code_points(ch for ch in text if ch in _CONTROL):
        raise InvalidInput(
            f"The SMS text contains invisible control characters ({hidden}) that a phone cannot show; "
            "remove them (they often come with pasted text).",
            field="text",
        )
    if turned := _code_points(ch for ch in text if ch in _DIRECTION):
        raise InvalidInput(
            f"The SMS text contains characters that change the reading direction ({turned}), so the phone "
            "would show it differently from how it was typed; remove them (they often come with pasted text).",
            field="text",
        )
    return text
