"""The served app as a deployment first starts it — PostgreSQL, no SMS_DEMO_MODE — with no working
sign-in: no [auth], a secrets.toml that is not TOML, an [auth] section that lacks settings.  Each
shows, in Chromium, only what to configure: no data, no menu, no user picker; what went wrong is
one line on the page and in the log, without the secret or a traceback."""

from __future__ import annotations

import socket

import pytest
from oidc_harness import serve_in
from playwright.sync_api import expect
from support import free_ports

from sms_core.demo.seed import seed_demo
from sms_core.storage.database import Database

SECRET = "s3cr3t-never-shown"
BROKEN = f'[auth]\nredirect_uri = "http://127.0.0.1:8501/oauth2callback"\nclient_secret = "{SECRET}"\nclient_id = \n'
LACKING = f'[auth]\nclient_id = "sms-messages"\nclient_secret = "{SECRET}"\n'


@pytest.mark.parametrize(
    "secrets_toml, line",
    [
        (None, None),
        (BROKEN, "Sign-in is off: .streamlit/secrets.toml cannot be read (Invalid value (at line 4, column 13))."),
        (LACKING, "Sign-in is off: the [auth] section of .streamlit/secrets.toml lacks redirect_uri, cookie_secret, "),
    ],
    ids=["no secrets", "not TOML", "incomplete auth"],
)
def test_without_demo_mode_or_working_sign_in_the_app_shows_no_data(postgres_url, tmp_path, page, secrets_toml, line):
    database = Database(postgres_url)
    seed_demo(database, messages=20)
    database.dispose()
    port = free_ports()[0]
    app = serve_in(tmp_path, postgres_url, port, secrets_toml)
    try:
        for path in ("/", "/sms-messages", "/sms-settings"):  # a shared link gets no further
            page.goto(f"http://127.0.0.1:{port}{path}")
            page.get_by_text("No one can sign in yet").wait_for()
            for nothing in ("stDataFrame", "stSidebarNav", "stSelectbox", "stDownloadButton"):
                expect(page.get_by_test_id(nothing)).to_have_count(0)
            expect(page.get_by_role("button")).to_have_count(0)  # no Sign in that could not work
            shown = page.locator("body").inner_text()
            assert SECRET not in shown and "Traceback" not in shown and "Demo mode" not in shown
            assert str(tmp_path) not in shown  # not even where the file is
            if line:
                assert line in shown
        if line:
            assert app.wait_for_line(line) is not None
            assert len([row for row in app.log().splitlines() if line in row]) == 1  # once, not per visit
        assert SECRET not in app.log() and "Traceback" not in app.log()
    finally:
        app.stop()


def test_serve_listens_on_this_machine_only_unless_told_otherwise(sqlite_url, tmp_path):
    port = free_ports()[0]
    app = serve_in(tmp_path, sqlite_url, port, None)
    try:
        socket.create_connection(("127.0.0.1", port), timeout=5).close()
        with pytest.raises(OSError):  # another loopback address: answered only when bound to all
            socket.create_connection(("127.0.0.2", port), timeout=5).close()
    finally:
        app.stop()
