"""Delivery rates: how a lead's units' SMS fared in a period, and where to act.

Every figure is a link to the SMS messages overview with the matching filters already set, so a
lead who spots a failing unit or a stuck batch lands on exactly those messages.  The figures are
aggregated by ``sms_core.read_models.delivery_rates``; this page only draws them.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta
from urllib.parse import urlencode

import altair as alt
import pandas as pd
import streamlit as st

from pages._shared import current_actor, database, plain, runtime, show_refusal
from sms_core.domain.errors import SmsError
from sms_core.domain.permissions import Actor, Permission
from sms_core.domain.statuses import STATUS_LABELS, SmsStatus
from sms_core.read_models.delivery_rates import (
    PRESETS,
    STUCK,
    UNIT_COUNTS,
    DeliveryReport,
    Headline,
    Period,
    UnitFigures,
    delivery_report,
    utc_today,
)
from sms_core.use_cases.accounts import units_of

OVERVIEW_PAGE = "pages/overview.py"
OVERVIEW_PATH = "/sms-messages"
# One colour per status, in the statuses' own order: green arrived, reds failed, grey, blues and
# purple still wait, oranges were stopped before sending.
STATUS_COLOURS = [
    "#9e9e9e",
    "#64b5f6",
    "#e53935",
    "#2e7d32",
    "#fb8c00",
    "#b71c1c",
    "#ffb74d",
    "#7e57c2",
    "#f57c00",
    "#ef6c00",
    "#1e88e5",
]


def overview_params(
    statuses: Iterable[SmsStatus], unit_ids: Iterable[int], period: Period, actor: Actor
) -> dict[str, list[str]]:
    """The overview's URL filters for these statuses, units and days (see the overview page)."""
    units = sorted(unit_ids)
    unit = ["all"] if len(units) > 1 and set(units) == set(actor.org_unit_ids) else [str(u) for u in units]
    return {
        "status": [s.label for s in sorted(statuses)],
        "unit": unit,
        "from": [period.first.isoformat()],
        "to": [period.last.isoformat()],
    }


def overview_url(params: dict[str, list[str]]) -> str:
    """The same filters as a plain link, for sharing or opening in a new tab."""
    return f"{OVERVIEW_PATH}?{urlencode(params, doseq=True)}"


def link(label: str, params: dict[str, list[str]], actor: Actor, icon: str | None = None) -> None:
    """A click-through to the overview; plain text for someone who may not open the overview."""
    if actor.can(Permission.VIEW_SMS):
        st.page_link(OVERVIEW_PAGE, label=label, icon=icon, query_params=params, help=overview_url(params))
    else:
        st.markdown(label)


def choose_scope(actor: Actor) -> tuple[Period, list[int]]:
    """The period and org units to report on; stops the page until both are chosen."""
    today = utc_today()
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
        f"({previous.first:%d %b} – {previous.last:%d %b %Y}). Days are UTC calendar days (00:00–24:00 UTC)."
    )
    return period, chosen


def _format(value: float | None, is_share: bool) -> str:
    if value is None:
        return "–"
    return f"{value:.1%}" if is_share else f"{value:,.0f}"


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
                _format(headline.value, headline.is_share),
                _change(headline),
                delta_color="normal" if headline.higher_is_better else "inverse",
                help=headline.help,
                border=True,
            )
            params = overview_params(headline.statuses, report.org_unit_ids, report.period, actor)
            link("Show messages", params, actor, icon=":material/list:")


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
        overview_params(STUCK, report.org_unit_ids, report.period, actor),
        actor,
        icon=":material/replay:",
    )


_LEGEND = alt.Legend(orient="bottom", columns=2, labelLimit=240)


def _share_axis(title: str) -> dict:
    return {"title": title, "axis": alt.Axis(format="%"), "scale": alt.Scale(domain=[0, 1])}


def _status_scale() -> alt.Scale:
    return alt.Scale(domain=list(STATUS_LABELS), range=STATUS_COLOURS)


def volume_chart(report: DeliveryReport) -> alt.Chart:
    data = pd.DataFrame(
        [{"day": r.day.isoformat(), "status": r.status.label, "messages": r.count} for r in report.daily],
        columns=["day", "status", "messages"],
    )
    return (
        alt.Chart(data)
        .mark_bar()
        .encode(
            x=alt.X("utcyearmonthdate(day):T", title="Day (UTC)"),
            y=alt.Y("sum(messages):Q", title="Messages"),
            color=alt.Color("status:N", title="SMS status", scale=_status_scale(), legend=_LEGEND),
            tooltip=[alt.Tooltip("utcyearmonthdate(day):T", title="Day"), "status:N", "messages:Q"],
        )
    )


