"""A new installation, as an organisation brings it up: an empty PostgreSQL database, ``migrate``,
the first administrator and unit from the command line, then that administrator adds an org.
unit, a user and a contact in the page, in headless Chromium — signed in for real, through a real
OpenID Connect provider (tests/oidc_harness.py), as a production installation is."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest
from oidc_harness import serve_with_sign_in
from support import environment, require

from sms_core.config import PROJECT_ROOT
from sms_core.read_models.administration import list_audit
from sms_core.read_models.contacts import get_contact, search_contacts
from sms_core.storage.database import Database
from sms_core.use_cases.accounts import load_actor, unit_id_by_code


def cli(url: str, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "sms_core", *args],
        cwd=PROJECT_ROOT,
        env=environment(DATABASE_URL=url),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.fixture
def new_installation(postgres_server, tmp_path):
    """An empty PostgreSQL database brought up as the README says, and the app served on it."""
    require(postgres_server.error is None, postgres_server.error or "")
    url = postgres_server.empty_database()
    cli(url, "migrate")
    cli(url, "units", "add", "--code", "OSL", "--name", "Oslo Sentrum")
    cli(
        url,
        "users",
        "add",
        "--email",
        "kari@example.org",  # the provider's test account "kari"
        "--name",
        "Kari Admin",
        "--role",
        "administrator",
        "--unit",
        "OSL",
    )
    base, provider, served = serve_with_sign_in(tmp_path, url)
    db = Database(url)
    yield base, db
    served.stop()
    provider.stop()
    db.dispose()


def sign_in(page, base: str, login: str) -> None:
    """Sign in at the provider's login form as ``login`` (a test account of tests/oidc/provider.mjs)
    and open the administration page."""
    page.goto(base)
    page.get_by_role("button", name="Sign in").click()
    page.locator('input[name="login"]').fill(login)
    page.locator('input[name="password"]').fill("any password will do")
    page.get_by_role("button", name="Sign-in").click()
    page.get_by_role("button", name="Continue").click()  # the provider's consent to share the claims
    page.wait_for_url(re.compile(re.escape(base)))
    page.get_by_test_id("stSidebar").get_by_text("Signed in as Kari Admin").wait_for()
    page.goto(f"{base}/sms-administration")
    page.get_by_role("heading", name="Administration").wait_for()


def expander(page, label: str):
    """The expander of that label, opened (clicked only when it is closed: a click toggles it)."""
    found = page.get_by_test_id("stExpander").filter(has_text=label)
    details = found.locator("details").first
    details.wait_for()
    if details.get_attribute("open") is None:
        found.locator("summary").first.click()
    return found


def test_the_first_administrator_adds_a_unit_a_user_and_a_contact_in_the_page(new_installation, page):
    base, db = new_installation
    sign_in(page, base, "kari")
    page.get_by_role("tab", name="Org. units").click()
    unit_form = expander(page, "Add an org. unit")
    unit_form.get_by_label("Code", exact=True).fill("bgn")
    unit_form.get_by_label("Name", exact=True).fill("Bergen Bryggen")
    unit_form.get_by_role("button", name="Add org. unit").click()
    page.get_by_text("BGN is added.").wait_for()

    page.get_by_role("tab", name="Users").click()
    user_form = expander(page, "Add a user")
    user_form.get_by_label("Name", exact=True).fill("Nils Ny")
    user_form.get_by_label("E-mail", exact=True).fill("Nils@Example.org")
    user_form.get_by_test_id("stSelectbox").click()
    page.get_by_role("option", name="Team lead").click()
    user_form.get_by_test_id("stMultiSelect").click()
    page.get_by_role("option", name="Bergen Bryggen (BGN)").click()
    page.keyboard.press("Escape")
    user_form.get_by_role("button", name="Add user").click()
    page.get_by_text("Nils Ny is added.").wait_for()

    page.goto(f"{base}/sms-contacts")
    page.get_by_role("heading", name="Contacts").first.wait_for()
    contact_form = expander(page, "Add a contact")
    contact_form.get_by_label("Name", exact=True).fill("Kari Kontakt")
    contact_form.get_by_label("Phone number", exact=True).fill("12")
    contact_form.get_by_role("button", name="Add contact").click()
    contact_form.get_by_text("The phone number is too short").wait_for()
    contact_form.get_by_label("Phone number", exact=True).fill("415 55 123")
    contact_form.get_by_text("Consent to SMS is given").click()
    contact_form.get_by_label("Consent source", exact=True).fill("Signed form")
    contact_form.get_by_role("button", name="Add contact").click()
    page.get_by_role("heading", name="Kari Kontakt").wait_for()
    page.get_by_text("Registered", exact=True).wait_for()

    admin = load_actor(db, "kari")
    nils = load_actor(db, "nils")
    assert nils.role == "team_lead" and nils.org_unit_ids == {unit_id_by_code(db, "BGN")}
    [hit] = search_contacts(db, nils, "Kari Kontakt")
    assert get_contact(db, nils, hit.id).phones[0].consent.source == "Signed form"
    trail = {(line.who, line.entity, line.subject, line.action) for line in list_audit(db, admin)}
    assert trail == {
        ("CLI", "org. unit", "Oslo Sentrum", "added"),
        ("CLI", "user", "Kari Admin", "added"),
        ("Kari Admin", "org. unit", "Bergen Bryggen", "added"),
        ("Kari Admin", "user", "Nils Ny", "added"),
        ("Kari Admin", "contact", "Kari Kontakt", "added"),
    }
