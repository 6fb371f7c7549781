"""/api/v1/contacts/{external_id}: create or update a contact and its numbers, and its consent."""

from typing import Annotated

from fastapi import APIRouter, Path, Response

from sms_core.delivery.api.app import Context, Sender
from sms_core.delivery.api.schemas import ConsentIn, ContactIn, ContactOut
from sms_core.delivery.api.sms_routes import ERRORS
from sms_core.use_cases.api_contacts import ContactState, put_contact, set_consent

router = APIRouter(prefix="/contacts", tags=["Contacts"])
ExternalId = Annotated[str, Path(min_length=1, max_length=100, description="Your id of the contact")]


def _out(state: ContactState) -> ContactOut:
    numbers = [{"number": n.number, "label": n.label, "consent": n.consent} for n in state.numbers]
    return ContactOut(external_id=state.external_id, name=state.name, email=state.email, numbers=numbers)


@router.put(
    "/{external_id}",
    summary="Create or update a contact and its numbers",
    responses={**ERRORS, 201: {"model": ContactOut, "description": "Created"}},
    description="The body states the whole contact: a number no longer listed is removed with its consent. "
    "200 when it was updated, 201 when it was created.",
)
def put(external_id: ExternalId, body: ContactIn, actor: Sender, ctx: Context, response: Response) -> ContactOut:
    state, created = put_contact(
        ctx.db,
        actor,
        external_id,
        name=body.name,
        email=body.email,
        numbers=[(n.number, n.label) for n in body.numbers],
        region=ctx.config.default_region,
    )
    if created:
        response.status_code = 201
    return _out(state)


@router.put("/{external_id}/consent", summary="Register or withdraw consent for a number", responses=ERRORS)
def consent(external_id: ExternalId, body: ConsentIn, actor: Sender, ctx: Context) -> ContactOut:
    state = set_consent(
        ctx.db,
        actor,
        external_id,
        number=body.number,
        consent=body.consent,
        source=body.source,
        region=ctx.config.default_region,
    )
    return _out(state)
