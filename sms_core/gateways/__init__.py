"""SMS gateway adapters, one module each, all behind ``base.Gateway``."""

from __future__ import annotations

from sms_core.config import Config
from sms_core.domain.errors import ConfigurationError
from sms_core.gateways.base import (
    DeliveryReportKind,
    Gateway,
    GatewayReport,
    IncomingMessage,
    OutgoingSms,
    SubmitOutcome,
    SubmitResult,
    UnknownReply,
    UnknownReport,
)
from sms_core.gateways.kannel import KannelGateway
from sms_core.gateways.simulated import ReplySink, ReportSink, SimulatedGateway

__all__ = [
    "DeliveryReportKind",
    "Gateway",
    "GatewayReport",
    "IncomingMessage",
    "OutgoingSms",
    "SubmitOutcome",
    "SubmitResult",
    "UnknownReply",
    "UnknownReport",
    "build_gateway",
]


def build_gateway(
    config: Config,
    report_url: str | None = None,
    report_sink: ReportSink | None = None,
    reply_sink: ReplySink | None = None,
) -> Gateway:
    """The adapter SMS_GATEWAY names: a real one is told to call ``report_url`` with its delivery
    reports; the simulated one calls no URL and hands them to ``report_sink`` instead (and its
    replies to ``reply_sink``)."""
    if config.gateway == "simulated":
        return SimulatedGateway.from_config(config, report_sink=report_sink, reply_sink=reply_sink)
    if config.gateway == "kannel":
        return KannelGateway.from_config(config, report_url)
    raise ConfigurationError(f"SMS_GATEWAY={config.gateway!r} is not a gateway this app knows (simulated, kannel).")
