"""The delivery-rates page's breakdowns: delivery rates by sender and by standard text.

Each figure opens the overview with "Sent by" or "Standard text" set (and the period, units and
statuses of the figure), so a lead who sees one person's or one text's messages fail lands on
exactly those.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import streamlit as st

from pages._delivery_rates_charts import format_figure
from pages._shared import plain
from sms_core.read_models.breakdowns import Breakdown
from sms_core.read_models.delivery_rates import DELIVERED, FAILED, HANDED_TO_GATEWAY, DeliveryReport
from sms_core.read_models.overview import OverviewFilter

SHOWN = 10  # the most active senders and texts; the rest are in the overview
COUNTS = (("Sent", "sent", HANDED_TO_GATEWAY), ("Delivered", "delivered", DELIVERED), ("Failed", "failed", FAILED))


def show_breakdowns(report: DeliveryReport, link: Callable, messages: Callable) -> None:
    """``messages(statuses)`` is the overview's filter for this report; ``link(label, filter)`` draws one."""
    if report.breakdowns is None:
        return
    senders, texts = st.columns(2)
    with senders:
        st.subheader("By sender")
        _table(report.breakdowns.senders, "Sender", link, lambda row, s: _narrowed(messages(s), row, "sent_by_user_id"))
    with texts:
        st.subheader("By standard text")
        _table(
            report.breakdowns.standard_texts,
            "Standard text",
            link,
            lambda row, s: _narrowed(messages(s), row, "standard_text_id"),
        )
        st.caption(
            "A message counts under the standard text put in from the Send SMS dialog's Standard texts, "
            "even if it was edited afterwards; messages sent before this was recorded count as typed."
        )


def _narrowed(f: OverviewFilter, row: Breakdown, field: str) -> OverviewFilter | None:
    """The figure's messages of this sender or standard text.  Those without one cannot be asked
    for by the overview's filters ("Anyone" is everyone), so their figures are not links."""
    return None if row.key is None else replace(f, **{field: row.key})


def _table(rows: list[Breakdown], title: str, link: Callable | None, filter_for: Callable | None) -> None:
    if not rows:
        st.caption("No messages in this period.")
        return
    widths = [3, 1, 1, 1, 1]
    for column, heading in zip(st.columns(widths), [title, *(t for t, _, _ in COUNTS), "Delivered share"], strict=True):
        column.markdown(f"**{heading}**")
    for row in rows[:SHOWN]:
        cells = st.columns(widths)
        cells[0].markdown(plain(row.name))
        for cell, (_, attribute, statuses) in zip(cells[1:4], COUNTS, strict=True):
            value = f"{getattr(row.figures, attribute):,}"
            target = filter_for(row, statuses) if filter_for else None
            with cell:
                if link and target is not None:
                    link(value, target)
                else:
                    st.markdown(value)
        cells[4].markdown(format_figure(row.figures.delivered_share, True))
    if len(rows) > SHOWN:
        st.caption(f"The {SHOWN} with the most messages of {len(rows):,}.")
