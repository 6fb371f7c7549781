"""Delivery rates: how many recipients opted out by SMS reply in the period, per org. unit.

A page part of its own, beside the rates (another part of the page changes often): one metric
and, when several units are chosen, which of them the opt-outs came from.
"""

from __future__ import annotations

import streamlit as st

from pages._shared import database
from sms_core.domain.permissions import Actor
from sms_core.read_models.delivery_rate_figures import Period
from sms_core.read_models.replies import opt_outs
from sms_core.use_cases.accounts import units_of


def show_opt_outs(actor: Actor, period: Period, unit_ids: list[int]) -> None:
    counted = opt_outs(database(), actor, period, unit_ids)
    names = {u.id: u.name for u in units_of(database(), actor)}
    with st.container(horizontal=True, vertical_alignment="center"):
        st.metric(
            "Opt-outs by SMS reply",
            f"{counted.count:,}",
            counted.count - counted.previous,
            delta_color="inverse",
            help="Replies that were only STOP (or another opt-out keyword): consent withdrawn for that number.",
            border=True,
            width=260,
        )
        if counted.per_unit and len(unit_ids) > 1:
            worst = sorted(counted.per_unit.items(), key=lambda item: (-item[1], names.get(item[0], "")))
            st.caption(" · ".join(f"{names.get(unit, unit)}: {n:,}" for unit, n in worst))
