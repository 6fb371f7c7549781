"""Every HTTP route the project serves, in one place: the app mounts them into ``st.App(routes=…)``
and the stand-alone worker serves them with uvicorn (``http_app``), so both answer alike.

Routes: ``GET|POST /api/dlr?id=…&token=…`` plus the gateway's own report parameters, and
``GET|POST /api/mo?secret=…`` plus the gateway's incoming-SMS parameters (``delivery.incoming``).
HEAD is refused on both: it must never apply a report or store a reply.  The HTTP API under
``/api/v1`` (``sms_core.delivery.api``, mounted when the caller hands it over) has limits of its own.

Limits on every route, because the gateway's side of the network is not ours: a body of at most
64 KiB, read piece by piece whatever Content-Length claims (a Content-Length that is not a
number is refused), parameter values of at most 4 KiB, and answers in plain text, never a
traceback.  Answers from our own code carry ``X-SMS-Route`` so the start-up check can tell our
route from whatever else might answer on that port.
"""

from __future__ import annotations

import logging
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Awaitable, Callable, Sequence
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect, Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.types import ASGIApp

from sms_core.config import Config, redact_url
from sms_core.delivery.incoming import INCOMING_PATH, ReplyBatcher, handle_incoming
from sms_core.delivery.reports import ReportBatcher, handle_report
from sms_core.gateways.base import Gateway

log = logging.getLogger(__name__)

REPORT_PATH = "/api/dlr"
API_PATH = "/api/v1"
MAX_BODY = 64 * 1024
MAX_VALUE = 4 * 1024
ROUTE_HEADER = "X-SMS-Route"
FORM = "application/x-www-form-urlencoded"

Handler = Callable[[Request, dict[str, str]], Awaitable[Response]]


class Refused(Exception):
    """A request our limits turn away, with the status and the sentence it is answered with."""

    def __init__(self, status: int, text: str):
        super().__init__(text)
        self.status = status
        self.text = text


def answer(text: str, status: int = 200, route: str = "") -> PlainTextResponse:
    headers = {ROUTE_HEADER: route} if route else None
    return PlainTextResponse(text, status_code=status, headers=headers)


def _parameters(pairs: list[tuple[str, str]], where: str, status: int) -> dict[str, str]:
    for key, value in pairs:
        if len(key) > MAX_VALUE or len(value) > MAX_VALUE:
            raise Refused(status, f"The {where} parameter {key[:40]!r} is longer than {MAX_VALUE} characters.")
    return dict(pairs)  # a repeated name: the last one counts


async def _body(request: Request) -> bytes:
    length = request.headers.get("content-length")
    if length is not None and not length.strip().isdigit():
        raise Refused(400, "Content-Length must be a number of bytes.")
    if length is not None and int(length) > MAX_BODY:
        raise Refused(413, f"The request body may be at most {MAX_BODY} bytes.")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY:
            raise Refused(413, f"The request body may be at most {MAX_BODY} bytes.")
    return bytes(body)


async def read_parameters(request: Request) -> dict[str, str]:
    """The query string's parameters and, for a POST, the form's (which win), within the limits."""
    params = _parameters(parse_qsl(request.url.query, keep_blank_values=True), "query", 414)
    if request.method == "POST":
        content_type = request.headers.get("content-type", FORM).partition(";")[0].strip().lower()
        if content_type not in (FORM, ""):
            raise Refused(415, f"Send the parameters in the query string or as {FORM}.")
        form = (await _body(request)).decode("utf-8", "replace")
        params.update(_parameters(parse_qsl(form, keep_blank_values=True), "form", 400))
    return params


def limited(route: str, handler: Handler, methods: Sequence[str]) -> Callable[[Request], Awaitable[Response]]:
    """``handler`` behind the limits; anything it raises is logged and answered without details."""

    async def endpoint(request: Request) -> Response:
        if request.method not in methods:  # Starlette adds HEAD to every GET route
            response = answer(f"Use {' or '.join(methods)}.", 405, route)
            response.headers["Allow"] = ", ".join(methods)
            return response
        try:
            return await handler(request, await read_parameters(request))
        except Refused as refused:
            return answer(refused.text, refused.status, route)
        except ClientDisconnect:  # gone before its body was read: nobody to answer, nothing to log
            return answer("the request ended before its body", 400, route)
        except Exception:
            log.exception("%s %s could not be handled", request.method, request.url.path)
            return answer("internal error", 500, route)

    return endpoint


