"""The delivery-rates page's time to delivery: median and 95th percentile against the period
before, per org. unit, the five-group distribution and the trend by day.

The figures are read from the histogram roll-up's buckets (``sms_core.domain.delivery_times``),
and the page says so and to what precision, so nobody takes "1 min 4 s" for a stopwatch reading.
"""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from sms_core.domain.delivery_times import DeliveryTimes, describe_seconds
from sms_core.read_models.delivery_rates import DeliveryReport

PRECISION = (
    "Seconds from Sent on to Received in each message's history. Read from buckets: exact to the "
    "bucket it falls in — to the second under 10 s, within a quarter of the value above."
)


def _change(now: float | None, before: float | None) -> str | None:
    if now is None or before is None:
        return None
    sign = "+" if now >= before else "-"  # ASCII: st.metric reads a leading "-" as a fall (the arrow, the colour)
    return f"{sign}{describe_seconds(abs(now - before))}"


def show_time_to_delivery(report: DeliveryReport) -> None:
    st.subheader("Time to delivery")
    times = report.times
    if not times.current.received:
        st.caption("No message of this period has been received yet.")
        return
    median, p95, received = st.columns(3)
    for column, title, now, before in (
        (median, "Median time to delivery", times.current.median, times.previous.median),
        (p95, "95th percentile", times.current.p95, times.previous.p95),
    ):
        column.metric(
            title, describe_seconds(now), _change(now, before), delta_color="inverse", help=PRECISION, border=True
        )
    received.metric(
        "Received",
        f"{times.current.received:,}",
        times.current.received - times.previous.received if times.previous.received else None,
        help="Messages of this period with a Received time in their history.",
        border=True,
    )
    st.caption(PRECISION)
    groups, trend = st.columns(2)
    with groups:
        st.altair_chart(groups_chart(times.current, times.previous), width="stretch")
    with trend:
        st.altair_chart(trend_chart(report), width="stretch")
    _per_unit(report)


def groups_chart(current: DeliveryTimes, previous: DeliveryTimes) -> alt.Chart:
    rows = [
        {"group": label, "period": name, "share": n / times.received if times.received else 0, "messages": n}
        for name, times in (("This period", current), ("Period before", previous))
        for label, n in times.groups()
    ]
    order = [label for label, _ in current.groups()]
    data = pd.DataFrame(rows, columns=["group", "period", "share", "messages"])
    return (
        alt.Chart(data, title="Received within")
        .mark_bar()
        .encode(
            x=alt.X("group:N", sort=order, title=None, axis=alt.Axis(labelAngle=0)),
            xOffset=alt.XOffset("period:N", sort=["This period", "Period before"]),
            y=alt.Y("share:Q", title="Share of received", axis=alt.Axis(format="%")),
            color=alt.Color(
                "period:N",
                title=None,
                scale=alt.Scale(domain=["This period", "Period before"], range=["#1e88e5", "#bdbdbd"]),
                legend=alt.Legend(orient="bottom"),
            ),
            tooltip=["group:N", "period:N", alt.Tooltip("share:Q", format=".1%"), "messages:Q"],
        )
    )


def trend_chart(report: DeliveryReport) -> alt.Chart:
    rows = [
        {"day": day.isoformat(), "figure": name, "seconds": value, "as read": describe_seconds(value)}
        for day, times in report.times.daily.items()
        for name, value in (("Median", times.median), ("95th percentile", times.p95))
        if value is not None
    ]
    data = pd.DataFrame(rows, columns=["day", "figure", "seconds", "as read"])
    return (
        alt.Chart(data, title="By day")
        .mark_line(point=True)
        .encode(
            x=alt.X("utcyearmonthdate(day):T", title="Day"),
            y=alt.Y("seconds:Q", title="Seconds to delivery"),
            color=alt.Color(
                "figure:N",
                title=None,
                scale=alt.Scale(domain=["Median", "95th percentile"], range=["#1e88e5", "#fb8c00"]),
                legend=alt.Legend(orient="bottom"),
            ),
            tooltip=[alt.Tooltip("utcyearmonthdate(day):T", title="Day"), "figure:N", "as read:N"],
        )
    )


def _per_unit(report: DeliveryReport) -> None:
    rows = []
    for unit in report.units:
        times = report.times.units.get(unit.org_unit_id, DeliveryTimes({}))
        rows.append(
            {
                "Org. unit": unit.name,  # a table cell, not Markdown
                "Received": times.received,
                "Median": describe_seconds(times.median),
                "95th percentile": describe_seconds(times.p95),
            }
        )
    st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")
