"""Process-wide objects: the configured gateway (and, for the simulated one, where its delivery
reports go).  Pages and the CLI get them here so one process shares one of each.
"""

from __future__ import annotations

from functools import lru_cache

from sms_core.gateways import Gateway, build_gateway
from sms_core.storage.database import Database, get_database
from sms_core.use_cases.message_lifecycle import apply_delivery_report


@lru_cache(maxsize=1)
def get_gateway() -> Gateway:
    return gateway_for(get_database())


def gateway_for(db: Database) -> Gateway:
    """The configured gateway; a simulated one reports straight into ``db``, like a webhook call."""
    gateway = build_gateway()
    if gateway.name == "simulated" and getattr(gateway, "report_sink", None) is None:
        gateway.report_sink = lambda message_id, token, kind, detail: apply_delivery_report(
            db, message_id, token, kind, detail
        )
    return gateway
