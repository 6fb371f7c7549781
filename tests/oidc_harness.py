"""A real OpenID Connect provider for a test, and the app served beside it as a deployment runs it.

Loaded by tests/conftest.py (``pytest_plugins``).  The provider is panva's certified
``oidc-provider`` (tests/oidc/provider.mjs, its test accounts listed there) run with the machine's
Node.js; ``make test`` installs it with ``npm ci`` from tests/oidc/package-lock.json.  The app is
``python -m sms_core serve`` started in a directory of the test's own, whose
``.streamlit/secrets.toml`` is the one Streamlit reads (the project-level file, looked up in the
working directory; HOME points there too, so no ``~/.streamlit`` of the machine's is read).

Without Node.js or the installed provider the tests are skipped with the reason; with CI=true they
fail instead, as everywhere in this suite.
"""

from __future__ import annotations

import secrets
import shutil
import subprocess
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest
from support import SmsProcess, environment, free_ports, require

from sms_core.config import PROJECT_ROOT
from sms_core.demo.seed import seed_demo
from sms_core.storage.database import Database
from sms_core.storage.migrate import migrate

PROVIDER_DIR = PROJECT_ROOT / "tests" / "oidc"
CLIENT_ID = "sms-messages"


@dataclass
class OidcProvider:
    issuer: str
    client_secret: str
    process: subprocess.Popen
    log_path: Path

    @property
    def metadata_url(self) -> str:
        return f"{self.issuer}/.well-known/openid-configuration"

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def start_provider(directory: Path, redirect_uri: str) -> OidcProvider:
    """oidc-provider on a free port, with the app's client registered for ``redirect_uri``."""
    node = shutil.which("node")
    require(node is not None, "Node.js is not installed (the sign-in tests run a real OpenID Connect provider)")
    require(
        (PROVIDER_DIR / "node_modules" / "oidc-provider").is_dir(),
        "the test OpenID Connect provider is not installed: run `npm ci` in tests/oidc (make test does)",
    )
    port = free_ports()[0]
    issuer, client_secret = f"http://localhost:{port}", secrets.token_urlsafe(24)
    env = environment(
        OIDC_PORT=str(port),
        OIDC_ISSUER=issuer,
        OIDC_REDIRECT_URI=redirect_uri,
        OIDC_CLIENT_ID=CLIENT_ID,
        OIDC_CLIENT_SECRET=client_secret,
    )
    log_path = directory / "oidc-provider.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen([node, "provider.mjs"], cwd=PROVIDER_DIR, env=env, stdout=log, stderr=log)
    provider = OidcProvider(issuer, client_secret, process, log_path)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and process.poll() is None:
        try:
            with urllib.request.urlopen(provider.metadata_url, timeout=2):
                return provider
        except OSError:
            time.sleep(0.2)
    provider.stop()
    raise RuntimeError(f"oidc-provider did not answer at {provider.metadata_url}:\n{log_path.read_text()}")


def auth_section(provider: OidcProvider, app_url: str) -> str:
    """The ``[auth]`` section a deployment writes into .streamlit/secrets.toml, for ``provider``.
    Streamlit asks providers for ``prompt=select_account`` unless told otherwise, which
    oidc-provider does not offer: ``login`` is what it asks for here."""
    return (
        "[auth]\n"
        f'redirect_uri = "{app_url}/oauth2callback"\n'
        f'cookie_secret = "{secrets.token_urlsafe(32)}"\n'
        f'client_id = "{CLIENT_ID}"\n'
        f'client_secret = "{provider.client_secret}"\n'
        f'server_metadata_url = "{provider.metadata_url}"\n'
        'client_kwargs = { prompt = "login" }\n'
    )


def serve_in(directory: Path, database_url: str, port: int, secrets_toml: str | None, **env: str) -> SmsProcess:
    """``python -m sms_core serve`` started in ``directory``, with ``secrets_toml`` as its
    .streamlit/secrets.toml (None: no secrets file at all) and ``env`` as its only app settings."""
    if secrets_toml is not None:
        (directory / ".streamlit").mkdir(exist_ok=True)
        (directory / ".streamlit" / "secrets.toml").write_text(secrets_toml)
    settings = environment(DATABASE_URL=database_url, SMS_EMBEDDED_WORKER="false", HOME=str(directory), **env)
    return SmsProcess(
        ["serve", "--port", str(port)],
        settings,
        directory / "app.log",
        f"http://127.0.0.1:{port}/_stcore/health",
        cwd=directory,
    )


def serve_with_sign_in(directory: Path, database_url: str) -> tuple[str, OidcProvider, SmsProcess]:
    """A test provider and the app served against it, as a deployment configures single sign-on:
    (the app's URL, the provider, the app); the caller stops both."""
    port = free_ports()[0]
    app_url = f"http://127.0.0.1:{port}"
    provider = start_provider(directory, f"{app_url}/oauth2callback")
    try:
        return app_url, provider, serve_in(directory, database_url, port, auth_section(provider, app_url))
    except BaseException:
        provider.stop()
        raise


@dataclass
class SignInApp:
    url: str
    db: Database
    provider: OidcProvider
    app: SmsProcess


@pytest.fixture(scope="module")
def sign_in_app(tmp_path_factory):
    """The app with single sign-on against a real oidc-provider, on a demo database (SQLite) of
    its own; one per test module, as each test signs in from a fresh browser context."""
    directory = tmp_path_factory.mktemp("sign-in")
    url = f"sqlite:///{directory / 'sms.db'}"
    db = Database(url)
    migrate(db)
    seed_demo(db, messages=40)
    app_url, provider, app = serve_with_sign_in(directory, url)
    yield SignInApp(app_url, db, provider, app)
    app.stop()
    provider.stop()
    db.dispose()
