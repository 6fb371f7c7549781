"""Settings from environment variables, read once.

Every default makes the embedded mode work on a fresh machine: SQLite under ``data/``, the
simulated gateway and the worker running inside the app process.  The README lists each variable.
A value that cannot be used raises ConfigurationError with a sentence naming the variable, so the
CLI and the app can say it in one line.
"""

from __future__ import annotations

import ipaddress
import os
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlsplit

from sms_core.domain.errors import ConfigurationError
from sms_core.domain.phones import DEFAULT_REGION
from sms_core.domain.segments import CHARS_PER_SMS, UNICODE_CHARS_PER_SMS
from sms_core.domain.statuses import STATUS_CHECK_SECONDS

REPORT_MAX_AGE = 7 * 24 * 3600.0  # how long after the status-check window a delivery report still counts

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
    demo_mode: bool = False  # the sidebar user picker instead of sign-in; only when asked for
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
    report_max_age: float = REPORT_MAX_AGE  # seconds beyond the status-check window
    submit_lease: float = 60.0  # a message claimed longer ago than this was abandoned by a crash
    simulated_latency: float = 1.5
    simulated_rejected_share: float = 0.04
    simulated_failed_share: float = 0.04
    simulated_no_report_share: float = 0.04
    simulated_undelivered_share: float = 0.03
    simulated_reply_share: float = 0.05  # of the delivered messages: answered (now and then with STOP)
    incoming_secret: str = field(default="", repr=False)  # in the incoming-SMS URL; empty: the route refuses all
    # Addresses (or networks) the incoming-SMS route takes calls from: Kannel's smsbox, by default on this host.
    incoming_allowed: tuple[str, ...] = ("127.0.0.1", "::1")
    alert_interval: float = 60.0  # seconds between evaluations of the alert rules
    public_url: str = "http://localhost:8501"  # the app as people open it: the links in alert mails
    smtp_host: str = ""  # no host: alert mails wait in the outbox
    smtp_port: int = 25
    smtp_starttls: bool = False
    smtp_username: str = ""
    smtp_password: str = field(default="", repr=False)
    smtp_from: str = "sms-alerts@localhost"
    smtp_timeout: float = 10.0

    @property
    def report_deadline(self) -> float:
        """Seconds after submission until which a delivery report still counts: the status-check
        window and the margin after it (a late "delivered" still makes a timed-out SMS Received)."""
        return self.status_check_timeout + self.report_max_age


_SECRET_QUERY = re.compile(r"([?&;][^=&#]*(?:pass|pwd|secret|token|key)[^=&#]*=)[^&#]*", re.IGNORECASE)
_UNSAFE = re.compile(r"[\x00-\x20\x7f]")  # what http.client refuses in a request line


def redact_url(url: str) -> str:
    """``url`` fit to print: the password of ``user:password@`` and the values of query parameters
    named like a secret (password, token, key …) become ``***``.  Never raises, whatever ``url``
    is, since it is used to report URLs that could not be parsed."""
    scheme, sep, rest = url.partition("://") if "://" in url.partition("?")[0] else ("", "", url)
    end = min((i for i in (rest.find("?"), rest.find("#")) if i >= 0), default=len(rest))
    head, tail = rest[:end], _SECRET_QUERY.sub(r"\1***", rest[end:])
    userinfo, at, host = head.rpartition("@")
    if at and ":" in userinfo:
        head = f"{userinfo.partition(':')[0]}:***@{host}"
    return f"{scheme}{sep}{head}{tail}"


def check_http_url(name: str, url: str) -> str:
    """``url`` if an HTTP client can use it as it is; otherwise ConfigurationError, in one sentence
    that shows the URL redacted (a gateway URL often carries its password)."""
    shown = redact_url(url)
    if not url.lower().startswith(("http://", "https://")):
        raise ConfigurationError(f"Environment variable {name} must be an http:// or https:// URL, not {shown!r}.")
    if _UNSAFE.search(url):
        raise ConfigurationError(
            f"Environment variable {name} must not contain spaces or control characters "
            f"(write a space as %20), as {shown!r} does."
        )
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - reading it is the check
    except ValueError:
        raise ConfigurationError(
            f"Environment variable {name} must have a port number from 0 to 65535 after the host, not {shown!r}."
        ) from None
    try:
        parts.hostname.encode("idna")  # what connecting does with it: "kannel..local" fails there
    except (AttributeError, UnicodeError):
        raise ConfigurationError(
            f"Environment variable {name} must name a valid host, as {shown!r} does not."
        ) from None
    return url


