"""Errors as RFC 9457 problem details: one sentence a developer can act on, and the field."""

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from sms_core.domain.errors import (
    Conflict,
    DatabaseUnavailable,
    InvalidInput,
    NotFound,
    PermissionDenied,
    SmsError,
    Unauthorized,
)

log = logging.getLogger(__name__)
CHALLENGE = {"WWW-Authenticate": 'Bearer realm="sms"'}
PROBLEM = "application/problem+json"
_TITLES = {
    400: "Bad request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    413: "Content too large",
    414: "URI too long",
    415: "Unsupported media type",
    422: "Unprocessable content",
    429: "Too many requests",
    500: "Internal error",
    503: "Service unavailable",
}


class ApiProblem(Exception):
    def __init__(self, status: int, detail: str, field: str | None = None, headers: dict | None = None):
        super().__init__(detail)
        self.status, self.detail, self.field, self.headers = status, detail, field, headers


def problem(status: int, detail: str, field: str | None = None, headers: dict | None = None) -> JSONResponse:
    title = _TITLES.get(status, "Error")
    body = {"type": f"/api/v1/problems/{title.lower().replace(' ', '-')}", "title": title, "status": status}
    body["detail"] = detail
    if field:
        body["field"] = field
    return JSONResponse(body, status_code=status, media_type=PROBLEM, headers=headers)


def _status_of(exc: SmsError) -> int:
    match exc:
        case Unauthorized():
            return 401
        case InvalidInput():
            return 422
        case NotFound():
            return 404
        case PermissionDenied():
            return 403
        case Conflict():
            return 409
        case DatabaseUnavailable():
            return 503
    return 400


def _field(loc: tuple) -> str | None:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    return ".".join(parts) or None


def install(app: FastAPI) -> None:
    @app.exception_handler(ApiProblem)
    async def api_problem(request: Request, exc: ApiProblem):
        return problem(exc.status, exc.detail, exc.field, exc.headers)

    @app.exception_handler(SmsError)
    async def refusal(request: Request, exc: SmsError):
        status = _status_of(exc)
        headers = {"Retry-After": "5"} if status == 503 else CHALLENGE if status == 401 else None
        return problem(status, exc.message, exc.field, headers)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError):
        first = exc.errors()[0] if exc.errors() else {"loc": (), "msg": "The request is not valid."}
        field = _field(tuple(first.get("loc", ())))
        message = str(first.get("msg", "")).removeprefix("Value error, ")
        if first.get("type") == "json_invalid":
            message, field = "The body is not valid JSON.", None
        elif field:
            message = f"{field}: {message}"
        return problem(422, message, field)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException):
        detail = exc.detail if isinstance(exc.detail, str) else _TITLES.get(exc.status_code, "Error")
        if exc.status_code == 404:
            path = f"{request.method} {request.url.path}"
            detail = f"There is no {path} in this API; see /api/v1/openapi.json (with your key)."
        return problem(exc.status_code, detail, headers=getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def crashed(request: Request, exc: Exception):
        log.exception("%s %s could not be handled", request.method, request.url.path)
        return problem(500, "The request could not be handled; it has been logged. Try again later.")
