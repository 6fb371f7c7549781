"""Single sign-on for real: Chromium clicks Sign in, logs in at a real OpenID Connect provider
(tests/oidc_harness.py: panva's oidc-provider and its test accounts) and lands back in the app as
the user the verified e-mail names — or on a refusal page that says why in one sentence."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import update

from sms_core.storage.models import User
from sms_core.use_cases import sign_in as rules


def sign_in_as(page, app, login: str) -> None:
    """Sign in at the provider's login form as ``login`` (one of provider.mjs's test accounts)."""
    page.goto(app.url)
    page.get_by_role("button", name="Sign in").click()
    page.locator('input[name="login"]').fill(login)
    page.locator('input[name="password"]').fill("any password will do")
    page.get_by_role("button", name="Sign-in").click()
    page.get_by_role("button", name="Continue").click()  # the provider's consent to share the claims
    page.wait_for_url(re.compile(re.escape(app.url)))


def test_a_registered_user_signs_in_as_themselves_and_signs_out(sign_in_app, page):
    sign_in_as(page, sign_in_app, "stian")  # e-mail Staff@Example.ORG: staff@example.org, whatever the case
    sidebar = page.get_by_test_id("stSidebar")
    sidebar.get_by_text("Signed in as Stian Staff").wait_for()  # the name registered here, not the claim's
    page.get_by_role("heading", name="SMS messages").first.wait_for()
    page.get_by_test_id("stDataFrame").first.wait_for()  # her messages
    assert sidebar.get_by_text("Demo mode").count() == 0 and page.get_by_test_id("sms-demo-banner").count() == 0
    sidebar.get_by_role("button", name="Sign out").click()
    page.get_by_role("button", name="Yes, sign me out").click()  # the provider ends its session too
    page.get_by_role("button", name="Sign in").wait_for()
    expect(page.get_by_text("Signed in as")).to_have_count(0)
    page.goto(f"{sign_in_app.url}/sms-messages")  # a link does not get past the door either
    page.get_by_role("button", name="Sign in").wait_for()
    expect(page.get_by_test_id("stDataFrame")).to_have_count(0)


@pytest.mark.parametrize(
    "login, sentence",
    [
        ("stranger", rules.NOT_REGISTERED),
        ("unverified", rules.NOT_VERIFIED),
        ("noemail", rules.NO_EMAIL),
    ],
)
def test_who_may_not_sign_in_is_told_why_and_can_sign_out(sign_in_app, page, login, sentence):
    sign_in_as(page, sign_in_app, login)
    page.get_by_text(sentence).wait_for()
    expect(page.get_by_test_id("stSidebarNav")).to_have_count(0)
    expect(page.get_by_test_id("stDataFrame")).to_have_count(0)
    page.get_by_role("button", name="Sign out").click()
    page.get_by_role("button", name="Yes, sign me out").click()
    page.get_by_role("button", name="Sign in").wait_for()


def test_a_user_deactivated_while_her_overview_is_open_loses_it_at_once(sign_in_app, page):
    sign_in_as(page, sign_in_app, "kari")
    page.get_by_test_id("stSidebar").get_by_text("Signed in as Kari Nordmann").wait_for()
    page.get_by_test_id("stDataFrame").first.wait_for()
    export = page.get_by_role("button", name="Export CSV")
    resend = page.get_by_role("button", name="Resend SMS")
    assert export.is_visible() and resend.is_visible()
    with sign_in_app.db.session() as s:
        s.execute(update(User).where(User.username == "kari").values(active=False))
    try:
        # No click: the live table's next refresh (every second) reads her again and the refusal
        # takes the page — allowed half a minute, for a machine busy with other tests.
        page.get_by_text(rules.DEACTIVATED).wait_for(timeout=30_000)
        for gone in (page.get_by_test_id("stDataFrame"), export, resend, page.get_by_test_id("stSidebarNav")):
            expect(gone).to_have_count(0)  # once the run that refused her has finished
        page.reload()  # and a new run of the app as well
        page.get_by_text(rules.DEACTIVATED).wait_for()
        expect(page.get_by_test_id("stDataFrame")).to_have_count(0)
    finally:
        with sign_in_app.db.session() as s:
            s.execute(update(User).where(User.username == "kari").values(active=True))