def _networks(name: str, default: tuple[str, ...]) -> tuple[str, ...]:
    """Comma-separated IP addresses or networks (``10.0.0.0/24``), each checked now."""
    raw = [item.strip() for item in os.environ.get(name, "").split(",") if item.strip()]
    for item in raw:
        try:
            ipaddress.ip_network(item, strict=False)
        except ValueError:
            raise ConfigurationError(
                f"Environment variable {name} must list IP addresses or networks separated by commas; "
                f"{item!r} is neither."
            ) from None
    return tuple(raw) or default


def _url(name: str, default: str = "") -> str:
    raw = os.environ.get(name, "").strip()
    return check_http_url(name, raw) if raw else default


def load_config() -> Config:
    """Build a Config from the environment now (tests call this after setting variables)."""
    return Config(
        database_url=os.environ.get("DATABASE_URL", "").strip() or DEFAULT_DATABASE_URL,
        default_region=(os.environ.get("SMS_DEFAULT_REGION", "").strip() or DEFAULT_REGION).upper(),
        chars_per_sms=_int("SMS_CHARS_PER_SMS", CHARS_PER_SMS),
        unicode_chars_per_sms=_int("SMS_UNICODE_CHARS_PER_SMS", UNICODE_CHARS_PER_SMS),
        gateway=os.environ.get("SMS_GATEWAY", "").strip().lower() or "simulated",
        demo_mode=_bool("SMS_DEMO_MODE", False),
        demo_user=os.environ.get("SMS_DEMO_USER", "").strip() or "staff",
        status_check_timeout=_float("SMS_STATUS_CHECK_TIMEOUT", STATUS_CHECK_SECONDS),
        embedded_worker=_bool("SMS_EMBEDDED_WORKER", True),
        demo_traffic=_float("SMS_DEMO_TRAFFIC", 0.0),
        webhook_port=_port("SMS_WEBHOOK_PORT", 8502),
        webhook_address=os.environ.get("SMS_WEBHOOK_ADDRESS", "").strip() or Config.webhook_address,
        public_webhook_url=_url("SMS_PUBLIC_WEBHOOK_URL"),
        kannel_sendsms_url=_url("KANNEL_SENDSMS_URL", Config.kannel_sendsms_url),
        kannel_username=os.environ.get("KANNEL_USERNAME", ""),
        kannel_password=os.environ.get("KANNEL_PASSWORD", ""),
        kannel_timeout=_float("KANNEL_TIMEOUT", 10.0),
        report_max_age=_float("SMS_REPORT_MAX_AGE", REPORT_MAX_AGE),
        submit_lease=_float("SMS_SUBMIT_LEASE", 60.0),
        simulated_latency=_float("SMS_SIMULATED_LATENCY", 1.5),
        simulated_rejected_share=_float("SMS_SIMULATED_REJECTED_SHARE", 0.04),
        simulated_failed_share=_float("SMS_SIMULATED_FAILED_SHARE", 0.04),
        simulated_no_report_share=_float("SMS_SIMULATED_NO_REPORT_SHARE", 0.04),
        simulated_undelivered_share=_float("SMS_SIMULATED_UNDELIVERED_SHARE", 0.03),
        simulated_reply_share=_float("SMS_SIMULATED_REPLY_SHARE", 0.05),
        incoming_secret=os.environ.get("SMS_INCOMING_SECRET", "").strip(),
        incoming_allowed=_networks("SMS_INCOMING_ALLOWED_ADDRESSES", Config.incoming_allowed),
        alert_interval=_float("SMS_ALERT_INTERVAL", 60.0),
        public_url=_url("SMS_PUBLIC_URL", Config.public_url).rstrip("/"),
        smtp_host=os.environ.get("SMTP_HOST", "").strip(),
        smtp_port=_port("SMTP_PORT", 25),
        smtp_starttls=_bool("SMTP_STARTTLS", False),
        smtp_username=os.environ.get("SMTP_USERNAME", ""),
        smtp_password=os.environ.get("SMTP_PASSWORD", ""),
        smtp_from=os.environ.get("SMTP_FROM", "").strip() or Config.smtp_from,
        smtp_timeout=_float("SMTP_TIMEOUT", 10.0),
    )


DEFAULTS = Config()  # what a service uses when its caller passes no configuration: the embedded mode


@lru_cache(maxsize=1)
def get_config() -> Config:
    """The process-wide configuration, read once from the environment."""
    return load_config()
