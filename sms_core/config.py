"""Settings from environment variables, read once.

Every default makes the embedded mode work on a fresh machine: SQLite under ``data/``, the
simulated gateway and the worker running inside the app process.  The README lists each variable.
A value that cannot be used raises ConfigurationError with a sentence naming the variable, so the
CLI and the app can say it in one line.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from sms_core.domain.errors import ConfigurationError
from sms_core.domain.phones import DEFAULT_REGION
from sms_core.domain.segments import CHARS_PER_SMS, UNICODE_CHARS_PER_SMS
from sms_core.domain.statuses import STATUS_CHECK_SECONDS

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE_URL = f"sqlite:///{PROJECT_ROOT / 'data' / 'sms.db'}"


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError:
        raise ConfigurationError(f"Environment variable {name} must be a whole number, not {raw!r}.") from None


def _float(name: str, default: float) -> float:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        return float(raw)
    except ValueError:
        raise ConfigurationError(f"Environment variable {name} must be a number, not {raw!r}.") from None


def _port(name: str, default: int) -> int:
    port = _int(name, default)
    if not 0 <= port <= 65535:
        raise ConfigurationError(f"Environment variable {name} must be a port number (0 to 65535), not {port}.")
    return port


def _bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name, "").strip().lower()
    if not raw:
        return default
    return raw in {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class Config:
    database_url: str = DEFAULT_DATABASE_URL
    default_region: str = DEFAULT_REGION
    chars_per_sms: int = CHARS_PER_SMS
    unicode_chars_per_sms: int = UNICODE_CHARS_PER_SMS
    gateway: str = "simulated"
    demo_user: str = "staff"
    status_check_timeout: float = STATUS_CHECK_SECONDS
    embedded_worker: bool = True
    demo_traffic: float = 0.0  # seconds between automatic demo messages; 0 = off
    webhook_port: int = 8502  # the stand-alone worker's HTTP port
    webhook_address: str = "127.0.0.1"  # … and the address it binds to
    public_webhook_url: str = ""  # the delivery-report URL a gateway on another host must call
    kannel_sendsms_url: str = "http://127.0.0.1:13013/cgi-bin/sendsms"
    kannel_username: str = ""
    kannel_password: str = field(default="", repr=False)
    kannel_timeout: float = 10.0
    submit_lease: float = 60.0  # a message claimed longer ago than this was abandoned by a crash
    simulated_latency: float = 1.5
    simulated_rejected_share: float = 0.04
    simulated_failed_share: float = 0.04
    simulated_no_report_share: float = 0.04
    simulated_undelivered_share: float = 0.03


def _url(name: str) -> str:
    raw = os.environ.get(name, "").strip()
    if raw and not raw.lower().startswith(("http://", "https://")):
        raise ConfigurationError(f"Environment variable {name} must be an http:// or https:// URL, not {raw!r}.")
    return raw


def load_config() -> Config:
    """Build a Config from the environment now (tests call this after setting variables)."""
    return Config(
        database_url=os.environ.get("DATABASE_URL", "").strip() or DEFAULT_DATABASE_URL,
        default_region=(os.environ.get("SMS_DEFAULT_REGION", "").strip() or DEFAULT_REGION).upper(),
        chars_per_sms=_int("SMS_CHARS_PER_SMS", CHARS_PER_SMS),
        unicode_chars_per_sms=_int("SMS_UNICODE_CHARS_PER_SMS", UNICODE_CHARS_PER_SMS),
        gateway=os.environ.get("SMS_GATEWAY", "").strip().lower() or "simulated",
        demo_user=os.environ.get("SMS_DEMO_USER", "").strip() or "staff",
        status_check_timeout=_float("SMS_STATUS_CHECK_TIMEOUT", STATUS_CHECK_SECONDS),
        embedded_worker=_bool("SMS_EMBEDDED_WORKER", True),
        demo_traffic=_float("SMS_DEMO_TRAFFIC", 0.0),
        webhook_port=_port("SMS_WEBHOOK_PORT", 8502),
        webhook_address=os.environ.get("SMS_WEBHOOK_ADDRESS", "").strip() or Config.webhook_address,
        public_webhook_url=_url("SMS_PUBLIC_WEBHOOK_URL"),
        kannel_sendsms_url=os.environ.get("KANNEL_SENDSMS_URL", "").strip() or Config.kannel_sendsms_url,
        kannel_username=os.environ.get("KANNEL_USERNAME", ""),
        kannel_password=os.environ.get("KANNEL_PASSWORD", ""),
        kannel_timeout=_float("KANNEL_TIMEOUT", 10.0),
        submit_lease=_float("SMS_SUBMIT_LEASE", 60.0),
        simulated_latency=_float("SMS_SIMULATED_LATENCY", 1.5),
        simulated_rejected_share=_float("SMS_SIMULATED_REJECTED_SHARE", 0.04),
        simulated_failed_share=_float("SMS_SIMULATED_FAILED_SHARE", 0.04),
        simulated_no_report_share=_float("SMS_SIMULATED_NO_REPORT_SHARE", 0.04),
        simulated_undelivered_share=_float("SMS_SIMULATED_UNDELIVERED_SHARE", 0.03),
    )


DEFAULTS = Config()  # what a service uses when its caller passes no configuration: the embedded mode


@lru_cache(maxsize=1)
def get_config() -> Config:
    """The process-wide configuration, read once from the environment."""
    return load_config()
