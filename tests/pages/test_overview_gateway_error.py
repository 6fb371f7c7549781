"""The overview's gateway-error filter with AppTest: a link that names an error lists exactly the
messages with it, says so in a caption (the gateway's words shown as written), keeps it in the
address and counts and exports only those; the caption's button removes it."""

from test_overview_page import add_message, overview, rerun, table, warnings

from pages._shared import plain
from sms_core.domain.statuses import SmsStatus as S
from sms_core.read_models.overview_link import ERROR_LENGTH

ERROR = "Absent *subscriber* [call](https://example.com) :material/home: 50%"  # a gateway's words may be anything


def captions(at) -> list[str]:
    return [c.value for c in at.caption]


def test_a_link_with_a_gateway_error_lists_exactly_those_messages(app_env, exported_csv):
    add_message(app_env, "With the error", S.SENDING_FAILED, gateway_error=ERROR)
    add_message(app_env, "With another", S.SENDING_FAILED, minutes_ago=0.8, gateway_error="Unknown subscriber")
    add_message(app_env, "Rejected with it", S.REJECTED, minutes_ago=0.6, gateway_error=ERROR)
    add_message(app_env, "In Trondheim", S.SENDING_FAILED, unit="TRD", minutes_ago=0.4, gateway_error=ERROR)
    at = overview(status="Sending failed", unit="all", error=ERROR)
    assert not at.warning
    assert list(table(at)["Text"]) == ["With the error"]
    assert f"Gateway error: {plain(ERROR)}" in captions(at)
    assert "1 message matches." in captions(at)
    assert at.query_params["error"] == ERROR  # the address bar still names it, for sharing
    assert [row[0] for row in exported_csv(at)[1:]] == ["With the error"]

    at.button(key="ov_clear_gateway_error").click()
    rerun(at)
    assert not any(c.startswith("Gateway error:") for c in captions(at))
    assert "error" not in at.query_params and at.multiselect(key="status").value == ["Sending failed"]
    assert {"With the error", "With another"} <= set(table(at)["Text"])


def test_the_error_stays_for_a_visit_from_the_menu_and_goes_with_another_link(app_env):
    add_message(app_env, "With the error", S.SENDING_FAILED, gateway_error=ERROR)
    at = overview(error=ERROR)
    at.switch_page("pages/contacts.py")
    at.query_params.clear()  # as in a browser: another page's URL has none of the overview's parameters
    rerun(at)
    at.switch_page("pages/overview.py")  # back by the menu
    rerun(at)
    assert f"Gateway error: {plain(ERROR)}" in captions(at) and list(table(at)["Text"]) == ["With the error"]
    at.switch_page("pages/contacts.py")
    rerun(at)
    at.query_params.clear()
    at.query_params.update({"status": ["Sending failed"], "unit": ["all"]})  # Delivery rates' "Sending failed"
    at.switch_page("pages/overview.py")
    rerun(at)
    assert not any(c.startswith("Gateway error:") for c in captions(at)) and "error" not in at.query_params


def test_an_error_longer_than_a_link_carries_is_ignored_with_a_warning(app_env):
    at = overview(error="x" * (ERROR_LENGTH + 1))
    assert "is longer than 1,000 characters, so the gateway error filter is ignored." in warnings(at)
    assert not any(c.startswith("Gateway error:") for c in captions(at)) and not table(at).empty
