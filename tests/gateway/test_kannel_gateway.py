"""The Kannel adapter against a real Kannel (tests/kannel_harness.py): what Kannel answers is
mapped to the right outcome, texts arrive intact at the SMSC, and delivery reports come back to
the callback URL with its token — plus the failure modes Kannel cannot show us by itself (an
endpoint that never answers, a 503), played by tiny local servers.
"""

from __future__ import annotations

import http.server
import socket
import threading
import time
from urllib.parse import quote

import pytest

from sms_core.config import Config
from sms_core.domain.errors import ConfigurationError
from sms_core.gateways.base import DeliveryReportKind, Gateway, GatewayReport, OutgoingSms, SubmitOutcome, UnknownReport
from sms_core.gateways.kannel import KannelGateway, kannel_dlr_url

pytestmark = pytest.mark.kannel

TOKEN = "tok/æ 7%"  # needs percent-encoding, and contains a '%' Kannel must not read as its own


def sms(
    text="Hello from the dashboard", to="+4712345678", sender="ACME", unicode=False, callback_url=None, message_id=42
) -> OutgoingSms:
    return OutgoingSms(message_id, to, text, sender, unicode, callback_url)


def gateway_for(kannel, password=None, timeout=5.0) -> KannelGateway:
    return KannelGateway(kannel.sendsms_url, kannel.username, password or kannel.password, timeout)


# -- against the real Kannel -------------------------------------------------------------------


def test_accepted_message_arrives_at_the_smsc_with_text_sender_and_recipient(kannel):
    result = gateway_for(kannel).submit(sms(message_id=42))

    assert (result.outcome, result.detail, result.gateway_message_id) == (
        SubmitOutcome.ACCEPTED,
        "Accepted for delivery",
        "42",
    )
    [received] = kannel.wait_received(1)
    assert (received.sender, received.receiver, received.text) == ("ACME", "+4712345678", "Hello from the dashboard")


@pytest.mark.parametrize(
    ("text", "unicode", "kind"),
    [
        ("Hei på deg 😀 blåbærsyltetøy ÆØÅ", True, "ucs-2"),  # emoji: sent as UCS-2 (coding=2)
        ("Blåbær æøå ÆØÅ koster 100€ {ok} [x] ~^|\\", False, "text"),  # GSM 03.38 incl. extension table
    ],
)
def test_text_arrives_intact(kannel, text, unicode, kind):
    result = gateway_for(kannel).submit(sms(text, sender="+4799999999", unicode=unicode))

    assert result.outcome is SubmitOutcome.ACCEPTED
    [received] = kannel.wait_received(1)
    assert (received.kind, received.text, received.sender) == (kind, text, "+4799999999")


def test_delivery_reports_reach_the_callback_url_with_its_token(kannel, dlr_receiver):
    callback = f"{dlr_receiver.url}?token={quote(TOKEN)}&message=42"
    assert gateway_for(kannel).submit(sms(callback_url=callback)).outcome is SubmitOutcome.ACCEPTED

    reports = dlr_receiver.wait_for(2)

    # What fakesmsc really yields: "accepted by the SMSC" (8, answer ACK/) then "delivered" (1).
    assert sorted(r["type"] for r in reports) == ["1", "8"]
    assert all(q.startswith(f"token={quote(TOKEN)}&message=42&type=") for q in dlr_receiver.queries)
    assert all((r["token"], r["message"]) == (TOKEN, "42") for r in reports)
    parsed = {gateway_for(kannel).parse_report(r) for r in reports}
    assert parsed == {
        GatewayReport(DeliveryReportKind.BUFFERED, "ACK/"),
        GatewayReport(DeliveryReportKind.DELIVERED, "Delivered to phone"),
    }


def test_callback_url_without_a_query_gets_one(kannel, dlr_receiver):
    gateway_for(kannel).submit(sms(callback_url=f"{dlr_receiver.url}/42"))

    dlr_receiver.wait_for(2)
    assert {path.partition("?")[0] for path in dlr_receiver.requests} == {"/dlr/42"}
    assert sorted(r["type"] for r in dlr_receiver.reports()) == ["1", "8"]


