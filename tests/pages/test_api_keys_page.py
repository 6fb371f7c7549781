"""The API keys tab of the Administration page and the HTTP API reference with AppTest: an
administrator creates a key and sees its secret once, revokes it, and reads the callbacks'
delivery log; others are refused.  AppTest renders every tab, so the checks read the API keys
tab's own elements (``keys_tab``), not the page's."""

from sqlalchemy import func, select, update
from test_app_shell import open_page, run_as
from test_overview_page import overview, rerun, select_row

from sms_core.storage.api_models import ApiKey
from sms_core.storage.models import User
from sms_core.use_cases.accounts import load_actor, unit_id_by_code
from sms_core.use_cases.api_keys import create_api_key, key_actor
from sms_core.use_cases.sending import send_sms


def open_keys(username: str = "admin"):
    return open_page(run_as(username), "sms-administration")


def keys_tab(at):
    """The API keys tab of this run (look it up again after every run: the tree is rebuilt)."""
    return next(tab for tab in at.tabs if tab.label == "API keys")


def test_creating_a_key_shows_its_secret_once_and_the_key_works(app_env):
    at = open_keys()
    assert [tab.label for tab in at.tabs] == ["Users", "Org. units", "API keys", "Audit trail"]
    assert any("Keys let the organisation's own systems" in c.value for c in keys_tab(at).caption)
    at.text_input(key="api_key_name").input("Booking system")
    at.text_input(key="api_key_callback").input("https://booking.example.org/sms")
    keys_tab(at).button[0].click().run()  # the form's Create API key
    assert not at.exception
    tab = keys_tab(at)
    assert "Copy it now" in tab.success[0].value
    secret, callback_secret = tab.code[0].value, tab.code[1].value
    assert key_actor(app_env, secret).display_name == "API key Booking system"
    assert callback_secret.startswith("whsec_")
    table = tab.dataframe[0].value
    assert list(table["Name"]) == ["Booking system"] and list(table["Last used"]) == ["Never"]
    at.run()
    assert not at.code  # shown once only
    assert keys_tab(at).dataframe[0].value["Last used"][0] != "Never"  # key_actor used it above
    assert secret not in str([e.value for e in at.markdown])


def test_a_refused_name_keeps_what_was_typed(app_env):
    at = open_keys()
    at.text_input(key="api_key_callback").input("ftp://nowhere")
    at.text_input(key="api_key_name").input("Billing")
    keys_tab(at).button[0].click().run()
    error = keys_tab(at).error[0].value
    assert "must be an http" in error and "URL" in error
    assert at.text_input(key="api_key_callback").value == "ftp://nowhere"


def test_an_administrator_deactivated_with_the_page_open_creates_no_key(app_env):
    at = open_keys()
    with app_env.session() as s:
        s.execute(update(User).where(User.username == "admin").values(active=False))
    at.text_input(key="api_key_name").input("Booking system")
    keys_tab(at).button[0].click()
    rerun(at)
    assert any("deactivated" in e.value for e in at.error)
    with app_env.session() as s:
        assert s.scalar(select(func.count()).select_from(ApiKey)) == 0


def test_revoking_a_key_refuses_it_and_the_delivery_log_shows_callbacks(app_env):
    admin = load_actor(app_env, "admin")
    made = create_api_key(
        app_env, admin, org_unit_id=unit_id_by_code(app_env, "OSL"), name="Journal", callback_url="http://127.0.0.1:9/x"
    )
    send_sms(app_env, key_actor(app_env, made.secret), text="Svar", phone="+4741555123", submit=False)
    at = open_keys()
    log = keys_tab(at).dataframe[1].value
    assert list(log["SMS status"]) == ["Unknown"] and list(log["Delivery"]) == ["Waiting"]
    at.button(key="api_key_revoke").click().run()
    assert "is revoked" in keys_tab(at).success[0].value
    assert key_actor(app_env, made.secret) is None
    assert list(keys_tab(at).dataframe[0].value["State"])[0].startswith("Revoked")


def test_the_pages_are_refused_to_staff(app_env):
    for page, permission in (
        ("sms-administration", "manage users, org units and contacts"),  # and with it the API keys
        ("sms-http-api", "manage SMS settings"),
    ):
        at = open_page(run_as("staff"), page)
        assert f"do not have permission to {permission}" in at.error[0].value


def test_the_http_api_page_renders_every_endpoint(app_env):
    at = open_page(run_as("admin"), "sms-http-api")
    assert at.title[0].value == "HTTP API"
    labels = [e.label for e in at.expander]
    assert "POST /api/v1/sms — Send an SMS" in labels
    assert "PUT /api/v1/contacts/{external_id}/consent — Register or withdraw consent for a number" in labels


def test_the_overview_says_a_message_was_sent_by_the_api_key(app_env):
    made = create_api_key(
        app_env, load_actor(app_env, "admin"), org_unit_id=unit_id_by_code(app_env, "OSL"), name="Booking system"
    )
    send_sms(app_env, key_actor(app_env, made.secret), text="Påminnelse om time", phone="+4741555123", submit=False)
    at = select_row(overview("staff"), 0)
    assert any("Sent by: API key Booking system" in c.value for c in at.caption)
