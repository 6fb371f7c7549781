"""What happens to a message after it is recorded: submission outcomes, delivery reports,
status-check timeouts and recovery after a crash.  Every status change goes through
``transition`` so the rules in statuses.py hold everywhere and every change leaves an event.
"""

from __future__ import annotations

import hmac
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from sms_core.config import DEFAULTS
from sms_core.domain.statuses import SmsStatus, can_transition
from sms_core.gateways.base import DeliveryReportKind, SubmitOutcome, SubmitResult
from sms_core.storage.change_feed import mark_changed
from sms_core.storage.database import Database
from sms_core.storage.models import DispatchState, SmsMessage, StatusEvent, utcnow
from sms_core.use_cases.api_callbacks import enqueue_status_callback

OUTCOME_UNKNOWN = "Outcome unknown"
LARGEST_ID = 2**63 - 1  # a message id beyond this cannot be in either database: refused before any query
DETAIL_LENGTH = 500  # of a gateway's words kept as a message's error or in its history
BUFFERED_EVENTS = 10  # "queued / accepted by the SMSC" lines kept per message; later ones are ignored
_LINE_BREAKS = str.maketrans("\t\r\n", "   ")
NOT_OURS = "unknown message or invalid token"  # the same for both, so an id's existence cannot be probed
_REPORT_STATUS = {
    DeliveryReportKind.DELIVERED: SmsStatus.RECEIVED,
    DeliveryReportKind.UNDELIVERED: SmsStatus.SENDING_FAILED,
    DeliveryReportKind.REJECTED: SmsStatus.REJECTED,
}


def transition(session: Session, message: SmsMessage, new: SmsStatus, source: str, detail: str | None) -> bool:
    """Move the message to ``new`` if the rules allow it; record the event either way it moves."""
    if not can_transition(message.status, new):
        return False
    now = utcnow()
    message.status = new
    message.updated_at = now
    if new.final or new == SmsStatus.STATUS_CHECK_TIMEOUT:
        message.dispatch_state = DispatchState.SETTLED
    session.add(StatusEvent(message_id=message.id, status=new, at=now, source=source, detail=detail))
    enqueue_status_callback(session, message)
    mark_changed(session, [message.org_unit_id])
    return True


def gateway_words(text: str | None) -> str:
    """A gateway's (or whoever calls our webhook's) words, fit to store and show: control
    characters dropped (PostgreSQL refuses NUL in text), at most DETAIL_LENGTH characters."""
    spaced = (text or "").translate(_LINE_BREAKS)
    kept = "".join(ch for ch in spaced if unicodedata.category(ch) not in {"Cc", "Cs"}).strip()
    return kept if len(kept) <= DETAIL_LENGTH else kept[: DETAIL_LENGTH - 1].rstrip() + "…"


def record_submit_result(session: Session, message: SmsMessage, result: SubmitResult) -> None:
    """Turn what the gateway answered into the message's status (DESIGN.md: gateway outcomes)."""
    result = SubmitResult(result.outcome, gateway_words(result.detail), result.gateway_message_id)
    message.gateway_error = None if result.outcome == SubmitOutcome.ACCEPTED else result.detail
    match result.outcome:
        case SubmitOutcome.ACCEPTED:
            message.gateway_message_id = result.gateway_message_id
            message.dispatch_state = DispatchState.SUBMITTED
            message.submitted_at = utcnow()
            accepted = SmsStatus.RESENT if message.resent else SmsStatus.ACCEPTED
            transition(session, message, accepted, "gateway", result.detail)
        case SubmitOutcome.REJECTED:
            transition(session, message, SmsStatus.REJECTED, "gateway", result.detail)
        case SubmitOutcome.FAILED:
            transition(session, message, SmsStatus.SENDING_FAILED, "gateway", result.detail)
        case SubmitOutcome.UNKNOWN:
            said = result.detail.rstrip(".")  # the gateway's sentence ends where ours begins
            detail = f"{OUTCOME_UNKNOWN}: {said}. The SMS may have been sent; check before resending."
            message.gateway_error = detail
            transition(session, message, SmsStatus.SENDING_FAILED, "gateway", detail)


