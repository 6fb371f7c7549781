"""Alert rules: what each one watches, its defaults and limits, and when its figures are a breach.

Plain code, so the worker's evaluation, the rule editor and the tests agree on one reading of a
rule.  The figures come from the database (``use_cases.alerting``); deciding whether they are an
incident, and saying so in one sentence a team lead can act on, happens here.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from sms_core.domain.errors import InvalidInput
from sms_core.domain.statuses import SmsStatus

# A message still waiting after T minutes counts as stuck only if it was sent within this many
# hours: a queue that stopped moving shows in the newest messages, and the lookback keeps the
# query to a bounded slice of the unit's status index however long the history.
STUCK_LOOKBACK_HOURS = 24
# Delivery reports usually arrive within seconds; a message younger than this has not yet had
# the chance, so it does not make a gateway look silent.
SILENT_GRACE_MINUTES = 2
# An incident resolves only after this many evaluations in a row found the rule no longer holding
# (three minutes at the worker's pace): figures near a limit waver from minute to minute, and each
# wobble would otherwise resolve the incident and open a new one, with a mail each time.
CALM_EVALUATIONS = 3


class RuleKind(StrEnum):
    FAILED_SHARE = "failed_share"
    STUCK = "stuck"
    SILENT = "silent"
    UNREACHABLE = "unreachable"

    @property
    def label(self) -> str:
        return _LABELS[self]

    @property
    def statuses(self) -> frozenset[SmsStatus]:
        """The SMS statuses of the messages an incident of this rule is about (its overview link)."""
        return _STATUSES[self]


_LABELS = {
    RuleKind.FAILED_SHARE: "Failure spike",
    RuleKind.STUCK: "Stuck messages",
    RuleKind.SILENT: "Gateway silent",
    RuleKind.UNREACHABLE: "Gateway unreachable",
}
_STATUSES = {
    RuleKind.FAILED_SHARE: frozenset({SmsStatus.SENDING_FAILED}),
    RuleKind.STUCK: frozenset({SmsStatus.UNKNOWN, SmsStatus.ACCEPTED, SmsStatus.RESENT}),
    RuleKind.SILENT: frozenset({SmsStatus.ACCEPTED, SmsStatus.RESENT, SmsStatus.STATUS_CHECK_TIMEOUT}),
    RuleKind.UNREACHABLE: frozenset({SmsStatus.UNKNOWN, SmsStatus.SENDING_FAILED}),
}
# "Failed": the gateway could not deliver it (Sending failed).  Rejected is left out: it is the
# gateway refusing one number, not delivery going wrong for everyone.
FAILED_STATUSES = frozenset({SmsStatus.SENDING_FAILED})
WAITING_STATUSES = frozenset({SmsStatus.UNKNOWN, SmsStatus.ACCEPTED, SmsStatus.RESENT})
ACCEPTED_STATUSES = frozenset({SmsStatus.ACCEPTED, SmsStatus.RESENT})

MINUTES_RANGE = (5, 24 * 60)
PERCENT_RANGE = (1, 100)
MESSAGES_RANGE = (1, 100_000)


@dataclass(frozen=True)
class AlertRule:
    """One rule of one org. unit; only the fields its kind uses matter."""

    kind: RuleKind
    enabled: bool = True
    minutes: int = 30  # the window (failure spike) or T (stuck, silent)
    percent: int = 10  # failure spike: the failed share above which it is an incident
    min_messages: int = 20  # failure spike: fewer messages in the window are no evidence

    def validated(self) -> AlertRule:
        if self.kind is not RuleKind.UNREACHABLE:
            _check("Minutes", self.minutes, MINUTES_RANGE, "minutes")
        if self.kind is RuleKind.FAILED_SHARE:
            _check("The failed share", self.percent, PERCENT_RANGE, "percent")
            _check("The least number of messages", self.min_messages, MESSAGES_RANGE, "min_messages")
        return self

    def describe(self) -> str:
        """The rule as one sentence, as the rule editor and the mails say it."""
        match self.kind:
            case RuleKind.FAILED_SHARE:
                return (
                    f"More than {self.percent} % of the messages of the last {self.minutes} minutes failed "
                    f"(at least {self.min_messages} messages)."
                )
            case RuleKind.STUCK:
                return f"Messages still Unknown or Accepted after {self.minutes} minutes."
            case RuleKind.SILENT:
                return f"No delivery report for {self.minutes} minutes while messages were accepted."
            case _:
                return "The SMS gateway does not answer."


def _check(what: str, value: int, bounds: tuple[int, int], field: str) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or not bounds[0] <= value <= bounds[1]:
        raise InvalidInput(f"{what} must be a whole number from {bounds[0]:,} to {bounds[1]:,}.", field=field)


DEFAULT_RULES: dict[RuleKind, AlertRule] = {
    RuleKind.FAILED_SHARE: AlertRule(RuleKind.FAILED_SHARE, minutes=30, percent=10, min_messages=20),
    RuleKind.STUCK: AlertRule(RuleKind.STUCK, minutes=15),
    RuleKind.SILENT: AlertRule(RuleKind.SILENT, minutes=15),
    RuleKind.UNREACHABLE: AlertRule(RuleKind.UNREACHABLE),
}


@dataclass(frozen=True)
class Figures:
    """What one evaluation measured for one rule and unit."""

    messages: int = 0  # the messages the rule looked at
    affected: int = 0  # failed / stuck / waiting for a report
    problem: str | None = None  # unreachable: the gateway's own words

    @property
    def share(self) -> float | None:
        return self.affected / self.messages if self.messages else None


def breached(rule: AlertRule, figures: Figures) -> bool:
    """Whether these figures are an incident under ``rule``."""
    if not rule.enabled:
        return False
    match rule.kind:
        case RuleKind.FAILED_SHARE:
            return figures.messages >= rule.min_messages and figures.affected * 100 > rule.percent * figures.messages
        case RuleKind.STUCK:
            return figures.affected > 0
        case RuleKind.SILENT:
            return figures.messages > 0 and figures.affected == figures.messages
        case _:
            return figures.problem is not None


def summary(rule: AlertRule, figures: Figures) -> str:
    """The figures in one sentence, for the banner, the Alerts page and the mails."""
    match rule.kind:
        case RuleKind.FAILED_SHARE:
            share = f"{(figures.share or 0) * 100:.0f} %"
            return (
                f"{figures.affected:,} of {figures.messages:,} messages of the last {rule.minutes} minutes "
                f"failed ({share}; the rule allows {rule.percent} %)."
            )
        case RuleKind.STUCK:
            return f"{figures.affected:,} messages are still Unknown or Accepted after {rule.minutes} minutes."
        case RuleKind.SILENT:
            return (
                f"No delivery report for {rule.minutes} minutes: {figures.messages:,} accepted messages "
                "are waiting for one."
            )
        case _:
            return f"The SMS gateway does not answer: {figures.problem}" if figures.problem else "The gateway answers."
