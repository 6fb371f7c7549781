"""The HTTP API's rules without I/O: key secrets, callback signatures, the backoff and the rate window."""

from sms_core.delivery.api.limits import RateLimiter
from sms_core.domain.api_keys import digest, key_prefix, matches, new_key, sign, verify
from sms_core.use_cases.api_callbacks import LONGEST_WAIT, backoff


def test_a_key_is_found_by_its_prefix_and_checked_against_its_digest_only():
    prefix, key, stored = new_key()
    assert key_prefix(key) == prefix and len(key) == 60
    assert matches(key, stored) and stored == digest(key) and key not in stored
    assert not matches(key[:-1] + ("x" if key[-1] != "x" else "y"), stored)
    for shaped_otherwise in ("", "Bearer x", f"sms_{prefix}", key + "!", key.replace("sms_", "sk_", 1)):
        assert key_prefix(shaped_otherwise) is None


def test_a_signature_covers_the_time_and_the_body_and_goes_stale():
    body = b'{"event_id": 1}'
    header = sign("whsec_a", 1_800_000_000, body)
    assert header.startswith("t=1800000000,v1=") and len(header.split("v1=")[1]) == 64
    assert verify("whsec_a", header, body, now=1_800_000_100)
    assert not verify("whsec_b", header, body, now=1_800_000_100)  # another key's secret
    assert not verify("whsec_a", header, body + b" ", now=1_800_000_100)  # another body
    assert not verify("whsec_a", header.replace("t=1800000000", "t=1800000001"), body, now=1_800_000_100)
    assert not verify("whsec_a", header, body, now=1_800_000_000 + 301)  # a replay, too late
    assert not verify("whsec_a", "nonsense", body, now=1_800_000_000)


def test_retries_back_off_exponentially_up_to_an_hour():
    waits = [backoff(n) for n in range(1, 16)]
    assert waits[:4] == [5, 10, 20, 40]
    assert waits == sorted(waits) and max(waits) == LONGEST_WAIT


def test_the_rate_window_counts_per_key_and_minute():
    limiter = RateLimiter()
    assert [limiter.wait(1, 2, now=600.0) for _ in range(3)] == [0, 0, 60]
    assert limiter.wait(2, 2, now=600.5) == 0  # another key
    assert limiter.wait(1, 2, now=659.2) == 1
    assert limiter.wait(1, 2, now=660.0) == 0  # the next minute
