"""Alerts end to end: the app as `make run` serves it, its simulated gateway failing 30 % of SMS
and a real SMTP server (aiosmtpd) — one incident per unit, one mail each, the banner in
Chromium — then the same database served with the gateway back to normal: the resolved mail."""

from __future__ import annotations

import time

from smtp_server import SmtpServer
from sqlalchemy import select

from sms_core.demo.seed import seed_demo
from sms_core.domain.setting_definitions import ALERT_MAIL_TO
from sms_core.storage.alert_models import AlertIncident
from sms_core.storage.database import Database
from sms_core.storage.models import OrgUnit
from sms_core.use_cases.accounts import load_actor
from sms_core.use_cases.settings import change_setting

ONCALL = "oncall@example.org"


def served(serve_app, url: str, smtp: SmtpServer, failed_share: str):
    return serve_app(
        url,
        SMS_SIMULATED_FAILED_SHARE=failed_share,
        SMS_SIMULATED_REJECTED_SHARE="0",
        SMS_SIMULATED_NO_REPORT_SHARE="0",
        SMS_SIMULATED_UNDELIVERED_SHARE="0",
        SMS_DEMO_TRAFFIC="0.3",
        SMS_ALERT_INTERVAL="2",
        SMS_DEMO_USER="admin",
        SMTP_HOST="127.0.0.1",
        SMTP_PORT=str(smtp.port),
        SMTP_FROM="sms@example.org",
    )


def follow(page, link, url_part: str) -> None:
    """Click until the address shows the click was followed: a click Streamlit drops while the
    live table reruns is clicked again, as a person would."""
    for _ in range(3):
        link.click()
        deadline = time.monotonic() + 10
        while url_part not in page.url and time.monotonic() < deadline:
            page.wait_for_timeout(200)
        if url_part in page.url:
            return
    raise AssertionError(f"the link never opened a page with {url_part!r}; the page shows {page.url}")


def to_oncall(smtp: SmtpServer, subject: str) -> list:
    return [mail for to, mail in smtp.received(subject) if to == ONCALL]


def spikes(db: Database) -> list[AlertIncident]:
    with db.session() as session:
        return list(session.scalars(select(AlertIncident).where(AlertIncident.kind == "failed_share")))


def test_a_failing_gateway_opens_one_incident_mails_it_once_shows_the_banner_and_resolves(sqlite_url, page, serve_app):
    db = Database(sqlite_url)
    seed_demo(db, messages=200)
    change_setting(db, load_actor(db, "admin"), ALERT_MAIL_TO, ONCALL)
    smtp = SmtpServer().start()
    with db.session() as session:
        unit_names = dict(session.execute(select(OrgUnit.id, OrgUnit.name)).all())
    app = served(serve_app, sqlite_url, smtp, "0.3")
    try:
        [(_, opened)] = smtp.wait_for("SMS alert: Failure spike in", timeout=90)[:1] or [(None, None)]
        assert opened is not None, "no alert mail within 90 s of a gateway failing 30 %"
        unit = opened["Subject"].removeprefix("SMS alert: Failure spike in ")
        body = opened.get_content()
        assert "messages of the last 10 minutes failed" in body and "/sms-messages?" in body

        page.goto(f"{app.url}/sms-messages")
        banner = page.get_by_text(f"Failure spike in {unit}").first
        banner.wait_for(timeout=30_000)
        # On the overview the banner sets the filters to the incident's messages, and the URL follows.
        follow(page, page.get_by_role("button", name="Show these messages").first, "status=Sending+failed")
    finally:
        app.stop()

    app = served(serve_app, sqlite_url, smtp, "0")  # the gateway is back to normal
    try:
        deadline = time.monotonic() + 180
        while any(i.resolved_at is None for i in spikes(db)) and time.monotonic() < deadline:
            time.sleep(0.5)
        assert all(i.resolved_at is not None for i in spikes(db)), "a failure spike stayed open with 0 % failing"
        deadline = time.monotonic() + 30  # the last resolved mails may still be on their way
        while len(to_oncall(smtp, "SMS alert resolved")) < len(spikes(db)) and time.monotonic() < deadline:
            time.sleep(0.2)
    finally:
        app.stop()
        smtp.stop()
    # One mail to the on-call address per incident as it opens and as it resolves, never one per
    # evaluation (the evaluation ran every 2 s throughout).
    for incident in spikes(db):
        unit_name = unit_names[incident.org_unit_id]
        times = sum(i.org_unit_id == incident.org_unit_id for i in spikes(db))
        for words in ("SMS alert: Failure spike in", "SMS alert resolved: Failure spike in"):
            assert len(to_oncall(smtp, f"{words} {unit_name}")) == times, (words, unit_name)
    db.dispose()
