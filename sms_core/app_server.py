"""The one process ``make run`` starts: the Streamlit app, the delivery-report webhook at
``/api/dlr`` and (in the embedded default) the worker as a background thread.

``st.App`` lets one server carry our own HTTP route and a lifespan hook, so the embedded
default stays a single command.
"""

from __future__ import annotations

from contextlib import asynccontextmanager

import streamlit as st
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from sms_core.config import PROJECT_ROOT, get_config
from sms_core.storage.database import get_database


async def delivery_report(request: Request) -> PlainTextResponse:
    from sms_core.delivery.worker import handle_report

    params = dict(request.query_params)
    if request.method == "POST":
        params.update({k: str(v) for k, v in (await request.form()).items()})
    verdict = await run_in_threadpool(handle_report, get_database(), params)
    return PlainTextResponse(verdict.text, status_code=verdict.http_status)


@asynccontextmanager
async def _lifespan(app):
    from sms_core.bootstrap import get_gateway

    config, stops = get_config(), []
    if config.embedded_worker:
        from sms_core.delivery.worker import start_in_background

        stops.append(start_in_background(get_database(), get_gateway()))
    if config.demo_traffic > 0:
        from sms_core.demo.traffic import start_demo_traffic

        stops.append(start_demo_traffic(get_database(), get_gateway(), config.demo_traffic))
    try:
        yield None
    finally:
        for stop in reversed(stops):
            stop()


def build_app() -> st.App:
    # The pages live in pages/ (the project's layout), but navigation is st.navigation's alone.
    # Left to itself Streamlit also treats pages/ as old-style pages, and every deep link
    # (/sms-contacts, /sms-messages?contact=6) then flashed a "Page not found" dialog.
    from streamlit.runtime.pages_manager import PagesManager

    PagesManager.uses_pages_directory = False
    routes = [Route("/api/dlr", delivery_report, methods=["GET", "POST"])]
    return st.App(PROJECT_ROOT / "app.py", routes=routes, lifespan=_lifespan)


def serve(port: int = 8501, address: str = "0.0.0.0") -> None:
    build_app().run(
        config={
            "server.port": port,
            "server.address": address,
            "server.headless": True,
            "browser.gatherUsageStats": False,
            "server.fileWatcherType": "none",
            "client.toolbarMode": "minimal",
        }
    )
