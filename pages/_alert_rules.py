"""The Alerts page's rule editor, for administrators: each of their units' four rules in one form.

Values are bounded at the fields as the service bounds them; the service still checks each
rule (and the permission in that unit), and a refusal is shown at the rule it concerns.
"""

from __future__ import annotations

import streamlit as st

from pages._flash import flash, show_flash
from pages._shared import database, plain
from sms_core.domain.alert_rules import MESSAGES_RANGE, MINUTES_RANGE, PERCENT_RANGE, AlertRule, RuleKind
from sms_core.domain.errors import SmsError
from sms_core.domain.permissions import Actor
from sms_core.read_models.alerts import unit_rules
from sms_core.use_cases.accounts import units_of
from sms_core.use_cases.alert_rules import save_alert_rule

PLACE = "alert rules"


def _key(unit_id: int, kind: RuleKind, field: str) -> str:
    return f"alert_rule_{unit_id}_{kind.value}_{field}"


def _rule_fields(unit_id: int, rule: AlertRule) -> None:
    kind = rule.kind
    st.markdown(f"**{kind.label}**")
    st.toggle("Watch", value=rule.enabled, key=_key(unit_id, kind, "enabled"), help=rule.describe())
    if kind is RuleKind.UNREACHABLE:
        st.caption("Opens when the SMS gateway does not answer.")
        return
    st.number_input(
        "Minutes" if kind is RuleKind.FAILED_SHARE else "After minutes",
        *MINUTES_RANGE,
        value=rule.minutes,
        step=5,
        key=_key(unit_id, kind, "minutes"),
    )
    if kind is RuleKind.FAILED_SHARE:
        st.number_input(
            "Failed share above (%)", *PERCENT_RANGE, value=rule.percent, key=_key(unit_id, kind, "percent")
        )
        st.number_input(
            "At least messages", *MESSAGES_RANGE, value=rule.min_messages, key=_key(unit_id, kind, "min_messages")
        )


def _typed(unit_id: int, rule: AlertRule) -> AlertRule:
    value = lambda field, default: st.session_state.get(_key(unit_id, rule.kind, field), default)  # noqa: E731
    return AlertRule(
        rule.kind,
        bool(value("enabled", rule.enabled)),
        int(value("minutes", rule.minutes)),
        int(value("percent", rule.percent)),
        int(value("min_messages", rule.min_messages)),
    )


def _save(actor: Actor, unit_id: int, unit_name: str, rules: dict[RuleKind, AlertRule]) -> None:
    refused = []
    for rule in rules.values():
        try:
            save_alert_rule(database(), actor, unit_id, _typed(unit_id, rule))
        except SmsError as exc:
            refused.append(f"{rule.kind.label}: {exc.message}")
    if refused:
        flash("error", plain("Not saved — " + " ".join(refused)), place=PLACE)
    else:
        flash("success", plain(f"Saved the alert rules of {unit_name}; the next evaluation uses them."), place=PLACE)


def rule_editor(actor: Actor) -> None:
    st.subheader("Edit rules")
    units = {u.id: u.name for u in units_of(database(), actor)}
    if not units:
        st.caption("You are not associated with any org. unit.")
        return
    unit_id = st.selectbox("Org. unit", list(units), format_func=units.__getitem__, key="alert_rules_unit")
    rules = unit_rules(database(), actor, unit_id)
    show_flash(PLACE)
    with st.form(f"alert_rules_{unit_id}"):
        for column, rule in zip(st.columns(len(rules)), rules.values(), strict=True):
            with column:
                _rule_fields(unit_id, rule)
        st.form_submit_button(
            "Save rules", type="primary", on_click=_save, args=(actor, unit_id, units[unit_id], rules)
        )