def routes(
    gateway: Gateway, batcher: ReportBatcher, replies: ReplyBatcher | None = None, api: ASGIApp | None = None
) -> list[BaseRoute]:
    """Every route the project serves; the app and the worker mount exactly these.  Without
    ``replies`` the incoming-SMS route refuses every call; ``api`` is the HTTP API
    (``sms_core.delivery.api.app.build_api``), mounted only when given."""

    async def delivery_report(request: Request, params: dict[str, str]) -> Response:
        verdict = await run_in_threadpool(handle_report, params, gateway, batcher)
        return answer(verdict.text, verdict.http_status, "delivery-report")

    async def incoming_sms(request: Request, params: dict[str, str]) -> Response:
        address = request.client.host if request.client else None
        verdict = await run_in_threadpool(handle_incoming, params, address, gateway, replies)
        return answer(verdict.text, verdict.http_status, "incoming-sms")

    methods = ("GET", "POST")
    served: list[BaseRoute] = [
        Route(REPORT_PATH, limited("delivery-report", delivery_report, methods), methods=list(methods)),
        Route(INCOMING_PATH, limited("incoming-sms", incoming_sms, methods), methods=list(methods)),
    ]
    if api is not None:
        served.append(Mount(API_PATH, app=api))
    return served


def http_app(
    gateway: Gateway,
    batcher: ReportBatcher,
    lifespan=None,
    replies: ReplyBatcher | None = None,
    api: ASGIApp | None = None,
) -> Starlette:
    """The routes as an ASGI app of their own, for the stand-alone worker (and tests)."""
    return Starlette(routes=routes(gateway, batcher, replies, api), lifespan=lifespan)


# ---- which URL the gateway is given, and whether it answers ---------------------------------


def report_url(
    config: Config, app_address: str | None = None, app_port: int | None = None, worker: bool = False
) -> str:
    """The delivery-report URL to give the gateway: SMS_PUBLIC_WEBHOOK_URL if set; else what really
    serves the route — the stand-alone worker (SMS_WEBHOOK_ADDRESS / SMS_WEBHOOK_PORT) in the worker
    or without the embedded one, else the app itself (``app_port``, 8501 when it is not known)."""
    if config.public_webhook_url:
        return config.public_webhook_url
    if worker or not config.embedded_worker:
        address, port = config.webhook_address, config.webhook_port
    else:
        address, port = app_address, app_port or 8501
    host = "127.0.0.1" if address in (None, "", "0.0.0.0", "::") else address
    return f"http://{f'[{host}]' if ':' in host else host}:{port}{REPORT_PATH}"


def report_url_fix(config: Config, worker: bool = False) -> str:
    """The setting to change when the gateway's callbacks cannot reach the route."""
    if config.public_webhook_url:
        return "Check SMS_PUBLIC_WEBHOOK_URL: the gateway must reach this process's /api/dlr there."
    if worker:
        return "Set SMS_PUBLIC_WEBHOOK_URL to where the gateway reaches this worker (SMS_WEBHOOK_ADDRESS/PORT)."
    if config.embedded_worker:
        return "Set SMS_PUBLIC_WEBHOOK_URL to the URL where the gateway reaches this app's /api/dlr."
    return (
        f"Run `python -m sms_core worker` (it listens on SMS_WEBHOOK_PORT={config.webhook_port}) "
        "or set SMS_PUBLIC_WEBHOOK_URL to where the gateway reaches one."
    )


def announce_report_url(gateway: Gateway, fix: str) -> threading.Thread | None:
    """The start-up line: which callback URL the gateway is given, then (soon) whether it answers."""
    url = gateway.report_url or ""
    if not url.startswith(("http://", "https://")):
        log.info("Delivery reports: the %s gateway hands them over inside this process.", gateway.name)
        return None
    log.info("Delivery reports: the %s gateway is told to call %s.", gateway.name, redact_url(url))
    return check_report_url(url, fix)


def report_url_problem(url: str, timeout: float = 2.0) -> str | None:
    """None when our delivery-report route answers at ``url``; else what is there instead."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            status, route = response.status, response.headers.get(ROUTE_HEADER)
    except urllib.error.HTTPError as exc:
        status, route = exc.code, exc.headers.get(ROUTE_HEADER)
    except (OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        return f"nothing answers there ({getattr(reason, 'strerror', None) or reason})"
    if route == "delivery-report":
        return None
    return f"something other than this app answers there (HTTP {status})"


def check_report_url(url: str, fix: str, patience: float = 5.0) -> threading.Thread:
    """Say once, in the log, whether the gateway's callbacks will reach us; in a thread, since the
    server that answers them may still be starting."""

    def check() -> None:
        deadline = time.monotonic() + patience
        while (problem := report_url_problem(url)) and time.monotonic() < deadline:
            time.sleep(0.5)
        if problem:
            shown = redact_url(url)
            log.warning("Delivery reports will not arrive: the gateway is told %s, but %s. %s", shown, problem, fix)
        else:
            log.info("Delivery reports: %s answers.", redact_url(url))

    thread = threading.Thread(target=check, name="sms-report-url-check", daemon=True)
    thread.start()
    return thread