def test_message_is_queued_while_the_smsc_is_disconnected_and_delivered_when_it_is_back(kannel, dlr_receiver):
    kannel.stop_fakesmsc()

    result = gateway_for(kannel).submit(sms("Queued one", callback_url=f"{dlr_receiver.url}?token=q"))

    assert (result.outcome, result.detail) == (SubmitOutcome.ACCEPTED, "Queued for later delivery")
    kannel.start_fakesmsc()
    assert [m.text for m in kannel.wait_received(1)] == ["Queued one"]
    assert "1" in {r["type"] for r in dlr_receiver.wait_for(2)}


def test_recipient_without_a_route_is_rejected(kannel):
    # The harness's fake SMSC refuses numbers starting +999 (denied-prefix): no route at all.
    result = gateway_for(kannel).submit(sms(to="+99912345678"))

    assert (result.outcome, result.detail) == (SubmitOutcome.REJECTED, "Not routable. Do not try again.")
    assert kannel.fakesmsc_received() == []


def test_recipient_kannel_cannot_read_is_rejected(kannel):
    result = gateway_for(kannel).submit(sms(to="47-ABC"))

    assert result.outcome is SubmitOutcome.REJECTED
    assert "denied" in result.detail  # Kannel: "Number(s) has/have been denied by white- and/or black-lists."


def test_recipient_with_a_space_is_never_sent_to_two_numbers(kannel):
    result = gateway_for(kannel).submit(sms(to="+4712345678 +4787654321"))

    assert result.outcome is SubmitOutcome.REJECTED
    time.sleep(0.3)
    assert kannel.fakesmsc_received() == []


def test_wrong_password_fails_as_our_configuration_problem(kannel):
    result = gateway_for(kannel, password="wrong").submit(sms())

    assert result.outcome is SubmitOutcome.FAILED
    assert "Authorization failed" in result.detail
    assert "wrong" not in result.detail


def test_gateway_down_fails_with_the_connection_error_and_problem_says_so(kannel):
    gateway = gateway_for(kannel)
    assert gateway.problem() is None

    kannel.stop()

    result = gateway.submit(sms())
    assert result.outcome is SubmitOutcome.FAILED
    assert "connection refused" in result.detail and kannel.sendsms_url in result.detail
    assert gateway.problem() == f"Kannel at {kannel.sendsms_url} does not answer: connection refused."


# -- endpoints Kannel itself cannot imitate ----------------------------------------------------


class SilentEndpoint:
    """Accepts connections and reads the request, then never answers (or hangs up, if told to)."""

    def __init__(self, hang_up: bool = False):
        self.hang_up = hang_up
        self.requests: list[bytes] = []
        self._open: list[socket.socket] = []
        self._stop = threading.Event()
        self._server = socket.create_server(("127.0.0.1", 0))
        self._server.settimeout(0.05)
        self.url = f"http://127.0.0.1:{self._server.getsockname()[1]}/cgi-bin/sendsms"
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self):
        while not self._stop.is_set():
            try:
                connection, _ = self._server.accept()
            except TimeoutError:
                continue
            connection.settimeout(1)
            request = b""
            while b"\r\n\r\n" not in request:
                chunk = connection.recv(65536)
                if not chunk:
                    break
                request += chunk
            self.requests.append(request)
            if self.hang_up:
                connection.close()
            else:
                self._open.append(connection)

    def close(self):
        self._stop.set()
        self._thread.join(timeout=5)
        for connection in self._open:
            connection.close()
        self._server.close()


@pytest.fixture
def silent_endpoint():
    endpoint = SilentEndpoint()
    yield endpoint
    endpoint.close()


def test_no_answer_after_the_request_was_sent_is_unknown_within_the_timeout(silent_endpoint):
    gateway = KannelGateway(silent_endpoint.url, "u", "p", timeout=0.5)

    started = time.monotonic()
    result = gateway.submit(sms())

    assert time.monotonic() - started < 2
    assert result.outcome is SubmitOutcome.UNKNOWN
    assert "no answer within 0.5 s" in result.detail
    assert len(silent_endpoint.requests) == 1 and b"GET /cgi-bin/sendsms?" in silent_endpoint.requests[0]


