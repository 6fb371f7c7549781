"""Settings from environment variables, read once.

Every default makes the embedded mode work on a fresh machine: SQLite under ``data/``, the
simulated gateway and the worker running inside the app process.  The README lists each variable.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE_URL = f"sqlite:///{PROJECT_ROOT / 'data' / 'sms.db'}"


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError:
        raise SystemExit(f"Environment variable {name} must be a whole number, not {raw!r}.") from None


def _float(name: str, default: float) -> float:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        return float(raw)
    except ValueError:
        raise SystemExit(f"Environment variable {name} must be a number, not {raw!r}.") from None


def _bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name, "").strip().lower()
    if not raw:
        return default
    return raw in {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class Config:
    database_url: str = DEFAULT_DATABASE_URL
    default_region: str = "NO"
    chars_per_sms: int = 147
    unicode_chars_per_sms: int = 67
    gateway: str = "simulated"
    demo_user: str = "staff"
    status_check_timeout: float = 120.0
    embedded_worker: bool = True
    demo_traffic: float = 0.0  # seconds between automatic demo messages; 0 = off
    webhook_port: int = 8502
    public_webhook_url: str = ""
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


def load_config() -> Config:
    """Build a Config from the environment now (tests call this after setting variables)."""
    return Config(
        database_url=os.environ.get("DATABASE_URL", "").strip() or DEFAULT_DATABASE_URL,
        default_region=(os.environ.get("SMS_DEFAULT_REGION", "").strip() or "NO").upper(),
        chars_per_sms=_int("SMS_CHARS_PER_SMS", 147),
        unicode_chars_per_sms=_int("SMS_UNICODE_CHARS_PER_SMS", 67),
        gateway=os.environ.get("SMS_GATEWAY", "").strip().lower() or "simulated",
        demo_user=os.environ.get("SMS_DEMO_USER", "").strip() or "staff",
        status_check_timeout=_float("SMS_STATUS_CHECK_TIMEOUT", 120.0),
        embedded_worker=_bool("SMS_EMBEDDED_WORKER", True),
        demo_traffic=_float("SMS_DEMO_TRAFFIC", 0.0),
        webhook_port=_int("SMS_WEBHOOK_PORT", 8502),
        public_webhook_url=os.environ.get("SMS_PUBLIC_WEBHOOK_URL", "").strip(),
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


@lru_cache(maxsize=1)
def get_config() -> Config:
    """The process-wide configuration, read once from the environment."""
    return load_config()
