"""The delivery-rates page's charts (Altair): messages and delivered share per day, the org.
units compared, and the top reasons for failures.  Kept apart from pages/delivery_rates.py so the
page reads as what it shows, top to bottom; each chart is built from the report alone.
"""

from __future__ import annotations

import altair as alt
import pandas as pd

from sms_core.domain.statuses import STATUS_LABELS
from sms_core.read_models.delivery_rates import DeliveryReport, UnitFigures

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


def format_figure(value: float | None, is_share: bool) -> str:
    if value is None:
        return "–"
    return f"{value:.1%}" if is_share else f"{value:,.0f}"


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
            x=alt.X("utcyearmonthdate(day):T", title="Day"),
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
            x=alt.X("utcyearmonthdate(day):T", title="Day"),
            y=alt.Y("delivered share:Q", **_share_axis("Delivered share")),
            tooltip=[
                alt.Tooltip("utcyearmonthdate(day):T", title="Day"),
                alt.Tooltip("delivered share:Q", format=".1%"),
                "delivered:Q",
                "with a final status:Q",
            ],
        )
    )


def units_chart(units: list[UnitFigures]) -> alt.Chart:
    data = pd.DataFrame(
        [
            {
                "unit": u.name,
                "delivered share": u.figures.delivered_share,
                "sent": u.figures.sent,
                "label": f"{format_figure(u.figures.delivered_share, True)} of {u.figures.final:,} · {u.figures.sent:,} sent",
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