def test_connection_closed_without_an_answer_is_unknown():
    endpoint = SilentEndpoint(hang_up=True)
    try:
        result = KannelGateway(endpoint.url, "u", "p", timeout=2).submit(sms())
    finally:
        endpoint.close()
    assert result.outcome is SubmitOutcome.UNKNOWN


def test_problem_reports_an_endpoint_that_does_not_answer(silent_endpoint):
    gateway = KannelGateway(silent_endpoint.url, "u", "p", timeout=0.3)
    assert gateway.problem() == f"Kannel at {silent_endpoint.url} does not answer: no answer within 0.3 s."


@pytest.mark.parametrize(
    ("status", "body", "outcome"),
    [
        (202, "0: Accepted for delivery", SubmitOutcome.ACCEPTED),
        (202, "3: Queued for later delivery", SubmitOutcome.ACCEPTED),
        (400, "Empty receiver number not allowed, rejected", SubmitOutcome.REJECTED),
        (403, "Not routable. Do not try again.", SubmitOutcome.REJECTED),
        (403, "Authorization failed for sendsms", SubmitOutcome.FAILED),
        (404, "Unknown request.", SubmitOutcome.FAILED),
        (503, "Sending failed.", SubmitOutcome.FAILED),
        (500, "", SubmitOutcome.FAILED),
        (200, "<html>Welcome to nginx</html>", SubmitOutcome.UNKNOWN),
    ],
)
def test_http_answers_map_to_outcomes(status, body, outcome):
    class Answer(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(status)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body.encode())

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Answer)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/cgi-bin/sendsms"
        result = KannelGateway(url, "u", "p", timeout=2).submit(sms())
    finally:
        server.shutdown()
        server.server_close()
    assert result.outcome is outcome
    assert (result.gateway_message_id == "42") == (outcome is SubmitOutcome.ACCEPTED)
    if outcome is not SubmitOutcome.ACCEPTED:
        assert body in result.detail


# -- pure parts --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("type_code", "answer", "expected"),
    [
        ("1", "id:7 stat:DELIVRD err:000", (DeliveryReportKind.DELIVERED, "id:7 stat:DELIVRD err:000")),
        ("1", "", (DeliveryReportKind.DELIVERED, "Delivered to phone")),
        ("2", "stat:UNDELIV", (DeliveryReportKind.UNDELIVERED, "stat:UNDELIV")),
        ("2", "", (DeliveryReportKind.UNDELIVERED, "Not delivered to phone")),
        ("4", "", (DeliveryReportKind.BUFFERED, "Queued on the SMSC")),
        ("8", "ACK/", (DeliveryReportKind.BUFFERED, "ACK/")),
        (
            "16",
            "NACK/0x0000000b/Invalid Destination Address",
            (DeliveryReportKind.REJECTED, "NACK/0x0000000b/Invalid Destination Address"),
        ),
        ("16", "  ", (DeliveryReportKind.REJECTED, "Rejected by the SMSC")),
        (" 1 ", "", (DeliveryReportKind.DELIVERED, "Delivered to phone")),
    ],
)
def test_parse_report(type_code, answer, expected):
    gateway = KannelGateway("http://kannel:13013/cgi-bin/sendsms", "user", "pw")
    assert gateway.parse_report({"type": type_code, "answer": answer, "id": "7"}) == GatewayReport(*expected)


@pytest.mark.parametrize("type_code", ["", "0", "3", "31", "-1", "delivered", "%d", "1.0"])
def test_parse_report_refuses_what_kannel_never_sends(type_code):
    gateway = KannelGateway("http://kannel:13013/cgi-bin/sendsms", "user", "pw")
    with pytest.raises(UnknownReport, match="Kannel delivery report type"):
        gateway.parse_report({"type": type_code})


