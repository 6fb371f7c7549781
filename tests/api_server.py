"""The HTTP API served as the worker serves it, for the tests of /api/v1 and its callbacks."""

import json
import urllib.error
import urllib.request

from support import Served, accepting

from sms_core.config import DEFAULTS
from sms_core.delivery.api.app import build_api
from sms_core.delivery.http import http_app
from sms_core.delivery.reports import ReportBatcher
from sms_core.use_cases.accounts import load_actor, unit_id_by_code
from sms_core.use_cases.api_keys import create_api_key


class ApiServer:
    """The project's HTTP routes with the API mounted, served as the worker serves them, on ``db``
    (the demo's units and users), with a key "Booking system" of Oslo Sentrum; ``call`` makes one
    JSON request with that key (or ``key=`` another, ``key=None`` none)."""

    def __init__(self, db, callback_url: str | None = None):
        self.db, self.gateway = db, accepting()
        self.admin = load_actor(db, "admin")
        self.unit_id = unit_id_by_code(db, "OSL")
        made = create_api_key(
            db, self.admin, org_unit_id=self.unit_id, name="Booking system", callback_url=callback_url
        )
        self.key, self.key_id, self.callback_secret = made.secret, made.key.id, made.callback_secret
        self.batcher = ReportBatcher(db)
        self._served = Served(http_app(self.gateway, self.batcher, api=build_api(db, DEFAULTS)))
        self.url = self._served.url

    def call(self, method: str, path: str, body=None, key: str | None = "", headers=None, raw: bytes | None = None):
        """(status, the answer's JSON — or text —, its headers)."""
        sent = {"Content-Type": "application/json", **(headers or {})}
        if key is not None:
            sent["Authorization"] = f"Bearer {key or self.key}"
        data = raw if raw is not None else (None if body is None else json.dumps(body).encode())
        request = urllib.request.Request(f"{self.url}{path}", data=data, method=method, headers=sent)
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                status, text, got = response.status, response.read().decode(), response.headers
        except urllib.error.HTTPError as exc:
            status, text, got = exc.code, exc.read().decode(), exc.headers
        try:
            return status, json.loads(text), got
        except ValueError:
            return status, text, got

    def close(self) -> None:
        self._served.close()
        self.batcher.close()
