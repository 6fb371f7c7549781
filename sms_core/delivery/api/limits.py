"""What every API request passes before our code sees it: a bounded size, a known key, its rate.

Sizes are checked by an ASGI middleware in front of FastAPI, reading the body piece by piece
whatever Content-Length claims, so an oversized request costs at most the limit in memory.
The rate limit is a fixed one-minute window per key, counted in this process.
"""

import json
import threading
import time

from sms_core.delivery.http import MAX_BODY, MAX_VALUE

MAX_TARGET = 2 * MAX_VALUE  # path and query string together


def _problem(status: int, detail: str) -> tuple[dict, bytes]:
    title = {413: "Content too large", 414: "URI too long", 415: "Unsupported media type", 400: "Bad request"}[status]
    body = {"type": f"/api/v1/problems/{title.lower().replace(' ', '-')}", "title": title, "status": status}
    body["detail"] = detail
    return {"status": status}, json.dumps(body).encode()


class SizeLimits:
    """413 for a body over MAX_BODY bytes, 414 for a path and query over MAX_TARGET, 400 for a
    Content-Length that is not a number, 415 for a body that does not say it is JSON."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        refusal = self._refusal(scope)
        if refusal is None:
            body, refusal = await self._read(receive)
        if refusal is not None:
            return await _send(send, *refusal)
        delivered = False

        async def replay():
            nonlocal delivered
            if delivered:
                return await receive()  # the disconnect, when the client goes
            delivered = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)

    @staticmethod
    def _refusal(scope):
        if len(scope.get("raw_path", b"")) + len(scope.get("query_string", b"")) > MAX_TARGET:
            return _problem(414, f"The path and query string may be at most {MAX_TARGET} bytes.")
        length = dict(scope.get("headers", [])).get(b"content-length")
        if length is not None and not length.strip().isdigit():
            return _problem(400, "Content-Length must be a number of bytes.")
        if length is not None and int(length) > MAX_BODY:
            return _problem(413, f"The request body may be at most {MAX_BODY} bytes.")
        media = dict(scope.get("headers", [])).get(b"content-type", b"").partition(b";")[0].strip().lower()
        if scope.get("method") in ("POST", "PUT") and media not in (b"", b"application/json"):
            return _problem(415, "Send the body as JSON, with Content-Type: application/json.")
        return None

    @staticmethod
    async def _read(receive):
        body = bytearray()
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return bytes(body), _problem(400, "The request ended before its body.")
            body += message.get("body", b"")
            if len(body) > MAX_BODY:
                return b"", _problem(413, f"The request body may be at most {MAX_BODY} bytes.")
            if not message.get("more_body"):
                return bytes(body), None


async def _send(send, start: dict, body: bytes) -> None:
    headers = [(b"content-type", b"application/problem+json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": start["status"], "headers": headers})
    await send({"type": "http.response.body", "body": body})


class RateLimiter:
    """Requests per key per minute; ``allow`` answers the seconds to wait, 0 when allowed."""

    def __init__(self):
        self._lock = threading.Lock()
        self._windows: dict[int, tuple[int, int]] = {}  # key id -> (minute, requests in it)

    def wait(self, key_id: int, per_minute: int, now: float | None = None) -> int:
        now = time.time() if now is None else now
        minute = int(now // 60)
        with self._lock:
            window, count = self._windows.get(key_id, (minute, 0))
            if window != minute:
                window, count = minute, 0
            if count >= per_minute:
                return max(1, int((minute + 1) * 60 - now + 0.999))
            self._windows[key_id] = (window, count + 1)
            return 0
