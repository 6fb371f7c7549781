"""Links to the SMS messages overview showing "these messages", from the pages that point there.

The link's query parameters come from ``sms_core.read_models.overview_link``, the one place that
spells the overview's URL, so a link opens exactly the filter it was built from.
"""

from __future__ import annotations

import streamlit as st

from sms_core.read_models.overview import OverviewFilter
from sms_core.read_models.overview_link import link_params

OVERVIEW_PAGE = "pages/overview.py"


def overview_link(
    label: str,
    f: OverviewFilter,
    *,
    default: OverviewFilter | None = None,
    icon: str | None = None,
    help: str | None = None,
) -> None:
    """A link to the overview filtered by ``f`` (see ``link_params`` for ``default``)."""
    st.page_link(OVERVIEW_PAGE, label=label, icon=icon, query_params=link_params(f, default=default), help=help)
