"""Handing a recorded message to the gateway: the one place an SMS leaves the system.

Send, resend and the worker all come here, so the rules that keep an SMS from going out twice
(a claim that is still ours, SUBMITTING committed before the call) hold for every path.
"""

from __future__ import annotations

from datetime import datetime
from urllib.parse import urlencode

from sms_core.domain.phones import DEFAULT_REGION
from sms_core.domain.segments import non_gsm_characters
from sms_core.domain.senders import normalise_sender
from sms_core.gateways.base import Gateway, OutgoingSms, SubmitOutcome
from sms_core.storage.database import Database
from sms_core.storage.models import DispatchState, OrgUnit, SmsMessage, utcnow
from sms_core.use_cases.message_lifecycle import record_late_acceptance, record_submit_result


def callback_url(report_url: str, message_id: int, token: str) -> str:
    """The URL a gateway calls with this message's delivery reports: the token authenticates them."""
    return f"{report_url}{'&' if '?' in report_url else '?'}{urlencode({'id': message_id, 'token': token})}"


def submit_message(
    db: Database, message_id: int, gateway: Gateway, claimed_at: datetime | None = None, region: str = DEFAULT_REGION
) -> None:
    """Hand a recorded message to the gateway and record what it answered.

    A worker's claim (``claimed_at``) is first turned into SUBMITTING in a committed transaction
    of its own — only if the claim is still this worker's — so from then on a crash leaves the
    message "outcome unknown" instead of sending it again.  Without ``claimed_at`` the caller
    recorded the message as SUBMITTING itself (a send from a page).
    """
    with db.session() as session:
        message = session.get(SmsMessage, message_id, with_for_update=True)
        if claimed_at is not None:
            if message.dispatch_state != DispatchState.CLAIMED or message.submitted_at != claimed_at:
                return  # the claim lapsed and the message went back to the queue: not ours any more
            message.dispatch_state, message.submitted_at = DispatchState.SUBMITTING, utcnow()
        elif message.dispatch_state != DispatchState.SUBMITTING:
            return
        unit = session.get(OrgUnit, message.org_unit_id)
        message.gateway = gateway.name
        outgoing = OutgoingSms(
            message.id,
            message.phone,
            message.text,
            normalise_sender(unit.sms_sender or "", region),
            bool(non_gsm_characters(message.text)),
            callback_url(gateway.report_url, message.id, message.dlr_token) if gateway.report_url else None,
        )
    result = gateway.submit(outgoing)
    with db.session() as session:
        message = session.get(SmsMessage, message_id, with_for_update=True)
        if message.dispatch_state == DispatchState.SUBMITTING:
            record_submit_result(session, message, result)
        elif message.dispatch_state == DispatchState.SETTLED and result.outcome == SubmitOutcome.ACCEPTED:
            record_late_acceptance(session, message, result)
