"""The door of the app with AppTest: nothing but what to configure without demo mode or [auth],
the sign-in page, the refusal pages (one sentence and Sign out), and a user who loses her access
while the overview is open — for listing, Resend and Export CSV alike.  The provider itself is
real in tests/browser/test_browser_sign_in.py; here ``at.user`` stands in for its claims."""

import pytest
from export_download import export_link, follow
from sqlalchemy import delete, func, select, update
from streamlit.testing.v1 import AppTest
from support import accepting, app_on
from test_overview_page import add_message, overview, rerun, select_row

from pages._shared import runtime
from sms_core.config import PROJECT_ROOT
from sms_core.domain.statuses import SmsStatus as S
from sms_core.storage.models import SmsMessage, User, UserOrgUnit
from sms_core.use_cases import sign_in as rules
from sms_core.use_cases.accounts import load_actor

APP = str(PROJECT_ROOT / "app.py")
AUTH = {
    "redirect_uri": "http://127.0.0.1:8501/oauth2callback",
    "cookie_secret": "a cookie secret for the page tests only",
    "client_id": "sms-messages",
    "client_secret": "not a real secret",
    "server_metadata_url": "http://localhost:9400/.well-known/openid-configuration",
}


@pytest.fixture
def production(monkeypatch, sqlite_url):
    """The app on a demo database, but without demo mode: as a deployment runs it."""
    yield from app_on(sqlite_url, monkeypatch, demo_mode=False)


def open_app(auth: dict | None = None, user: dict | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=30)
    if auth is not None:
        at.secrets["auth"] = auth
    if user is not None:
        at.user = user
    return rerun(at)


def signed_in(email: str, **claims) -> AppTest:
    return open_app(AUTH, {"is_logged_in": True, "email": email, "name": "As the provider says", **claims})


def shows_no_data(at: AppTest, picker: bool = False) -> None:
    """No table, no export, no send or resend, no org. unit; and no user picker unless demo mode's."""
    assert not at.dataframe and not at.get("download_button")
    assert not [b for b in at.button if b.label in ("Send SMS", "Resend SMS", "Export CSV")]
    assert [box.label for box in at.sidebar.selectbox] == (["Signed in as"] if picker else [])


def test_without_demo_mode_or_auth_the_app_only_says_what_to_configure(production):
    at = open_app()
    shows_no_data(at)
    [info] = at.info
    assert "No one can sign in yet" in info.value and "[auth]" in info.value and "SMS_DEMO_MODE=true" in info.value
    assert not at.error and not at.get("html")  # no banner: this is not demo mode either


def test_an_incomplete_auth_section_names_what_is_missing_and_shows_no_data(production):
    at = open_app({k: v for k, v in AUTH.items() if k not in ("client_secret", "server_metadata_url")})
    shows_no_data(at)
    assert "lacks client_secret, server_metadata_url" in at.error[0].value
    assert "not a real secret" not in " ".join(e.value for e in at.error)


def test_with_auth_a_visitor_sees_only_the_sign_in_button(production):
    at = open_app(AUTH, {"is_logged_in": False})
    shows_no_data(at)
    assert [b.label for b in at.button] == ["Sign in"]


def test_the_verified_email_signs_in_as_the_registered_user(production):
    at = signed_in("STAFF@example.org", email_verified=True)
    assert at.title[0].value == "SMS messages" and at.dataframe
    assert any(c.value == "Signed in as Stian Staff" for c in at.sidebar.caption)
    assert at.sidebar.button(key="sign_out").label == "Sign out"


@pytest.mark.parametrize(
    "email, claims, sentence",
    [
        ("nobody@example.org", {}, rules.NOT_REGISTERED),
        ("staff@example.org", {"email_verified": False}, rules.NOT_VERIFIED),
        ("", {}, rules.NO_EMAIL),
        ("**Ada**@[x](http://evil.example)", {}, rules.NOT_REGISTERED),
    ],
)
def test_a_refusal_is_one_sentence_and_a_sign_out_button(production, email, claims, sentence):
    at = signed_in(email, **claims)
    shows_no_data(at)
    assert [e.value for e in at.error] == [sentence]  # the claim is never shown, as Markdown or otherwise
    assert [b.label for b in at.button] == ["Sign out"]


