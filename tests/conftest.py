"""Fixtures, each defined once: databases on SQLite and real PostgreSQL, demo data, the app.

A test that uses ``db`` (or ``database_url``, ``demo_db``) runs on both databases, unless it is
marked ``sqlite_only``; every test that runs on PostgreSQL gets the ``postgres`` marker, so
``-m "not postgres"`` runs without a server.  Folder conftests add the tier markers and the
fixtures only their tier uses.

PostgreSQL comes from TEST_DATABASE_URL (default: the local server, database ``postgres`` used
only to create and drop this run's own databases, so runs never collide).  Each test module gets
one database, migrated once and put back before each of its tests (postgres_databases.py);
nothing here stops, restarts or reconfigures the server.  The demo data is seeded once per
module, on either database, and copied for each test that starts from it (``SEEDED``).  Outside
CI a missing server skips those tests with the reason; with CI=true it fails them.
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
from postgres_databases import ModuleDatabase, PostgresServer
from support import app_on, free_ports, require

from sms_core.config import PROJECT_ROOT
from sms_core.demo.seed import seed_demo
from sms_core.storage.database import Database
from sms_core.storage.migrate import migrate

pytest_plugins = [
    "kannel_harness",
    "oidc_harness",
    "reliability_log",
]  # real Kannel, real OIDC provider; RELIABILITY.md

ADMIN_URL = os.environ.get("TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
RUN_ID = uuid.uuid4().hex[:8]
BACKENDS = ("sqlite", "postgres")
POSTGRES_FIXTURES = {"postgres_url", "pg_db"}
SEEDED = {"demo_db": 300, "demo_base_db": 0, "app_env": 200}  # a fixture: the demo messages it starts with


def seeded(url: str, messages: int) -> None:
    database = Database(url)
    seed_demo(database, messages=messages)
    database.dispose()


def pytest_generate_tests(metafunc):
    """Both databases for every test of a database, so a dialect difference cannot hide."""
    if "database_url" in metafunc.fixturenames:
        sqlite_only = metafunc.definition.get_closest_marker("sqlite_only")
        metafunc.parametrize("database_url", ["sqlite"] if sqlite_only else BACKENDS, indirect=True)


def pytest_collection_modifyitems(items):
    """``postgres`` on each test that needs the server, so ``-m "not postgres"`` runs without one."""
    for item in items:
        params = getattr(item, "callspec", None)
        on_postgres = params is not None and params.params.get("database_url") == "postgres"
        if on_postgres or POSTGRES_FIXTURES & set(item.fixturenames):
            item.add_marker(pytest.mark.postgres)


@pytest.fixture(scope="session")
def postgres_server():
    server = PostgresServer(ADMIN_URL, RUN_ID)
    yield server
    server.close()


@pytest.fixture(scope="module")
def postgres_module_database(postgres_server) -> ModuleDatabase:
    """This test module's PostgreSQL database, migrated once."""
    require(postgres_server.error is None, postgres_server.error or "")
    database = postgres_server.new_database()
    yield database
    postgres_server.drop(database)


def demo_messages(request) -> int | None:
    """The demo seed the test's database starts with (None: empty, just migrated)."""
    return next((n for name, n in SEEDED.items() if name in request.fixturenames), None)


@pytest.fixture
def postgres_url(request, postgres_module_database) -> str:
    """The module's PostgreSQL database, put back to just migrated (or just seeded, for demo_db)."""
    messages = demo_messages(request)
    if messages is None:
        postgres_module_database.restore()
    else:
        postgres_module_database.restore_or_make(f"demo-{messages}", lambda url: seeded(url, messages))
    return postgres_module_database.url


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("sqlite") / "template.db"
    template = Database(f"sqlite:///{path}")
    migrate(template)
    template.dispose()
    return path


@pytest.fixture(scope="module")
def sqlite_demo_template(sqlite_template, tmp_path_factory):
    """``template(messages)``: the migrated SQLite database with the demo seed of that many
    messages, seeded once per module (seeding is most of a test's set-up; copying a file is not).
    Per module, not per run, so the demo history is never more than a module's run old."""
    made: dict[int, Path] = {}

    def template(messages: int) -> Path:
        if messages not in made:
            path = tmp_path_factory.mktemp("sqlite-demo") / f"demo-{messages}.db"
            shutil.copy(sqlite_template, path)
            seeded(f"sqlite:///{path}", messages)
            made[messages] = path
        return made[messages]

    return template


@pytest.fixture
def sqlite_url(request, sqlite_template, sqlite_demo_template, tmp_path) -> str:
    """A fresh SQLite database: a copy of the migrated template (or of the seeded one, for demo_db)."""
    messages = demo_messages(request)
    path = tmp_path / "sms.db"
    shutil.copy(sqlite_template if messages is None else sqlite_demo_template(messages), path)
    return f"sqlite:///{path}"


@pytest.fixture
def database_url(request) -> str:
    """A freshly migrated, empty database on each backend (parametrised by pytest_generate_tests)."""
    return request.getfixturevalue(f"{request.param}_url")


def opened(url: str):
    database = Database(url)
    yield database
    database.dispose()


@pytest.fixture
def db(database_url):
    yield from opened(database_url)


@pytest.fixture
def pg_db(postgres_url):
    """PostgreSQL only: for concurrency, LISTEN/NOTIFY and SKIP LOCKED tests."""
    yield from opened(postgres_url)


@pytest.fixture
def demo_db(db):
    """A database with the demo org units, users, contacts and a small message history: a copy of
    one seeded once per module (``sqlite_url``, ``postgres_url``), as seeding each would cost most
    of a test's set-up time."""
    return db


@pytest.fixture
def demo_base_db(db):
    """The demo org units, users, contacts and standard texts, without messages (seeded once per
    module, as ``demo_db``)."""
    return db


@pytest.fixture
def app_env(monkeypatch, sqlite_url):
    """The app on a demo database on SQLite: quick, for the page tests."""
    yield from app_on(sqlite_url, monkeypatch)


class LiveApp:
    """The real app, started the way `make run` starts it, on a free port and a fresh database."""

    def __init__(self, database_url: str, **env: str):
        self.db = Database(database_url)
        self.port = free_ports()[0]
        self.url = f"http://127.0.0.1:{self.port}"
        environment = {
            **os.environ,
            "DATABASE_URL": database_url,
            "SMS_SIMULATED_LATENCY": "0.5",
            "SMS_DEMO_MODE": "true",  # the sidebar picks the user; the sign-in tests serve the app without it
            **env,
        }
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
    seed_demo(Database(sqlite_url), messages=getattr(request, "param", {}).get("messages", 200))
    env = {k: v for k, v in getattr(request, "param", {}).items() if k != "messages"}
    app = LiveApp(sqlite_url, **env)
    yield app
    app.stop()


@pytest.fixture
def serve_app():
    """``serve_app(url, **env)``: the app served on the database at ``url`` (not seeded here),
    as often as a test restarts it; every one still running is stopped at the end."""
    started: list[LiveApp] = []

    def start(url: str, **env: str) -> LiveApp:
        started.append(LiveApp(url, **env))
        return started[-1]

    yield start
    for app in started:
        app.stop()