@pytest.mark.parametrize(
    ("callback", "dlr_url"),
    [
        ("https://app/dlr?token=a%2Fb", "https://app/dlr?token=a%%2Fb&type=%d&answer=%A"),
        ("https://app/dlr/42", "https://app/dlr/42?type=%d&answer=%A"),
        ("https://app/dlr?", "https://app/dlr?type=%d&answer=%A"),
    ],
)
def test_dlr_url_shape(callback, dlr_url):
    assert kannel_dlr_url(callback) == dlr_url


def test_request_parameters():
    gateway = KannelGateway("http://kannel:13013/cgi-bin/sendsms", "user", "pw")

    plain = dict(gateway.request_params(sms()))
    unicode = dict(gateway.request_params(sms(unicode=True, callback_url="https://app/dlr?t=1")))

    assert plain == {
        "username": "user",
        "password": "pw",
        "from": "ACME",
        "to": "+4712345678",
        "text": "Hello from the dashboard",
        "charset": "UTF-8",
    }
    assert (unicode["coding"], unicode["dlr-mask"], unicode["dlr-url"]) == (
        "2",
        "31",
        "https://app/dlr?t=1&type=%d&answer=%A",
    )


def test_from_config_and_protocol():
    config = Config(
        kannel_sendsms_url="http://10.0.0.5:13013/cgi-bin/sendsms",
        kannel_username="dash",
        kannel_password="secret",
        kannel_timeout=3.5,
    )
    gateway = KannelGateway.from_config(config)

    assert isinstance(gateway, Gateway) and gateway.name == "kannel"
    assert (gateway.sendsms_url, gateway.username, gateway.password, gateway.timeout) == (
        "http://10.0.0.5:13013/cgi-bin/sendsms",
        "dash",
        "secret",
        3.5,
    )
    assert "secret" not in repr(gateway)


def test_a_sendsms_url_that_is_not_http_is_a_configuration_error():
    with pytest.raises(ConfigurationError, match="KANNEL_SENDSMS_URL"):
        KannelGateway("127.0.0.1:13013/cgi-bin/sendsms", "u", "p")


def test_1000_emoji_reach_the_smsc_whole_in_as_many_parts_as_counted(kannel):
    """1000 emoji are 2000 UTF-16 code units: the 30 SMS ``count_sms`` counts, all of them sent."""
    from sms_core.domain.segments import count_sms

    text = "😊" * 1000
    assert gateway_for(kannel).submit(sms(text, unicode=True)).outcome is SubmitOutcome.ACCEPTED
    parts = kannel.wait_received(count_sms(text).segments, timeout=15)
    assert len(parts) == count_sms(text).segments == 30
    assert all(len(p.data) <= 134 for p in parts), "67 UTF-16 code units a part, as counted"
    assert b"".join(p.data for p in parts).decode("utf-16-be") == text


@pytest.mark.parametrize("path_and_host", ["127.0.0.1:{port}/cgi bin/sendsms", "kannel..local:{port}/cgi-bin/sendsms"])
def test_a_request_that_cannot_be_made_fails_without_quoting_it(silent_endpoint, path_and_host):
    """http.client refuses a space in the path, IDNA an empty host label; their words quote the
    request, password and dlr-url token included, so submit says its own and never raises."""
    port = silent_endpoint.url.split(":")[2].split("/")[0]
    gateway = KannelGateway(f"http://{path_and_host.format(port=port)}", "u", "s3cretpw", timeout=1)
    result = gateway.submit(sms(callback_url="http://app/api/dlr?id=42&token=t0ken"))
    assert result.outcome is SubmitOutcome.FAILED and "check KANNEL_SENDSMS_URL" in result.detail
    assert "s3cretpw" not in result.detail and "t0ken" not in result.detail
    assert "s3cretpw" not in (gateway.problem() or "")


def test_a_sendsms_url_with_a_port_that_is_not_a_number_is_a_configuration_error_without_the_password():
    with pytest.raises(ConfigurationError, match="KANNEL_SENDSMS_URL") as refused:
        KannelGateway("http://u:s3cretpw@127.0.0.1:abc/cgi-bin/sendsms?password=s3cretpw", "u", "p")
    assert "s3cretpw" not in refused.value.message
