"""``GET /export/sms-messages.csv?ticket=…``: the overview's CSV, streamed by the app itself.

Only the app mounts it (``sms_core.app_server.build_app``): the tickets live in the app
process's memory (``sms_core.use_cases.export_tickets``), and the stand-alone worker serves no UI.

Why a route of our own: Streamlit's download button keeps the whole file in the app's memory
while it serves it.  Here the CSV is produced a keyset page at a time in a worker thread and
sent as it comes, so the app's memory stays flat however many rows there are; a browser that goes
away closes the generator, which stops the export.  The ticket is the authentication (random,
once, five minutes) and the user is read again before the first byte.  It is never logged: the
server's access log is off and our own log lines name the path only.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Generator
from datetime import date

from starlette.concurrency import iterate_in_threadpool, run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from sms_core.delivery.http import ROUTE_HEADER, Refused, limited
from sms_core.domain.errors import SmsError
from sms_core.storage.database import Database
from sms_core.use_cases.export_tickets import EXPORT_PATH, ExportTickets, export_bytes

ROUTE = "export-csv"
EXPIRED = "This download link has expired or was used; click Export CSV again."


def export_route(db: Database, tickets: ExportTickets) -> Route:
    async def download(request: Request, params: dict[str, str]) -> Response:
        ticket = tickets.redeem(params.get("ticket", ""))
        if ticket is None:
            raise Refused(403, EXPIRED)
        try:
            chunks = await run_in_threadpool(export_bytes, db, ticket)
        except SmsError as refusal:  # deactivated, lost every unit or the permission since the click
            raise Refused(403, refusal.message) from None
        headers = {
            "Content-Disposition": f'attachment; filename="sms-messages-{date.today()}.csv"',
            "Cache-Control": "no-store",
            ROUTE_HEADER: ROUTE,
        }
        return StreamingResponse(_streamed(chunks), media_type="text/csv; charset=utf-8", headers=headers)

    return Route(EXPORT_PATH, limited(ROUTE, download, ("GET",)), methods=["GET"])


async def _streamed(chunks: Generator[bytes]) -> AsyncIterator[bytes]:
    """Each chunk made in a worker thread; the generator is closed however the response ends."""
    try:
        async for chunk in iterate_in_threadpool(chunks):
            yield chunk
    finally:
        chunks.close()  # stops the export
