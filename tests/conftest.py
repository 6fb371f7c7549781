"""Fixtures, each defined once: databases on SQLite and real PostgreSQL, demo data, the app.

PostgreSQL comes from TEST_DATABASE_URL (default: the local server, database ``postgres`` used
only to create and drop this run's own databases, so runs never collide).  Outside CI a missing
server skips those tests with the reason; with CI=true it fails them.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from support import free_ports, require

from sms_core import config as config_module
from sms_core.app_server import app_runtime
from sms_core.config import PROJECT_ROOT
from sms_core.storage.database import Database
from sms_core.storage.migrate import migrate

pytest_plugins = ["kannel_harness", "reliability_log"]  # a real Kannel for a test; RELIABILITY.md

ADMIN_URL = os.environ.get("TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
RUN_ID = uuid.uuid4().hex[:8]


class PostgresServer:
    """Creates databases for this test run from a migrated template, and drops them after."""

    def __init__(self, admin_url: str):
        self.admin_url = make_url(admin_url)
        self.engine = create_engine(self.admin_url, isolation_level="AUTOCOMMIT", pool_pre_ping=True)
        self.template = f"sms_tpl_{RUN_ID}"
        self.created: list[str] = []
        self.error: str | None = None
        try:
            with self.engine.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{self.template}"'))
            self.created.append(self.template)
            template_db = Database(self.url(self.template))
            migrate(template_db)
            template_db.dispose()
        except Exception as exc:  # reported by the fixtures as skip (or failure in CI)
            self.error = f"PostgreSQL at {self.admin_url.render_as_string(hide_password=True)} is not usable: {exc}"

    def url(self, name: str) -> str:
        return self.admin_url.set(database=name).render_as_string(hide_password=False)

    def new_database(self) -> str:
        name = f"sms_test_{RUN_ID}_{len(self.created)}"
        with self.engine.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{self.template}"'))
        self.created.append(name)
        return self.url(name)

    def drop(self, url: str) -> None:
        name = make_url(url).database
        with self.engine.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        if name in self.created:
            self.created.remove(name)

    def close(self) -> None:
        for name in reversed(list(self.created)):
            try:
                with self.engine.connect() as conn:
                    conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            except Exception:
                pass
        self.engine.dispose()


@pytest.fixture(scope="session")
def postgres_server():
    server = PostgresServer(ADMIN_URL)
    yield server
    server.close()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("sqlite") / "template.db"
    template = Database(f"sqlite:///{path}")
    migrate(template)
    template.dispose()
    return path


@pytest.fixture
def postgres_url(postgres_server):
    require(postgres_server.error is None, postgres_server.error or "")
    url = postgres_server.new_database()
    yield url
    postgres_server.drop(url)


@pytest.fixture
def sqlite_url(sqlite_template, tmp_path) -> str:
    path = tmp_path / "sms.db"
    shutil.copy(sqlite_template, path)
    return f"sqlite:///{path}"


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request) -> str:
    """A freshly migrated, empty database on each backend."""
    return request.getfixturevalue(f"{request.param}_url")


@pytest.fixture
def db(database_url):
    database = Database(database_url)
    yield database
    database.dispose()


@pytest.fixture
def pg_db(postgres_url):
    """PostgreSQL only: for concurrency, LISTEN/NOTIFY and SKIP LOCKED tests."""
    database = Database(postgres_url)
    yield database
    database.dispose()


@pytest.fixture
def demo_db(db):
    """A database with the demo org units, users, contacts and a small message history."""
    from sms_core.demo.seed import seed_demo

    seed_demo(db, messages=300)
    return db


def app_on(url: str, monkeypatch):
    """Point the app (AppTest runs it in this process) at a fresh demo database at ``url``."""
    from sms_core.demo.seed import seed_demo

    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("SMS_EMBEDDED_WORKER", "false")
    config_module.get_config.cache_clear()
    runtime = app_runtime(config_module.get_config())  # the one the pages get (pages._shared.runtime)
    seed_demo(runtime.db, messages=200)
    yield runtime.db
    runtime.close()
    app_runtime.clear()
    config_module.get_config.cache_clear()


@pytest.fixture
def app_env(monkeypatch, sqlite_url):
    """The app on SQLite: quick, for the page tests."""
    yield from app_on(sqlite_url, monkeypatch)


class LiveApp:
    """The real app, started the way `make run` starts it, on a free port and a fresh database."""

    def __init__(self, database_url: str, **env: str):
        self.db = Database(database_url)
        self.port = free_ports()[0]
        self.url = f"http://127.0.0.1:{self.port}"
        environment = {**os.environ, "DATABASE_URL": database_url, "SMS_SIMULATED_LATENCY": "0.5", **env}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "sms_core", "serve", "--port", str(self.port), "--address", "127.0.0.1"],
            cwd=PROJECT_ROOT,
            env=environment,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"{self.url}/_stcore/health", timeout=2) as response:
                    if response.status == 200:
                        return
            except OSError:
                time.sleep(0.3)
        self.stop()
        raise RuntimeError("the app did not answer its health check within 60 s")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.db.dispose()


@pytest.fixture
def live_app(sqlite_url, request):
    """A served demo app; parametrize indirectly with a dict of environment overrides."""
    from sms_core.demo.seed import seed_demo

    seed_demo(Database(sqlite_url), messages=getattr(request, "param", {}).get("messages", 200))
    env = {k: v for k, v in getattr(request, "param", {}).items() if k != "messages"}
    app = LiveApp(sqlite_url, **env)
    yield app
    app.stop()


BROWSER_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = PROJECT_ROOT / "test-artifacts"


@pytest.fixture(scope="session")
def browser():
    path = shutil.which("chromium") or "/usr/bin/chromium"
    require(os.path.exists(path), "Debian's chromium is not installed (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        require(False, "Playwright for Python is not installed (requirements-dev.txt)")
    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=path, args=BROWSER_FLAGS)
        yield instance
        instance.close()


FAILED = pytest.StashKey[bool]()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.when == "call" and report.failed:
        item.stash[FAILED] = True
    return report


@pytest.fixture
def page(browser, request):
    """A browser tab in the Oslo time zone; a screenshot is kept in test-artifacts/ on failure."""
    context = browser.new_context(timezone_id="Europe/Oslo", locale="en-GB", viewport={"width": 1400, "height": 1000})
    tab = context.new_page()
    tab.set_default_timeout(15_000)
    yield tab
    if request.node.stash.get(FAILED, False):
        ARTIFACTS.mkdir(exist_ok=True)
        tab.screenshot(path=str(ARTIFACTS / f"{request.node.name}.png"), full_page=True)
    context.close()
