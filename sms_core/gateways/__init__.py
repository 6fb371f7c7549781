"""SMS gateway adapters, one module each, all behind ``base.Gateway``."""

from __future__ import annotations

from sms_core.config import Config, get_config
from sms_core.domain.errors import ConfigurationError
from sms_core.gateways.base import DeliveryReportKind, Gateway, OutgoingSms, SubmitOutcome, SubmitResult

__all__ = ["DeliveryReportKind", "Gateway", "OutgoingSms", "SubmitOutcome", "SubmitResult", "build_gateway"]


def build_gateway(config: Config | None = None) -> Gateway:
    """The adapter SMS_GATEWAY names, configured from the environment."""
    config = config or get_config()
    if config.gateway == "simulated":
        from sms_core.gateways.simulated import SimulatedGateway

        return SimulatedGateway.from_config(config)
    if config.gateway == "kannel":
        from sms_core.gateways.kannel import KannelGateway

        return KannelGateway.from_config(config)
    raise ConfigurationError(f"SMS_GATEWAY={config.gateway!r} is not a gateway this app knows (simulated, kannel).")