def record_late_acceptance(session: Session, message: SmsMessage, result: SubmitResult) -> None:
    """The delivery report outran the gateway's answer to the submission (Kannel can send both at
    once): the report's final status stands, but the gateway's id and its "accepted" still belong
    in the message's history, so no one wonders whether it was ever handed over."""
    if message.gateway_message_id is not None:
        return
    message.gateway_message_id = result.gateway_message_id
    accepted = SmsStatus.RESENT if message.resent else SmsStatus.ACCEPTED
    detail = f"{gateway_words(result.detail).rstrip('.')} (this answer arrived after the delivery report)"
    session.add(StatusEvent(message_id=message.id, status=accepted, at=utcnow(), source="gateway", detail=detail))


@dataclass(frozen=True)
class ReportVerdict:
    """How the webhook answers a delivery report."""

    http_status: int
    text: str
    changed: bool = False


@dataclass(frozen=True)
class DeliveryReport:
    message_id: int
    token: str  # the per-message secret the callback URL carried
    kind: DeliveryReportKind
    detail: str = ""


def apply_delivery_report(
    db: Database,
    message_id: int,
    token: str,
    kind: DeliveryReportKind,
    detail: str = "",
    source: str = "delivery-report",
    max_age: float = DEFAULTS.report_deadline,
) -> ReportVerdict:
    return apply_delivery_reports(db, [DeliveryReport(message_id, token, kind, detail)], source, max_age)[0]


def apply_delivery_reports(
    db: Database,
    reports: list[DeliveryReport],
    source: str = "delivery-report",
    max_age: float = DEFAULTS.report_deadline,
) -> list[ReportVerdict]:
    """Apply reports in one transaction, each authenticated by its message's own token.

    Forged tokens and unknown ids change nothing and are answered alike; a replayed or
    out-of-order report is answered OK and ignored by the transition rules, so the gateway stops
    retrying it.  A message sent more than ``max_age`` seconds ago takes no more reports: its
    token may sit in the gateway's logs by then.  Rows are locked in id order, so concurrent
    batches cannot deadlock.
    """
    with db.session(cached_plans=True) as session:
        ids = sorted({r.message_id for r in reports if 0 < r.message_id <= LARGEST_ID})
        locked = session.scalars(
            select(SmsMessage).where(SmsMessage.id.in_(ids)).order_by(SmsMessage.id).with_for_update()
        )
        messages = {m.id: m for m in locked}
        oldest = utcnow() - timedelta(seconds=max_age)
        return [_apply_report(session, messages.get(r.message_id), r, source, oldest) for r in reports]


def _apply_report(
    session: Session, message: SmsMessage | None, report: DeliveryReport, source: str, oldest: datetime
) -> ReportVerdict:
    if (
        message is None
        or not message.dlr_token
        or not hmac.compare_digest(message.dlr_token.encode(), (report.token or "").encode())
    ):
        return ReportVerdict(403, NOT_OURS)
    if (message.submitted_at or message.sent_on) < oldest:
        return ReportVerdict(410, "this message is too old to take delivery reports")
    report = DeliveryReport(report.message_id, report.token, report.kind, gateway_words(report.detail))
    new = _REPORT_STATUS.get(report.kind)
    if new is None:  # buffered / submitted to SMSC: worth a line in the history, no status change
        detail = report.detail or "Buffered by the SMSC"
        if message.status.final or not _worth_recording(session, message, detail, source):
            return ReportVerdict(200, "ignored")
        session.add(
            StatusEvent(message_id=message.id, status=message.status, at=utcnow(), source=source, detail=detail)
        )
        return ReportVerdict(200, "recorded")
    if not can_transition(message.status, new):
        return ReportVerdict(200, "ignored")
    if new == SmsStatus.SENDING_FAILED:
        message.gateway_error = report.detail or "Not delivered to phone"
    elif new == SmsStatus.REJECTED:
        message.gateway_error = report.detail or "Rejected by SMSC"
    transition(session, message, new, source, report.detail or None)
    return ReportVerdict(200, "applied", True)


