"""Cells of a CSV that people open in a spreadsheet: stored text must never run there.

Anyone who may send can store a text (or name a unit) such as ``=HYPERLINK("https://…","Click")``
or ``=cmd|' /C calc'!A0``; a spreadsheet that opens the export would evaluate it.  OWASP's
advice ("CSV Injection") is applied to every cell: one that starts like a formula gets a leading '.
"""

from __future__ import annotations

import re

# What a spreadsheet reads as the start of a formula (OWASP).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# A phone number as the overview shows it ("+47 415 55 123", "+1 650-253-0000"): only digits,
# spaces and hyphens after the +.  It starts like a formula, but holds no function, reference,
# string or "|" (DDE), so even a spreadsheet that evaluated it could run nothing; and with its
# spaces it is not a number either, so Excel and LibreOffice keep it as the text people recognise.
_SHOWN_PHONE = re.compile(r"\+[0-9][0-9 \-]*")


def spreadsheet_safe(cell: str) -> str:
    """A cell no spreadsheet evaluates: one starting like a formula gets a leading ' (OWASP)."""
    return f"'{cell}" if cell.startswith(_FORMULA_START) else cell


def phone_cell(shown: str) -> str:
    """The phone as the overview shows it; anything else stored there is neutralised like text."""
    return shown if _SHOWN_PHONE.fullmatch(shown) else spreadsheet_safe(shown)
