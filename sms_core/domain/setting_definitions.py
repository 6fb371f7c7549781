"""The catalogue of system-wide settings: what each one is, how it is typed in, and what it may be.

Settings are stored as text (one row a key, see ``use_cases.settings``); this catalogue is the one
place that knows a setting's kind, so that the service validates every write the same way, the
audit trail reads the same as the page, and a new setting is one entry here — its section decides
where the settings page shows it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sms_core.domain.errors import InvalidInput
from sms_core.domain.sms_text import validate_text

Kind = Literal["switch", "number", "text", "words", "time_zone"]


@dataclass(frozen=True)
class SettingDefinition:
    """One setting: ``default`` is the typed value an installation starts with."""

    key: str
    label: str
    help: str
    kind: Kind
    default: object
    section: str = "Sending"
    minimum: int | None = None  # numbers only
    maximum: int | None = None
    max_length: int = 400  # text and words: what the settings column holds
    check: Callable[[object], str | None] = field(default=lambda value: None)  # a further rule: the refusal

    def parse(self, stored: str) -> object:
        """The typed value of what is stored; a value no longer valid reads as the default."""
        try:
            return self.validate(_FROM_TEXT[self.kind](stored))
        except (InvalidInput, ValueError):
            return self.default

    def validate(self, value: object) -> object:
        """The value in its stored form, or InvalidInput naming what to change."""
        if self.kind == "switch":
            if not isinstance(value, bool):
                raise InvalidInput(f"{self.label} is either on or off.", field=self.key)
        elif self.kind == "number":
            value = _number(self, value)
        elif self.kind == "words":
            value = _words(value)
        elif self.kind == "time_zone":
            value = _time_zone(self, value)
        else:
            value = str(value).strip()
        if self.kind in ("text", "words") and len(self.serialise(value)) > self.max_length:
            raise InvalidInput(f"{self.label} can be at most {self.max_length} characters.", field=self.key)
        refusal = self.check(value)
        if refusal:
            raise InvalidInput(refusal, field=self.key)
        return value

    def serialise(self, value: object) -> str:
        if self.kind == "switch":
            return "true" if value else "false"
        if self.kind == "words":
            return ", ".join(value)  # type: ignore[arg-type]
        return str(value)

    def describe(self, value: object) -> str:
        """The value as the settings page and its history show it."""
        if self.kind == "switch":
            return "On" if value else "Off"
        if self.kind == "words":
            return ", ".join(value) or "(none)"  # type: ignore[arg-type]
        return str(value) if value != "" else "(empty)"


def _number(definition: SettingDefinition, value: object) -> int:
    try:
        number = int(str(value).strip())
    except ValueError:
        raise InvalidInput(f"{definition.label} must be a whole number.", field=definition.key) from None
    low, high = definition.minimum, definition.maximum
    if (low is not None and number < low) or (high is not None and number > high):
        raise InvalidInput(f"{definition.label} must be between {low:,} and {high:,}.", field=definition.key)
    return number


def _words(value: object) -> tuple[str, ...]:
    """Keywords typed as one line, separated by commas: trimmed, upper-cased, each once, in order."""
    items = value.split(",") if isinstance(value, str) else list(value)  # type: ignore[arg-type]
    words = [str(item).strip().upper() for item in items]
    return tuple(dict.fromkeys(word for word in words if word))


def _time_zone(definition: SettingDefinition, value: object) -> str:
    name = str(value).strip()
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInput(
            f"{name!r} is not a time zone name; use one such as Europe/Oslo.", field=definition.key
        ) from None
    return name


_FROM_TEXT: dict[str, Callable[[str], object]] = {
    "switch": lambda stored: stored == "true",
    "number": lambda stored: stored,
    "text": lambda stored: stored,
    "words": lambda stored: stored,
    "time_zone": lambda stored: stored,
}

SENDING_ENABLED = "sms_sending_enabled"
REQUIRE_CONSENT_FOR_UNKNOWN = "require_consent_for_unknown_numbers"
OPT_OUT_KEYWORDS = "opt_out_keywords"
OPT_IN_ENABLED = "opt_in_enabled"
OPT_IN_KEYWORDS = "opt_in_keywords"
OPT_OUT_CONFIRMATION = "opt_out_confirmation"
OPT_OUT_CONFIRMATION_TEXT = "opt_out_confirmation_text"
REPLY_DEFAULT_UNIT = "reply_default_unit"


def _sms_text_problem(value: object) -> str | None:
    try:
        validate_text(str(value))
    except InvalidInput as exc:
        return exc.message
    return None


ALERT_MAIL_TO = "alert_mail_to"


def _mail_addresses(value: object) -> str | None:
    """Addresses separated by commas, each of the form name@host."""
    bad = [a.strip() for a in str(value).split(",") if a.strip() and not _looks_like_address(a.strip())]
    return f"{bad[0]!r} is not an e-mail address (name@example.org)." if bad else None


def _looks_like_address(address: str) -> bool:
    name, at, host = address.rpartition("@")
    return bool(at and name and "." in host and not any(c.isspace() or c in '<>,;"' for c in address))


def mail_addresses(value: str) -> tuple[str, ...]:
    """The addresses of an ALERT_MAIL_TO value, each once."""
    return tuple(dict.fromkeys(a.strip() for a in value.split(",") if a.strip()))


ORGANISATION_TIME_ZONE = "organisation_time_zone"
RETENTION_MESSAGE_DAYS = "retention_message_days"
RETENTION_EVENT_DETAIL_DAYS = "retention_event_detail_days"
RETENTION_REPLY_DAYS = "retention_reply_days"
RETENTION_MAX_DAYS = 36_500  # a hundred years: "for ever" is 0
API_REQUESTS_PER_MINUTE = "api_requests_per_minute"

# In the order the settings page shows them, section by section.
DEFINITIONS: tuple[SettingDefinition, ...] = (
    SettingDefinition(
        SENDING_ENABLED,
        "SMS sending",
        "When off, no SMS goes to the gateway: new attempts are recorded as “Sending SMS is not allowed”.",
        "switch",
        True,
    ),
    SettingDefinition(
        REQUIRE_CONSENT_FOR_UNKNOWN,
        "Require consent for unknown numbers",
        "When on, a typed number that belongs to no contact is refused as “Consent is not registered”.",
        "switch",
        False,
    ),
    SettingDefinition(
        OPT_OUT_KEYWORDS,
        "Opt-out keywords",
        "A reply that is exactly one of these words (case and surrounding spaces ignored) withdraws "
        "consent for that number, with source “SMS reply”. Separate them with commas.",
        "words",
        ("STOPP", "STOP", "AVMELD", "UNSUBSCRIBE"),
        section="Replies",
    ),
    SettingDefinition(
        OPT_IN_ENABLED,
        "Opt-in by SMS reply",
        "When on, a reply that is exactly one of the opt-in keywords registers consent again for that number.",
        "switch",
        False,
        section="Replies",
    ),
    SettingDefinition(
        OPT_IN_KEYWORDS,
        "Opt-in keywords",
        "Used only while opt-in by SMS reply is on. Separate them with commas.",
        "words",
        ("START",),
        section="Replies",
    ),
    SettingDefinition(
        OPT_OUT_CONFIRMATION,
        "Confirm an opt-out by SMS",
        "When on, an opt-out is answered with the confirmation text below, sent and recorded as an "
        "ordinary message of the unit.",
        "switch",
        False,
        section="Replies",
    ),
    SettingDefinition(
        OPT_OUT_CONFIRMATION_TEXT,
        "Opt-out confirmation text",
        "What the confirmation SMS says.",
        "text",
        "You will receive no more SMS from us.",
        section="Replies",
        check=_sms_text_problem,
    ),
    SettingDefinition(
        REPLY_DEFAULT_UNIT,
        "Org. unit for other replies",
        "The code of the org. unit that gets replies from numbers no SMS was sent to. "
        "While empty (or not a unit's code), such replies are kept but shown to no one.",
        "text",
        "",
        section="Replies",
        max_length=40,
    ),
    SettingDefinition(
        ALERT_MAIL_TO,
        "Also e-mail alerts to",
        "Addresses (separated by commas) that get every alert mail, besides the unit's team leads.",
        "text",
        "",
        section="Alerts",
        check=_mail_addresses,
    ),
    SettingDefinition(
        ORGANISATION_TIME_ZONE,
        "Organisation's time zone",
        "Delivery rates count days from midnight to midnight in this zone. Changing it counts every "
        "message's day again, which takes about a minute at ten million messages.",
        "time_zone",
        "Europe/Oslo",
        section="Delivery rates",
    ),
    SettingDefinition(
        RETENTION_MESSAGE_DAYS,
        "Keep message texts and numbers (days)",
        "After this many days a message's text is replaced by “[removed after N days]”, its number is cut to "
        "the last two digits and its contact link is dropped. Status, org. unit, sent on, resent, segments and "
        "every count and delivery rate stay. 0 keeps them for ever.",
        "number",
        0,
        section="Retention",
        minimum=0,
        maximum=RETENTION_MAX_DAYS,
    ),
    SettingDefinition(
        RETENTION_EVENT_DETAIL_DAYS,
        "Keep status-event details (days)",
        "After this many days the details of each status change (the gateway's words) are removed; the "
        "statuses and their times stay. 0 keeps them for ever.",
        "number",
        0,
        section="Retention",
        minimum=0,
        maximum=RETENTION_MAX_DAYS,
    ),
    SettingDefinition(
        RETENTION_REPLY_DAYS,
        "Keep replies (days)",
        "After this many days a reply's text is replaced by “[removed after N days]”, the sender's number is "
        "cut to the last two digits and its contact link is dropped. The message it answers, its org. unit, "
        "when it came and whether it opted out stay, and so do the opt-out counts. 0 keeps them for ever.",
        "number",
        0,
        section="Retention",
        minimum=0,
        maximum=RETENTION_MAX_DAYS,
    ),
    SettingDefinition(
        API_REQUESTS_PER_MINUTE,
        "API requests per minute, per key",
        "Each API key may make this many requests a minute (in each process that serves the API); "
        "more are answered 429 with Retry-After.",
        "number",
        6000,
        section="HTTP API",
        minimum=1,
        maximum=1_000_000,
    ),
)

BY_KEY: dict[str, SettingDefinition] = {d.key: d for d in DEFINITIONS}
