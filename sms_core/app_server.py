"""The one process ``make run`` starts: the Streamlit app, every HTTP route of
``sms_core.delivery.http`` and (in the embedded default) the worker as a background thread.

``st.App`` lets one server carry our own routes and a lifespan hook, so the embedded default
stays a single command.  The process has one runtime, ``app_runtime``: the server builds it
first (it knows its own port, which the gateway's callback URL needs) and the pages get the
same one from the cache.
"""

from __future__ import annotations

from contextlib import asynccontextmanager

import streamlit as st
from streamlit.runtime.pages_manager import PagesManager

from sms_core.bootstrap import Runtime, bootstrap
from sms_core.config import PROJECT_ROOT, Config, get_config
from sms_core.delivery.api.app import build_api
from sms_core.delivery.export_route import export_route
from sms_core.delivery.http import announce_report_url, report_url_fix, routes
from sms_core.delivery.worker import start_in_background
from sms_core.demo.traffic import start_demo_traffic


@st.cache_resource(show_spinner=False, hash_funcs={Config: hash})
def app_runtime(config: Config, _address: str | None = None, _port: int | None = None) -> Runtime:
    """The process's runtime for ``config``.  Keyed by the config alone (Streamlit leaves the
    underscored arguments out of the key): where the server listens only matters to its first call."""
    return bootstrap(config, app_address=_address, app_port=_port)


def _lifespan(runtime: Runtime):
    @asynccontextmanager
    async def lifespan(app):
        config, stops = runtime.config, []
        announce_report_url(runtime.gateway, report_url_fix(config))
        if config.embedded_worker:
            stops.append(start_in_background(runtime.db, runtime.gateway, config))
        if config.demo_traffic > 0:
            stops.append(start_demo_traffic(runtime.db, runtime.gateway, config.demo_traffic, config))
        try:
            yield None
        finally:
            for stop in reversed(stops):
                stop()

    return lifespan


def build_app(runtime: Runtime) -> st.App:
    # The pages live in pages/ (the project's layout), but navigation is st.navigation's alone.
    # Left to itself Streamlit also treats pages/ as old-style pages, and every deep link
    # (/sms-contacts, /sms-messages?contact=6) then flashed a "Page not found" dialog.
    PagesManager.uses_pages_directory = False
    served = routes(runtime.gateway, runtime.reports, runtime.replies, build_api(runtime.db, runtime.config))
    served.append(export_route(runtime.db, runtime.exports))  # the app's alone: its tickets live here
    return st.App(PROJECT_ROOT / "app.py", routes=served, lifespan=_lifespan(runtime))


def serve(port: int = 8501, address: str = "127.0.0.1") -> None:
    runtime = app_runtime(get_config(), address, port)
    build_app(runtime).run(
        config={
            "server.port": port,
            "server.address": address,
            "server.headless": True,
            "browser.gatherUsageStats": False,
            "server.fileWatcherType": "none",
            "client.toolbarMode": "minimal",
            # A script's uncaught error shows visitors Streamlit's plain sentence, not a traceback
            # with server paths and values; the log keeps the whole traceback.
            "client.showErrorDetails": "none",
        }
    )
