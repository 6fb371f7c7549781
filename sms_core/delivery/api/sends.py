"""Group commit for ``POST /api/v1/sms``: the sends that arrive together are recorded in one
transaction, as delivery reports are (``ReportBatcher``).

An organisation's booking system sends its reminders in bursts, and one commit per message makes
every request wait for its own flush to disk (and PostgreSQL serialises the commits of
transactions that NOTIFY, as every new message does for the live overview).  Each request still
waits for its own message, so its answer says what was recorded; a send refused by a check fails
alone, and a batch that fails as a whole is recorded again send by send (a savepoint each).
"""

from __future__ import annotations

import asyncio

from sms_core.delivery.reports import ReportBatcher
from sms_core.domain.errors import SmsError
from sms_core.read_models.api_messages import message_summary
from sms_core.storage.database import Database
from sms_core.use_cases.recording import PreparedSend, record_sends


class SendBatcher(ReportBatcher):
    what = "API sends"

    def __init__(self, db: Database, max_batch: int = 100):
        super().__init__(db, max_batch=max_batch)

    def send(self, send: PreparedSend) -> dict:
        """The recorded message as the API shows it; raises what refused it (InvalidInput, …)."""
        outcome = self.apply(send)  # type: ignore[arg-type]
        if isinstance(outcome, Exception):
            raise outcome
        return outcome  # type: ignore[return-value]

    async def send_soon(self, send: PreparedSend, timeout: float = 30) -> dict:
        """``send`` for the event loop: the request waits for its batch without holding a thread."""
        outcome = await asyncio.wait_for(asyncio.wrap_future(self.submit(send)), timeout)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    def _store_together(self, sends: list[PreparedSend]) -> list[dict | SmsError]:  # type: ignore[override]
        return record_sends(self.db, sends, message_summary)

    def _store_alone(self, send: PreparedSend) -> dict | SmsError:  # type: ignore[override]
        return record_sends(self.db, [send], message_summary, alone=True)[0]

    def _failure(self, exc: Exception) -> Exception:  # type: ignore[override]
        return exc