def _worth_recording(session: Session, message: SmsMessage, detail: str, source: str) -> bool:
    """A buffered report adds a line unless it repeats the last one or the message has
    BUFFERED_EVENTS of them already: a gateway (or someone with the token) sending them in a loop
    must not grow a message's history without end."""
    earlier = session.scalars(
        select(StatusEvent.detail)
        .where(StatusEvent.message_id == message.id, StatusEvent.source == source)
        .where(StatusEvent.status == message.status)
        .order_by(StatusEvent.id.desc())
        .limit(BUFFERED_EVENTS)
    ).all()
    return len(earlier) < BUFFERED_EVENTS and (not earlier or earlier[0] != detail)


def sweep_status_checks(db: Database, timeout_seconds: float, limit: int = 500) -> int:
    """Messages accepted longer ago than the window without a final report time out."""
    cutoff = utcnow() - timedelta(seconds=timeout_seconds)
    return _sweep(
        db,
        select(SmsMessage).where(
            SmsMessage.dispatch_state == DispatchState.SUBMITTED, SmsMessage.submitted_at < cutoff
        ),
        SmsStatus.STATUS_CHECK_TIMEOUT,
        "status-check",
        f"No final delivery report within {timeout_seconds:g} seconds.",
        limit,
    )


def recover_interrupted(db: Database, lease_seconds: float, limit: int = 500) -> int:
    """Messages a crashed process left behind: claimed ones go back to the queue (no call was
    made), ones mid-submission become "Sending failed, outcome unknown" — never sent again."""
    cutoff = utcnow() - timedelta(seconds=lease_seconds)
    with db.session() as session:
        abandoned = (
            select(SmsMessage.id)
            .where(SmsMessage.dispatch_state == DispatchState.CLAIMED, SmsMessage.submitted_at < cutoff)
            .limit(limit)
            .with_for_update(skip_locked=True)
            .scalar_subquery()
        )
        session.execute(
            update(SmsMessage)
            .where(SmsMessage.id.in_(abandoned), SmsMessage.dispatch_state == DispatchState.CLAIMED)
            .values(dispatch_state=DispatchState.QUEUED, submitted_at=None)
        )
    return _sweep(
        db,
        select(SmsMessage).where(
            SmsMessage.dispatch_state == DispatchState.SUBMITTING, SmsMessage.submitted_at < cutoff
        ),
        SmsStatus.SENDING_FAILED,
        "recovery",
        f"{OUTCOME_UNKNOWN}: the sending process stopped while handing the SMS to the gateway. "
        "It may have been sent; check before resending.",
        limit,
    )


def _sweep(db: Database, query, status: SmsStatus, source: str, detail: str, limit: int) -> int:
    with db.session() as session:
        query = query.order_by(SmsMessage.id).limit(limit).with_for_update(skip_locked=True)
        changed = 0
        for message in session.scalars(query):
            if status == SmsStatus.SENDING_FAILED:
                message.gateway_error = detail
            if transition(session, message, status, source, detail):
                changed += 1
            message.dispatch_state = DispatchState.SETTLED
        return changed


def claim_queued(db: Database, limit: int = 50) -> tuple[list[int], datetime]:
    """Take queued messages for submission; several workers never take the same one.

    One UPDATE … RETURNING: on PostgreSQL the sub-select skips rows another worker has locked;
    SQLite runs one writer at a time, so the statement is atomic there as well.
    """
    queued = (
        select(SmsMessage.id)
        .where(SmsMessage.dispatch_state == DispatchState.QUEUED)
        .order_by(SmsMessage.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
        .scalar_subquery()
    )
    claimed_at = utcnow()  # also this claim's identity: submit_message checks it is still ours
    with db.session() as session:
        claimed = session.scalars(
            update(SmsMessage)
            .where(SmsMessage.id.in_(queued), SmsMessage.dispatch_state == DispatchState.QUEUED)
            .values(dispatch_state=DispatchState.CLAIMED, submitted_at=claimed_at)
            .returning(SmsMessage.id)
        )
        return sorted(claimed), claimed_at
