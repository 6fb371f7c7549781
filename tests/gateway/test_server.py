"""The process `make run` starts: health endpoint, webhook route, embedded worker, demo traffic."""

import time
import urllib.error
import urllib.request

import pytest
from sqlalchemy import func, select

from sms_core.domain.statuses import SmsStatus
from sms_core.storage.models import SmsMessage


def http_get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


LIVELY = {
    "messages": 100,
    "SMS_DEMO_TRAFFIC": "0.3",
    "SMS_SIMULATED_LATENCY": "0.3",
    "SMS_SIMULATED_REJECTED_SHARE": "0",
    "SMS_SIMULATED_FAILED_SHARE": "0",
}


@pytest.mark.parametrize("live_app", [LIVELY], indirect=True)
def test_health_webhook_and_live_statuses(live_app):
    base, db = live_app.url, live_app.db
    assert http_get(f"{base}/_stcore/health") == (200, "ok")
    assert http_get(f"{base}/api/dlr?id=1&token=forged&type=delivered")[0] in (403, 404)
    deadline = time.monotonic() + 20
    received = 0
    while time.monotonic() < deadline and not received:
        time.sleep(0.5)
        with db.session() as s:
            received = s.scalar(
                select(func.count())
                .select_from(SmsMessage)
                .where(SmsMessage.id > 100, SmsMessage.status == SmsStatus.RECEIVED)
            )
    assert received, "demo traffic was sent and reached Received by itself"