def test_a_deactivated_user_or_one_without_a_unit_is_refused(production):
    with production.session() as s:
        s.execute(update(User).where(User.username == "staff").values(active=False))
        s.execute(delete(UserOrgUnit).where(UserOrgUnit.user_id == load_actor(production, "kari").id))
    assert [e.value for e in signed_in("staff@example.org").error] == [rules.DEACTIVATED]
    assert [e.value for e in signed_in("kari@example.org").error] == [rules.NO_UNIT]


def test_demo_mode_has_its_banner_on_every_page(app_env):
    at = overview("admin")
    for page in ("pages/contacts.py", "pages/standard_texts.py", "pages/delivery_rates.py", "pages/settings.py"):
        assert "Demo mode" in at.get("html")[0].proto.body
        at.switch_page(page)
        rerun(at)
    assert "Demo mode" in at.get("html")[0].proto.body


def deactivate(db, username: str) -> None:
    with db.session() as s:
        s.execute(update(User).where(User.username == username).values(active=False))


def resends_of(db, message_id: int) -> int:
    with db.session() as s:
        return s.scalar(select(func.count()).select_from(SmsMessage).where(SmsMessage.original_id == message_id))


def test_a_user_deactivated_with_the_overview_open_cannot_resend(app_env, monkeypatch):
    monkeypatch.setattr(runtime(), "gateway", accepting())
    failed = add_message(app_env, "Please call us", S.SENDING_FAILED)
    at = select_row(overview(), 0)
    deactivate(app_env, "staff")
    at.button(key="ov_resend").click()
    rerun(at)
    assert [e.value for e in at.error] == [rules.DEACTIVATED]
    shows_no_data(at, picker=True)  # demo mode: someone else can be picked
    assert resends_of(app_env, failed) == 0


def test_a_user_deactivated_with_the_overview_open_gets_no_export(app_env, exported_csv):
    at = overview()
    assert len(exported_csv(at)) > 1  # the file, while she may
    link = export_link(at)  # a link made while she still may
    deactivate(app_env, "staff")
    assert follow(link).status_code == 403  # followed after: no file
    assert export_link(at) is None  # a click on the button drawn before: no link,
    assert [e.value for e in at.error] == [rules.DEACTIVATED]  # but the refusal


def test_a_user_who_loses_the_send_permission_cannot_resend_from_the_open_overview(app_env, monkeypatch):
    from sms_core.storage.models import RolePermission

    monkeypatch.setattr(runtime(), "gateway", accepting())
    failed = add_message(app_env, "Please call us", S.SENDING_FAILED)
    at = select_row(overview(), 0)
    with app_env.session() as s:
        s.execute(delete(RolePermission).where(RolePermission.role == "staff", RolePermission.permission == "send_sms"))
    at.button(key="ov_resend").click()  # drawn enabled, before the permission went
    rerun(at)
    assert resends_of(app_env, failed) == 0
    assert any("do not have permission to send and resend SMS" in e.value for e in at.error)
    assert at.button(key="ov_resend").disabled


def dialog_app(username: str) -> None:
    """The Send SMS dialog behind the door, as app.py puts it: the user signed in on every run."""
    import streamlit as st

    from pages._shared import ACTOR_KEY, database
    from pages._signin import only
    from pages.send_dialog import send_sms_dialog
    from sms_core.domain import errors  # the function runs as a script of its own: its imports are its own
    from sms_core.use_cases.sign_in import demo_sign_in

    try:
        st.session_state[ACTOR_KEY] = demo_sign_in(database(), username)
    except errors.SignInRefused as exc:
        sentence = exc.message
        only(lambda: st.error(sentence), [])
    send_sms_dialog(None)


def test_a_user_deactivated_with_the_send_dialog_open_sends_nothing(app_env, monkeypatch):
    from pages import _send_dialog_fields as fields

    monkeypatch.setattr(runtime(), "gateway", accepting())
    at = AppTest.from_function(dialog_app, args=("staff",), default_timeout=30)
    rerun(at)
    at.text_input(key=fields.PHONE_KEY).input("+47 415 55 123")
    at.session_state["send_sms_text__text"] = "Typed before she was deactivated"
    rerun(at)
    assert not at.button(key="send_sms_send").disabled
    deactivate(app_env, "staff")
    at.button(key="send_sms_send").click()
    rerun(at)
    assert [e.value for e in at.error] == [rules.DEACTIVATED]
    with app_env.session() as s:
        sent = s.scalar(select(func.count()).where(SmsMessage.text == "Typed before she was deactivated"))
    assert sent == 0
