"""What a click on the overview's Export CSV downloads, for AppTest (which serves no HTTP): the
button clicked, and the link it shows followed through the app's own export route — the same
route the served app mounts, on the same in-process tickets the page made the link with."""

from __future__ import annotations

import csv
import io

from starlette.applications import Starlette
from starlette.testclient import TestClient
from streamlit.testing.v1 import AppTest

from pages._overview_state import EXPORT, STATE_KEY
from sms_core.app_server import app_runtime
from sms_core.config import get_config
from sms_core.delivery.export_route import export_route


def export_link(at: AppTest) -> str | None:
    """Click Export CSV; the link (a path on the app) the page then offers, if any."""
    at.button(key=EXPORT).click().run()
    link = at.session_state[STATE_KEY].export_link if STATE_KEY in at.session_state else None
    return None if link is None or at.error else link.url


def follow(url: str):
    """GET the link from the app's export route, as the browser would."""
    runtime = app_runtime(get_config())
    return follow_with(runtime.db, runtime.exports, url)


def follow_with(db, tickets, url: str):
    with TestClient(Starlette(routes=[export_route(db, tickets)])) as client:
        return client.get(url)


def exported_rows(at: AppTest) -> list[list[str]]:
    url = export_link(at)
    assert url is not None, [e.value for e in at.error]
    response = follow(url)
    assert response.status_code == 200, response.text
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"), newline="")))
