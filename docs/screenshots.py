"""The README's screenshots of Delivery rates and of an alert incident (``make screenshots``).

A script rather than screenshots by hand, so they can be taken again whenever a page changes.
The app is served as ``make run`` serves it (demo mode, demo traffic, the simulated gateway),
but on a SQLite file in a temporary directory, never data/, and with the gateway failing 30 % of
SMS, so the demo's failure-spike rule opens an incident.  The rules are evaluated every 5 s
instead of every 60 s, so the wait is for the rule's figures, not the evaluation's turn;
``SMS_ALERT_INTERVAL=20 make screenshots`` times what ``make run`` does.  The time from starting
the app to the incident is printed, since the issue promises one within two minutes.
"""

from __future__ import annotations

import os
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import closing, contextmanager
from datetime import UTC, datetime
from pathlib import Path

from playwright.sync_api import Browser, Page, sync_playwright

DOCS = Path(__file__).resolve().parent
PROJECT_ROOT = DOCS.parent
CHROMIUM = "/usr/bin/chromium"
VIEWPORT = {"width": 1400, "height": 900}  # each PNG well under 300 kB
INCIDENT_TIMEOUT = 180.0  # seconds from the app's start; the issue promises an incident within 120
LEAD, ADMIN = "lead", "admin"  # the admin sees every unit's incident, wherever it opens first
ALERT_INTERVAL = os.environ.get("SMS_ALERT_INTERVAL") or "5"  # seconds; make run uses 20, the app 60


class ScreenshotFailed(Exception):
    """Something the screenshots wait for did not happen; the message says what."""


def demo_environment(database: Path) -> dict[str, str]:
    """``make run``'s settings, on ``database``, with a gateway failing 30 % of SMS."""
    return {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{database}",
        "SMS_DEMO_MODE": "true",
        "SMS_DEMO_TRAFFIC": os.environ.get("SMS_DEMO_TRAFFIC") or "6",
        "SMS_ALERT_INTERVAL": ALERT_INTERVAL,
        "SMS_SIMULATED_FAILED_SHARE": "0.3",
    }


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def served_demo(workdir: Path) -> Iterator[tuple[str, float]]:
    """Migrate, seed the demo and serve it; yields the app's URL and when it was started, and
    stops the app however the screenshots end."""
    env = demo_environment(workdir / "sms.db")
    sms_core = [sys.executable, "-m", "sms_core"]
    for step in ("migrate", "seed-demo"):
        subprocess.run([*sms_core, step], cwd=PROJECT_ROOT, env=env, check=True, stdout=subprocess.DEVNULL)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log_path = workdir / "serve.log"
    with log_path.open("w") as log:
        started = time.time()
        app = subprocess.Popen(
            [*sms_core, "serve", "--port", str(port), "--address", "127.0.0.1"],
            cwd=PROJECT_ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            wait_until_healthy(url, app, log_path)
            yield url, started
        finally:
            app.terminate()
            try:
                app.wait(timeout=10)
            except subprocess.TimeoutExpired:
                app.kill()


def wait_until_healthy(url: str, app: subprocess.Popen, log_path: Path, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and app.poll() is None:
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    tail = "".join(log_path.read_text().splitlines(keepends=True)[-15:])
    raise ScreenshotFailed(f"the app did not answer its health check within {timeout:.0f} s; it said:\n{tail}")


def first_failure_spike(database: Path) -> datetime | None:
    """When the first failure-spike incident opened, if one has; read straight from the SQLite
    file, since the script only needs the one figure the issue's promise is about."""
    with closing(sqlite3.connect(f"file:{database}?mode=ro", uri=True)) as db:
        (opened,) = db.execute("SELECT min(opened_at) FROM alert_incidents WHERE kind = 'failed_share'").fetchone()
    return datetime.fromisoformat(opened).replace(tzinfo=UTC) if opened else None


def wait_for_failure_spike(database: Path, started: float) -> float:
    """Seconds from the app's start to the incident's opening."""
    while (opened := first_failure_spike(database)) is None:
        if time.time() - started > INCIDENT_TIMEOUT:
            raise ScreenshotFailed(
                f"no failure-spike incident within {INCIDENT_TIMEOUT:.0f} s of starting the app with the "
                "gateway failing 30 % of SMS: is the demo's failure-spike rule (seed-demo) still enabled?"
            )
        time.sleep(1)
    return opened.timestamp() - started


def open_as(browser: Browser, url: str, username: str, path: str) -> Page:
    """A tab of the app as ``username``: the demo's user picker remembers its pick in a cookie."""
    context = browser.new_context(viewport=VIEWPORT, timezone_id="Europe/Oslo", locale="en-GB")
    context.add_cookies([{"name": "sms_demo_user", "value": username, "url": url}])
    page = context.new_page()
    page.set_default_timeout(30_000)
    page.goto(f"{url}/{path}")
    return page


def shoot_delivery_rates(browser: Browser, url: str) -> None:
    """Delivery rates as a team lead sees it, scrolled to time to delivery: the page's newest
    part; the page scrolls inside Streamlit's main area, so a full-page shot would show no more."""
    page = open_as(browser, url, LEAD, "sms-delivery-rates")
    heading = page.get_by_role("heading", name="Time to delivery").first
    heading.wait_for()
    for title in ("Received within", "By day"):
        page.get_by_test_id("stVegaLiteChart").filter(has_text=title).locator("svg").wait_for()
    heading.evaluate("title => title.scrollIntoView({block: 'start'})")
    page.wait_for_timeout(500)
    page.screenshot(path=DOCS / "delivery-rates.png")
    page.context.close()


def shoot_alert_incident(browser: Browser, url: str) -> None:
    """The overview's banner with the open failure spike, as the administrator sees it."""
    page = open_as(browser, url, ADMIN, "sms-messages")
    page.get_by_text("Failure spike in").first.wait_for()
    page.wait_for_timeout(1_000)  # the live table's first rows
    page.screenshot(path=DOCS / "alert-incident.png")
    page.context.close()


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="sms-screenshots-") as workdir:
        database = Path(workdir) / "sms.db"
        with served_demo(Path(workdir)) as (url, started), sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
            shoot_delivery_rates(browser, url)
            seconds = wait_for_failure_spike(database, started)
            print(f"The failure spike opened {seconds:.0f} s after the app started (rules every {ALERT_INTERVAL} s).")
            shoot_alert_incident(browser, url)
            browser.close()
    print(f"Saved {DOCS / 'delivery-rates.png'} and {DOCS / 'alert-incident.png'}.")


if __name__ == "__main__":
    try:
        main()
    except ScreenshotFailed as failure:
        sys.exit(f"make screenshots: {failure}")
