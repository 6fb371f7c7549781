"""/api/v1/sms: send, look up, list and resend — the use cases the Send SMS dialog and the
overview call, with the same pre-send checks and statuses."""

import json
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Header, Query, Response
from starlette.concurrency import run_in_threadpool

from sms_core.delivery.api.app import API_PREFIX, Context, Sender, SmsSender
from sms_core.delivery.api.schemas import Message, MessageDetail, MessagePage, Problem, SendRequest
from sms_core.domain.errors import InvalidInput, NotFound
from sms_core.read_models.api_messages import api_filter, list_api_messages, message_with_history
from sms_core.use_cases.api_contacts import contact_id_by_external_id
from sms_core.use_cases.api_idempotency import once, request_hash
from sms_core.use_cases.recording import prepare_send
from sms_core.use_cases.sending import resend_sms

router = APIRouter(prefix="/sms", tags=["SMS"])
ERRORS = {
    code: {"model": Problem, "content": {"application/problem+json": {}}, "description": what}
    for code, what in {
        401: "Missing or revoked API key",
        404: "No such message in the key's org. unit",
        409: "Conflict (for example: already resent)",
        413: "Body too large",
        414: "URI too long",
        422: "Invalid input; `field` names it",
        429: "Rate limit; see Retry-After",
    }.items()
}


def _links(message: dict) -> dict:
    url = f"{API_PREFIX}/sms/{message['id']}"
    return {**message, "links": {"self": url, "resend": f"{url}/resend"}}


def _prepared(ctx, actor, body: SendRequest, idempotency_key: str | None, contact_id: int | None):
    return prepare_send(
        actor,
        text=body.text,
        phone=body.to if body.contact is None else body.contact.number,
        contact_id=contact_id,
        org_unit_id=None,
        idempotency_key=idempotency_key,
        submit=False,  # the worker hands it to the gateway: the request never waits for it
        config=ctx.config,
        reference=body.reference,
        standard_text_id=None,
    )


def _answer(recorded: dict) -> tuple[int, str, int | None]:
    return 201, Message(**_links(recorded)).model_dump_json(), recorded["id"]


def _send(ctx, actor, body: SendRequest, idempotency_key: str | None) -> tuple[int, str, int | None]:
    """The blocking way, in a worker thread: the contact lookup and ``once`` read the database first."""
    contact_id = None
    if body.contact is not None:
        try:
            contact_id = contact_id_by_external_id(ctx.db, actor, body.contact.external_id)
        except NotFound as exc:
            raise InvalidInput(exc.message, field="contact.external_id") from None
    send = _prepared(ctx, actor, body, idempotency_key, contact_id)
    return _answer(ctx.sends.send(send))  # with the sends that arrived meanwhile, in one transaction


def _blocking_send(ctx, actor, body: SendRequest, idempotency_key: str) -> tuple[tuple[int, str, int | None], bool]:
    fingerprint = request_hash("POST", "/sms", json.dumps(body.model_dump(), sort_keys=True).encode())
    return once(ctx.db, actor, idempotency_key, fingerprint, lambda key: _send(ctx, actor, body, key))


@router.post(
    "",
    status_code=201,
    summary="Send an SMS",
    responses=ERRORS,
    response_model=Message,
    description="Records the message (with the pre-send checks of the Send SMS dialog) and answers 201; "
    "a message refused by a check, for consent say, is recorded and answered with its status. "
    "The worker hands it to the gateway. With `Idempotency-Key`, a repeat within 24 hours gets the first "
    "answer and the same key with a different body is 422.",
)
async def send(
    body: SendRequest,
    actor: SmsSender,
    ctx: Context,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key", max_length=80)] = None,
):
    """In the event loop when nothing needs the database before the batch (the usual send): a
    thread hop per request, with 50 clients contending for the GIL, cost more than the send."""
    if idempotency_key is not None:
        (status, text, message_id), replayed = await run_in_threadpool(
            _blocking_send, ctx, actor, body, idempotency_key
        )
    elif body.contact is not None:
        (status, text, message_id), replayed = await run_in_threadpool(_send, ctx, actor, body, None), False
    else:
        status, text, message_id = _answer(await ctx.sends.send_soon(_prepared(ctx, actor, body, None, None)))
        replayed = False
    headers = {"Location": f"{API_PREFIX}/sms/{message_id}"}
    if replayed:
        headers["Idempotent-Replayed"] = "true"
    return Response(text, status_code=status, media_type="application/json", headers=headers)


@router.get("/{message_id}", summary="A message: status, explanation, history", responses=ERRORS)
def get_message(message_id: int, actor: Sender, ctx: Context) -> MessageDetail:
    return MessageDetail(**_links(message_with_history(ctx.db, actor, message_id)))


@router.get("", summary="The key's org. unit's messages, newest first", responses=ERRORS)
def list_messages(
    actor: Sender,
    ctx: Context,
    status: Annotated[str | None, Query(max_length=40, description="A status code, e.g. received")] = None,
    phone: Annotated[str | None, Query(max_length=40)] = None,
    reference: Annotated[str | None, Query(max_length=100)] = None,
    sent_from: Annotated[datetime | None, Query(description="Included; ISO 8601, UTC when no offset")] = None,
    sent_to: Annotated[datetime | None, Query(description="Excluded")] = None,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> MessagePage:
    f = api_filter(status, phone, reference, _utc(sent_from), _utc(sent_to), ctx.config.default_region)
    page, following = list_api_messages(ctx.db, actor, f, cursor, limit)
    return MessagePage(data=[_links(m) for m in page], next_cursor=following)


@router.post("/{message_id}/resend", status_code=201, summary="Resend a message", responses=ERRORS)
def resend(message_id: int, actor: Sender, ctx: Context, response: Response) -> MessageDetail:
    """The article's resend rules: only Accepted, Timeout during status check or Sending failed,
    once per message (then resend the newest), with the pre-send checks run again."""
    result = resend_sms(ctx.db, actor, message_id, submit=False, config=ctx.config)
    response.headers["Location"] = f"{API_PREFIX}/sms/{result.message.id}"
    return MessageDetail(**_links(message_with_history(ctx.db, actor, result.message.id)))


def _utc(moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
