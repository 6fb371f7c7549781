"""When figures are an incident, and how a rule and its figures are said, by table."""

import pytest

from sms_core.domain.alert_rules import DEFAULT_RULES, AlertRule, Figures, RuleKind, breached, summary
from sms_core.domain.errors import InvalidInput
from sms_core.domain.setting_definitions import ALERT_MAIL_TO, BY_KEY, mail_addresses

SPIKE = DEFAULT_RULES[RuleKind.FAILED_SHARE]  # 30 minutes, above 10 %, at least 20 messages


@pytest.mark.parametrize(
    ("rule", "figures", "incident"),
    [
        (SPIKE, Figures(20, 3), True),  # 15 %
        (SPIKE, Figures(20, 2), False),  # exactly 10 %: not above
        (SPIKE, Figures(19, 19), False),  # too few messages to tell
        (SPIKE, Figures(0, 0), False),
        (AlertRule(RuleKind.FAILED_SHARE, enabled=False), Figures(100, 100), False),
        (DEFAULT_RULES[RuleKind.STUCK], Figures(1, 1), True),
        (DEFAULT_RULES[RuleKind.STUCK], Figures(0, 0), False),
        (DEFAULT_RULES[RuleKind.SILENT], Figures(4, 4), True),  # no accepted message has had a report
        (DEFAULT_RULES[RuleKind.SILENT], Figures(4, 3), False),  # one report: the gateway speaks
        (DEFAULT_RULES[RuleKind.SILENT], Figures(0, 0), False),  # nothing sent: nothing to hear
        (DEFAULT_RULES[RuleKind.UNREACHABLE], Figures(problem="Connection refused"), True),
        (DEFAULT_RULES[RuleKind.UNREACHABLE], Figures(), False),
    ],
)
def test_breached(rule, figures, incident):
    assert breached(rule, figures) is incident


def test_the_figures_in_one_sentence():
    assert summary(SPIKE, Figures(40, 12)) == (
        "12 of 40 messages of the last 30 minutes failed (30 %; the rule allows 10 %)."
    )
    assert summary(DEFAULT_RULES[RuleKind.SILENT], Figures(3, 3)) == (
        "No delivery report for 15 minutes: 3 accepted messages are waiting for one."
    )
    assert SPIKE.describe() == "More than 10 % of the messages of the last 30 minutes failed (at least 20 messages)."


@pytest.mark.parametrize(
    ("rule", "field"),
    [
        (AlertRule(RuleKind.FAILED_SHARE, minutes=4), "minutes"),
        (AlertRule(RuleKind.FAILED_SHARE, percent=101), "percent"),
        (AlertRule(RuleKind.FAILED_SHARE, min_messages=0), "min_messages"),
        (AlertRule(RuleKind.STUCK, minutes=24 * 60 + 1), "minutes"),
    ],
)
def test_a_rule_out_of_range_names_its_field(rule, field):
    with pytest.raises(InvalidInput) as refused:
        rule.validated()
    assert refused.value.field == field


def test_the_unreachable_rule_has_no_figures_to_check():
    assert AlertRule(RuleKind.UNREACHABLE, minutes=0).validated().kind is RuleKind.UNREACHABLE


def test_the_alert_address_setting_takes_addresses_separated_by_commas():
    definition = BY_KEY[ALERT_MAIL_TO]
    assert definition.validate(" oncall@example.org, lead@example.no ") == "oncall@example.org, lead@example.no"
    assert definition.validate("") == ""
    with pytest.raises(InvalidInput, match="'oncall' is not an e-mail address"):
        definition.validate("lead@example.no, oncall")
    assert mail_addresses("a@example.org, a@example.org ,, b@example.org") == ("a@example.org", "b@example.org")
