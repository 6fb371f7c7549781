"""A real HTTP receiver of status callbacks, as an organisation's system would run one: it keeps
every request it got (in arrival order) and answers as the test tells it — by default 500 to the
first delivery of each event and 200 to the next, or holding one request open until released."""

from __future__ import annotations

import asyncio
import json
import threading
from dataclasses import dataclass

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from support import Served


@dataclass(frozen=True)
class Received:
    event_id: int
    signature: str
    body: bytes
    answered: int

    @property
    def payload(self) -> dict:
        return json.loads(self.body)


class CallbackReceiver:
    def __init__(self, fail_first: bool = True, hold_event: int | None = None):
        self.fail_first = fail_first
        self.hold_event = hold_event  # the first delivery of this event is held open (until released)
        self.refuse: set[int] = set()  # events answered 500 every time
        self.received: list[Received] = []
        self.held = threading.Event()  # set once the held request has arrived
        self._lock = threading.Lock()
        self._release: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._served = Served(Starlette(routes=[Route("/callbacks", self._take, methods=["POST"])]))
        self.url = f"{self._served.url}/callbacks"

    async def _take(self, request: Request):
        body = await request.body()
        event_id = int(request.headers.get("X-Sms-Event-Id", "0"))
        with self._lock:
            first = all(r.event_id != event_id for r in self.received)
            answered = 500 if (self.fail_first and first) or event_id in self.refuse else 200
            self.received.append(Received(event_id, request.headers.get("X-Sms-Signature", ""), body, answered))
        if first and event_id == self.hold_event:
            self._loop, self._release = asyncio.get_running_loop(), asyncio.Event()
            self.held.set()
            await self._release.wait()
        return PlainTextResponse("ok" if answered == 200 else "try later", status_code=answered)

    def delivered(self) -> list[Received]:
        """What was answered 200, in arrival order."""
        with self._lock:
            return [r for r in self.received if r.answered == 200]

    def close(self) -> None:
        if self._release is not None:
            self._loop.call_soon_threadsafe(self._release.set)
        self._served.close()
