"""What a user's and an org unit's fields may hold, with a sentence naming the field to fix.

Shared by the administration page, the command line and the contact import, so that all three
refuse the same input in the same words."""

from __future__ import annotations

import re

from sms_core.domain.errors import InvalidInput

NAME_MAX = 200
EMAIL_MAX = 200
CODE_MAX = 40
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")
_CODE = re.compile(r"^[A-Z0-9][A-Z0-9_-]*$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def clean_name(value: str | None, field: str = "name", what: str = "the name") -> str:
    name = " ".join((value or "").split())
    if not name:
        raise InvalidInput(f"Enter {what}.", field=field)
    if len(name) > NAME_MAX:
        raise InvalidInput(f"{what.capitalize()} can have at most {NAME_MAX} characters.", field=field)
    if _CONTROL.search(name):
        raise InvalidInput(f"{what.capitalize()} contains control characters; type it again.", field=field)
    return name


def clean_email(value: str | None, required: bool = True, field: str = "email") -> str | None:
    """E-mail addresses are compared and stored in lower case: sign-in matches them that way."""
    email = (value or "").strip().lower()
    if not email:
        if required:
            raise InvalidInput("Enter the e-mail address.", field=field)
        return None
    if len(email) > EMAIL_MAX or not _EMAIL.match(email) or _CONTROL.search(email):
        raise InvalidInput(f"{value.strip()!r} is not an e-mail address (name@example.org).", field=field)
    return email


def clean_code(value: str | None) -> str:
    """Org unit codes are stored in upper case, so OSL and osl are one code."""
    code = (value or "").strip().upper()
    if not code:
        raise InvalidInput("Enter the org. unit's code (for example OSL).", field="code")
    if len(code) > CODE_MAX or not _CODE.match(code):
        raise InvalidInput(
            f"The code may hold letters A–Z, digits, - and _ (at most {CODE_MAX}), starting with a letter or digit.",
            field="code",
        )
    return code