def share_chart(report: DeliveryReport) -> alt.Chart:
    rows = [
        {"day": d.day.isoformat(), "delivered share": d.share, "delivered": d.delivered, "with a final status": d.final}
        for d in report.daily_shares()
    ]
    data = pd.DataFrame(rows, columns=["day", "delivered share", "delivered", "with a final status"])
    return (
        alt.Chart(data)
        .mark_line(point=True, color="#2e7d32")
        .encode(
            x=alt.X("utcyearmonthdate(day):T", title="Day (UTC)"),
            y=alt.Y("delivered share:Q", **_share_axis("Delivered share")),
            tooltip=[
                alt.Tooltip("utcyearmonthdate(day):T", title="Day"),
                alt.Tooltip("delivered share:Q", format=".1%"),
                "delivered:Q",
                "with a final status:Q",
            ],
        )
    )


def show_daily(report: DeliveryReport) -> None:
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
            params = overview_params({status}, report.org_unit_ids, report.period, actor)
            link(f"{status.label}: **{n:,}**", params, actor)


def _worst_first(units: list[UnitFigures]) -> list[UnitFigures]:
    """Lowest delivered share first; units the gateway has not answered for yet go last."""
    return sorted(units, key=lambda u: (u.figures.delivered_share is None, u.figures.delivered_share or 0, u.name))


def units_chart(units: list[UnitFigures]) -> alt.Chart:
    data = pd.DataFrame(
        [
            {
                "unit": u.name,
                "delivered share": u.figures.delivered_share,
                "sent": u.figures.sent,
                "label": f"{_format(u.figures.delivered_share, True)} of {u.figures.final:,} · {u.figures.sent:,} sent",
            }
            for u in units
        ],
        columns=["unit", "delivered share", "sent", "label"],
    )  # no dots in field names: Vega-Lite reads "a.b" as a nested field
    order = [u.name for u in units]
    bars = alt.Chart(data).encode(
        y=alt.Y("unit:N", sort=order, title=None),
        x=alt.X("delivered share:Q", **_share_axis("Delivered share")),
        tooltip=[
            alt.Tooltip("unit:N", title="Org. unit"),
            alt.Tooltip("delivered share:Q", format=".1%"),
            alt.Tooltip("sent:Q", title="messages sent"),
        ],
    )
    labels = bars.mark_text(align="right", dx=-6, color="white").encode(text="label:N")
    return bars.mark_bar(color="#2e7d32") + labels


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
                link(f"{value:,}", overview_params(statuses, [unit.org_unit_id], report.period, actor), actor)


def reasons_chart(report: DeliveryReport) -> alt.Chart:
    data = pd.DataFrame(
        [{"reason": r.reason, "status": r.status.label, "messages": r.count} for r in report.reasons],
        columns=["reason", "status", "messages"],
    )
    return (
        alt.Chart(data)
        .mark_bar()
        .encode(
            y=alt.Y("reason:N", sort="-x", title=None, axis=alt.Axis(labelLimit=360)),
            x=alt.X("messages:Q", title="Messages"),
            color=alt.Color("status:N", scale=_status_scale(), legend=None),
            tooltip=["status:N", "reason:N", "messages:Q"],
        )
    )


def show_reasons(report: DeliveryReport, actor: Actor) -> None:
    st.subheader("Top reasons for failures and refusals")
    if not report.reasons:
        st.caption("No failures or refusals in this period.")
        return
    chart, links = st.columns([3, 2])
    chart.altair_chart(reasons_chart(report), width="stretch")
    with links:
        for reason in report.reasons:
            params = overview_params({reason.status}, report.org_unit_ids, report.period, actor)
            link(f"**{reason.count:,}** · {plain(reason.reason)}", params, actor)


actor = current_actor()
st.title("Delivery rates")
period, unit_ids = choose_scope(actor)
try:
    report = delivery_report(
        database(), actor, period, unit_ids, status_check_timeout=runtime().config.status_check_timeout
    )
except SmsError as exc:
    show_refusal(exc)
    st.stop()
show_headlines(report, actor)
show_stuck(report, actor)
show_daily(report)
show_statuses(report, actor)
show_units(report, actor)
show_reasons(report, actor)
