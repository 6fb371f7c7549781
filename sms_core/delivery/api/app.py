"""The HTTP API, ``/api/v1``: a FastAPI application mounted into the one HTTP surface
(``sms_core.delivery.http.routes``), so the app and the stand-alone worker serve it alike.

FastAPI because its pydantic models validate requests and generate the OpenAPI 3.1 document
from the same code; the endpoints are plain (sync) functions run in the thread pool, calling the
use cases the pages call, with an Actor built from the API key.  POST /sms, the one on the hot
path, is async: it checks a key seen before from memory and awaits its group commit in the event
loop, as a thread hop per request cost more than the send.
"""

import asyncio
import time
from dataclasses import dataclass, field
from typing import Annotated

from fastapi import Depends, FastAPI, Request
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool

from sms_core.config import Config
from sms_core.delivery.api import problems
from sms_core.delivery.api.limits import RateLimiter, SizeLimits
from sms_core.delivery.api.problems import ApiProblem
from sms_core.delivery.api.sends import SendBatcher
from sms_core.domain.permissions import Actor
from sms_core.domain.setting_definitions import API_REQUESTS_PER_MINUTE
from sms_core.storage.database import Database
from sms_core.use_cases.api_keys import REFUSED, key_actor, verified_key_actor
from sms_core.use_cases.settings import get_settings

API_PREFIX = "/api/v1"
SETTINGS_FOR = 5.0  # seconds the rate-limit setting is reused before it is read again
DESCRIPTION = """Send SMS from the organisation's own systems, follow their status, and keep contacts and
consent up to date.  Authenticate with `Authorization: Bearer <API key>` (this document too, at
`/api/v1/openapi.json`); a key acts as a sender of its org. unit.  `POST /sms` with an
`Idempotency-Key` header creates at most one message per key within 24 hours.  Errors are
`application/problem+json` (RFC 9457).

Status callbacks: when the key has a callback URL, every status change of its messages is POSTed
there as JSON (`StatusCallback`), signed with `X-Sms-Signature: t=<unix time>,v1=<hex HMAC-SHA256 of
"t.body" with the key's callback secret>` and retried for up to 24 hours; `event_id` identifies a
repeat."""


@dataclass
class ApiContext:
    db: Database
    config: Config
    sends: SendBatcher
    limiter: RateLimiter = field(default_factory=RateLimiter)
    _limit: tuple[float, int] = (0.0, 0)
    _reading: asyncio.Future | None = field(default=None, repr=False)

    def per_minute(self) -> int:
        value = self.known_per_minute()
        if value is None:
            value = int(get_settings(self.db)[API_REQUESTS_PER_MINUTE])
            self._limit = (time.monotonic(), value)
        return value

    def known_per_minute(self) -> int | None:
        """The setting as read less than SETTINGS_FOR ago, or None: the event loop does not read it."""
        read_at, value = self._limit
        return value if time.monotonic() - read_at <= SETTINGS_FOR else None

    async def per_minute_soon(self) -> int:
        """``per_minute`` for the event loop: the requests that find the setting stale at once wait
        for one read in a worker thread, not one read and one thread each (every SETTINGS_FOR
        seconds, each of 50 busy clients' requests in flight did)."""
        value = self.known_per_minute()
        if value is not None:
            return value
        reading = self._reading
        if reading is None or reading.done() or reading.get_loop() is not asyncio.get_running_loop():
            reading = self._reading = asyncio.ensure_future(run_in_threadpool(self.per_minute))
        return await asyncio.shield(reading)


bearer = HTTPBearer(auto_error=False, description="The API key, as `python -m sms_core api-keys create` printed it.")


async def context(request: Request) -> ApiContext:
    """Async so FastAPI does not hop to a worker thread for an attribute read."""
    return request.app.state.context


def sender(request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]) -> Actor:
    """The Actor the request's key stands for, within the key's rate limit."""
    ctx: ApiContext = request.app.state.context
    actor = key_actor(ctx.db, credentials.credentials) if credentials else None
    if actor is None:
        raise ApiProblem(401, REFUSED, "Authorization", problems.CHALLENGE)
    return _within_limit(ctx, actor, ctx.per_minute())


async def sms_sender(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
) -> Actor:
    """``sender`` for POST /sms: a key seen before is answered from memory, in the event loop; the
    batch that records the send checks in its transaction that the key is not revoked."""
    ctx: ApiContext = request.app.state.context
    actor = verified_key_actor(credentials.credentials) if credentials else None
    if actor is None:
        return await run_in_threadpool(sender, request, credentials)
    return _within_limit(ctx, actor, await ctx.per_minute_soon())


def _within_limit(ctx: ApiContext, actor: Actor, per_minute: int) -> Actor:
    wait = ctx.limiter.wait(actor.api_key_id, per_minute)
    if wait:
        raise ApiProblem(
            429,
            f"This API key has made more than {per_minute:,} requests this minute; retry after {wait} s.",
            headers={"Retry-After": str(wait)},
        )
    return actor


Sender = Annotated[Actor, Depends(sender)]
SmsSender = Annotated[Actor, Depends(sms_sender)]
Context = Annotated[ApiContext, Depends(context)]


def build_api(db: Database, config: Config) -> SizeLimits:
    """The API as an ASGI app to mount at /api/v1 (its size limits in front of FastAPI)."""
    api = _fastapi()
    api.state.context = ApiContext(db, config, SendBatcher(db))
    limited = SizeLimits(api)
    limited.fastapi = api
    return limited


def openapi_document(api: FastAPI | None = None) -> dict:
    """The OpenAPI 3.1 document: what /api/v1/openapi.json serves (from the served app, which keeps
    it once generated) and what the app's HTTP API page renders in-process (from a fresh app)."""
    document = (api or _fastapi()).openapi()
    return {**document, "servers": [{"url": API_PREFIX}]}


def _fastapi() -> FastAPI:
    from sms_core.delivery.api import contacts_routes, sms_routes  # they import this module's Sender

    api = FastAPI(
        title="SMS messages API",
        version="1",
        description=DESCRIPTION,
        docs_url=None,  # Swagger UI loads from a CDN; the app's "HTTP API" page renders the document
        redoc_url=None,
        openapi_url=None,  # FastAPI's own route would serve it without a key; openapi_json needs one
    )
    problems.install(api)

    @api.get("/openapi.json", include_in_schema=False)
    def openapi_json(request: Request, _: Sender) -> JSONResponse:
        """Behind a key like every other route: the project's rule is that every HTTP route is
        authenticated, and the document tells a stranger what the API can do."""
        return JSONResponse(openapi_document(request.app))

    api.include_router(sms_routes.router)
    api.include_router(contacts_routes.router)
    return api
