"""URLs as they are printed (redacted) and checked when the configuration is read: a gateway's
URL often carries its password, and an HTTP client's own error quotes the whole request."""

import pytest

from sms_core.config import check_http_url, redact_url
from sms_core.domain.errors import ConfigurationError


@pytest.mark.parametrize(
    "url, shown",
    [
        ("http://127.0.0.1:13013/cgi-bin/sendsms", "http://127.0.0.1:13013/cgi-bin/sendsms"),
        ("http://kannel:pw@127.0.0.1:13013/cgi-bin/sendsms", "http://kannel:***@127.0.0.1:13013/cgi-bin/sendsms"),
        ("http://h/sendsms?username=u&password=pw&to=1", "http://h/sendsms?username=u&password=***&to=1"),
        ("https://h/api/dlr?id=1&token=t0k#x", "https://h/api/dlr?id=1&token=***#x"),
        ("postgresql+psycopg://sms:p@ss/w@db:5432/sms", "postgresql+psycopg://sms:***@db:5432/sms"),
        (
            "postgresql+psycopg://sms:pw@db:abc/sms?sslpassword=x",
            "postgresql+psycopg://sms:***@db:abc/sms?sslpassword=***",
        ),
        ("sms:pw@db/sms", "sms:***@db/sms"),  # no scheme at all: a mistyped DATABASE_URL
        ("http://[::1", "http://[::1"),  # cannot be parsed: shown as it is, nothing raised
        ("", ""),
    ],
)
def test_redact_url(url, shown):
    assert redact_url(url) == shown


@pytest.mark.parametrize(
    "url, words",
    [
        ("127.0.0.1:13013/cgi-bin/sendsms", "must be an http:// or https:// URL"),
        ("http://127.0.0.1:13013/cgi bin/sendsms", "must not contain spaces or control characters"),
        ("http://127.0.0.1:13013/cgi-bin/sendsms\x00", "must not contain spaces or control characters"),
        ("http://u:pw@127.0.0.1:abc/cgi-bin/sendsms", "must have a port number"),
        ("http://127.0.0.1:99999/cgi-bin/sendsms", "must have a port number"),
        ("http://kannel..local/cgi-bin/sendsms", "must name a valid host"),
        ("http:///cgi-bin/sendsms", "must name a valid host"),
    ],
)
def test_a_url_that_cannot_be_used_is_one_sentence_without_its_password(url, words):
    with pytest.raises(ConfigurationError) as refused:
        check_http_url("KANNEL_SENDSMS_URL", url + "?password=pw")
    assert words in refused.value.message and "pw" not in refused.value.message.replace("***", "")
    assert refused.value.message.count(". ") == 0 and refused.value.message.endswith(".")


def test_a_usable_url_is_kept_as_it_is():
    url = "https://kannel:pw@sms.example.org:13013/cgi-bin/sendsms?smsc=main"
    assert check_http_url("KANNEL_SENDSMS_URL", url) == url
