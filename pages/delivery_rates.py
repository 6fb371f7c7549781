"""Delivery rates: how a lead's units' SMS fared in a period, and where to act.

Every figure is a link to the SMS messages overview with the matching filters already set, so a
lead who spots a failing unit or a stuck batch lands on exactly those messages.  The figures are
aggregated by ``sms_core.read_models.delivery_rates``; this page only draws them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import timedelta

import streamlit as st

from pages._alerts_banner import alert_banner
from pages._delivery_rates_breakdowns import show_breakdowns
from pages._delivery_rates_charts import format_figure, reasons_chart, share_chart, units_chart, volume_chart
from pages._delivery_rates_opt_outs import show_opt_outs
from pages._delivery_rates_times import show_time_to_delivery
from pages._links import overview_link
from pages._shared import current_actor, database, plain, runtime, show_refusal
from sms_core.domain.errors import SmsError
from sms_core.domain.permissions import Actor, Permission
from sms_core.domain.statuses import SmsStatus
from sms_core.read_models.delivery_rates import (
    PRESETS,
    STUCK,
    UNIT_COUNTS,
    DeliveryReport,
    FailureReason,
    Headline,
    Period,
    UnitFigures,
    delivery_report,
    organisation_today,
)
from sms_core.read_models.overview import OverviewFilter
from sms_core.read_models.overview_link import ERROR_LENGTH, link_url
from sms_core.use_cases.accounts import units_of


def these_messages(
    statuses: Iterable[SmsStatus], unit_ids: Iterable[int], period: Period, actor: Actor
) -> OverviewFilter:
    """The overview's filter for these statuses, units and days; all of a lead's units read as
    "all my units", so the link says so."""
    units = frozenset(unit_ids)
    everything = len(units) > 1 and units == actor.org_unit_ids
    return OverviewFilter(
        statuses=frozenset(statuses),
        org_unit_ids=None if everything else units,
        sent_from=period.first,
        sent_to=period.last,
    )


def link(label: str, f: OverviewFilter, actor: Actor, icon: str | None = None) -> None:
    """A click-through to the overview; plain text for someone who may not open the overview.
    The link's address is its tooltip, for sharing or opening in a new tab — but not when it
    carries a gateway's words (a reason's error): a tooltip reads Markdown, and stored text is
    never put into Markdown, however encoded."""
    if actor.can(Permission.VIEW_SMS):
        address = plain(link_url(f)) if f.gateway_error is None else None
        overview_link(label, f, icon=icon, help=address)
    else:
        st.markdown(label)


def choose_scope(actor: Actor) -> tuple[Period, list[int]]:
    """The period and org units to report on; stops the page until both are chosen."""
    today = organisation_today(database())
    when, where = st.columns([2, 3])
    preset = when.segmented_control("Period", [*PRESETS, "Custom"], default="30 days", key="dr_period", required=True)
    if preset == "Custom":
        default = (today - timedelta(days=29), today)
        picked = when.date_input("From – to", value=default, max_value=today, key="dr_custom")
        if len(picked) < 2:
            st.info("Pick the last day of the period.", icon=":material/date_range:")
            st.stop()
        period = Period(*picked)
    else:
        period = Period.preset(preset, today)
    units = units_of(database(), actor)
    names = {u.id: u.name for u in units}
    chosen = where.multiselect(
        "Org. units", list(names), default=list(names), format_func=names.__getitem__, key="dr_units"
    )
    if not chosen:
        st.info("Choose at least one org. unit.", icon=":material/account_tree:")
        st.stop()
    previous = period.previous
    st.caption(
        f"{period.first:%d %b %Y} – {period.last:%d %b %Y}, compared with the {period.days} days before "
        f"({previous.first:%d %b} – {previous.last:%d %b %Y})."
    )
    return period, chosen


def _change(headline: Headline) -> str | int | None:
    if headline.change is None:
        return None
    return f"{headline.change * 100:+.1f} pp" if headline.is_share else int(headline.change)


def show_headlines(report: DeliveryReport, actor: Actor) -> None:
    columns = st.columns(len(report.headlines()))
    for column, headline in zip(columns, report.headlines(), strict=False):
        with column:
            st.metric(
                headline.title,
                format_figure(headline.value, headline.is_share),
                _change(headline),
                delta_color="normal" if headline.higher_is_better else "inverse",
                help=headline.help,
                border=True,
            )
            messages = these_messages(headline.statuses, report.org_unit_ids, report.period, actor)
            link("Show messages", messages, actor, icon=":material/list:")


def show_stuck(report: DeliveryReport, actor: Actor) -> None:
    if not report.stuck_total:
        st.caption("No message is stuck in Accepted or Timeout during status check.")
        return
    parts = ", ".join(f"{n:,} {s.label}" for s, n in sorted(report.stuck.items()))
    st.warning(
        f"**{report.stuck_total:,} messages are stuck** ({parts}) and can still be resent.",
        icon=":material/hourglass_bottom:",
    )
    link(
        "Review them in SMS messages",
        these_messages(STUCK, report.org_unit_ids, report.period, actor),
        actor,
        icon=":material/replay:",
    )


def show_daily(report: DeliveryReport) -> None:
    st.caption(
        f"Days run from midnight to midnight, {report.zone} time: the organisation's time zone "
        "(an administrator sets it under Settings)."
    )
    volume, share = st.columns(2)
    with volume:
        st.subheader("Messages per day")
        st.altair_chart(volume_chart(report), width="stretch")
    with share:
        st.subheader("Delivered share per day")
        st.altair_chart(share_chart(report), width="stretch")


def show_statuses(report: DeliveryReport, actor: Actor) -> None:
    st.subheader("By SMS status")
    counts = sorted(report.current.by_status.items())
    if not counts:
        st.caption("No messages in this period.")
        return
    with st.container(horizontal=True, gap="medium"):
        for status, n in counts:
            messages = these_messages({status}, report.org_unit_ids, report.period, actor)
            link(f"{status.label}: **{n:,}**", messages, actor)


def _worst_first(units: list[UnitFigures]) -> list[UnitFigures]:
    """Lowest delivered share first; units the gateway has not answered for yet go last."""
    return sorted(units, key=lambda u: (u.figures.delivered_share is None, u.figures.delivered_share or 0, u.name))


def show_units(report: DeliveryReport, actor: Actor) -> None:
    """Units compared; each figure opens that unit's messages in the overview."""
    st.subheader("Org. units")
    units = _worst_first(report.units)
    st.altair_chart(units_chart(units), width="stretch")
    st.caption("Delivered share of the messages with a final status, worst first.")
    widths = [3] + [1] * len(UNIT_COUNTS)
    for column, title in zip(st.columns(widths), ["Org. unit", *(title for title, _, _ in UNIT_COUNTS)], strict=False):
        column.markdown(f"**{title}**")
    for unit in units:
        cells = st.columns(widths)
        cells[0].markdown(plain(unit.name))
        for cell, (_, attribute, statuses) in zip(cells[1:], UNIT_COUNTS, strict=False):
            with cell:
                value = getattr(unit.figures, attribute)
                link(f"{value:,}", these_messages(statuses, [unit.org_unit_id], report.period, actor), actor)


def reason_messages(reason: FailureReason, report: DeliveryReport, actor: Actor) -> OverviewFilter:
    """The messages counted under this reason: its status and its gateway error.  A reason without
    an error counts its status's messages that carry none: pre-send refusals, which never do, so
    the status alone finds exactly them.  An error longer than a link carries falls back to the
    status too."""
    messages = these_messages({reason.status}, report.org_unit_ids, report.period, actor)
    if reason.error and len(reason.error) <= ERROR_LENGTH:
        return replace(messages, gateway_error=reason.error)
    return messages


def show_reasons(report: DeliveryReport, actor: Actor) -> None:
    st.subheader("Top reasons for failures and refusals")
    if not report.reasons:
        st.caption("No failures or refusals in this period.")
        return
    chart, links = st.columns([3, 2])
    chart.altair_chart(reasons_chart(report), width="stretch")
    with links:
        for reason in report.reasons:
            link(f"**{reason.count:,}** · {plain(reason.reason)}", reason_messages(reason, report, actor), actor)


actor = current_actor()
st.title("Delivery rates")
alert_banner(actor)
period, unit_ids = choose_scope(actor)
try:
    report = delivery_report(
        database(), actor, period, unit_ids, status_check_timeout=runtime().config.status_check_timeout
    )
except SmsError as exc:
    show_refusal(exc)
    st.stop()
show_headlines(report, actor)
show_opt_outs(actor, period, unit_ids)
show_stuck(report, actor)
show_daily(report)
show_time_to_delivery(report)
show_statuses(report, actor)
show_units(report, actor)
show_breakdowns(
    report,
    lambda label, f: link(label, f, actor),
    lambda statuses: these_messages(statuses, report.org_unit_ids, report.period, actor),
)
show_reasons(report, actor)
