"""The API's requests and answers as pydantic models: they validate what comes in, and the
OpenAPI document is generated from them."""

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")  # a misspelt field is refused, not silently ignored


class ContactRef(Strict):
    external_id: str = Field(min_length=1, max_length=100, description="Your id of the contact (PUT /contacts first).")
    number: str | None = Field(None, max_length=40, description="Which of the contact's numbers, if it has several.")


class SendRequest(Strict):
    to: str | None = Field(None, max_length=40, description="The phone number, e.g. +4741555123.")
    contact: ContactRef | None = Field(None, description="Or the contact to send to.")
    text: str = Field(max_length=4000, description="At most 1000 characters (the same rules as the Send SMS dialog).")
    reference: str | None = Field(None, max_length=100, description="Your own id for this message, to list it by.")

    @model_validator(mode="after")
    def one_recipient(self):
        if (self.to is None) == (self.contact is None):
            raise ValueError("Give either to (a phone number) or contact (a contact's external_id), not both.")
        return self


class Links(BaseModel):
    self: str
    resend: str


class Message(BaseModel):
    id: int
    status: str = Field(description="consent_not_registered, accepted, received, … (see status_label).")
    status_label: str
    explanation: str
    to: str | None
    reference: str | None
    segments: int
    resent: bool
    original_id: int | None
    sent_on: datetime
    gateway_error: str | None
    links: Links


class HistoryEntry(BaseModel):
    at: datetime
    status: str
    source: str
    detail: str | None


class MessageDetail(Message):
    text: str
    next_step: str
    resend_id: int | None
    history: list[HistoryEntry]


class MessagePage(BaseModel):
    data: list[Message]
    next_cursor: str | None = Field(description="Pass as cursor for the next (older) page; null on the last.")


class NumberIn(Strict):
    number: str = Field(max_length=40)
    label: str = Field("Mobile", max_length=40)


class ContactIn(Strict):
    name: str = Field(min_length=1, max_length=200)
    email: str | None = Field(None, max_length=200)
    numbers: list[NumberIn] = Field(default_factory=list, max_length=20)


class NumberOut(BaseModel):
    number: str
    label: str
    consent: bool


class ContactOut(BaseModel):
    external_id: str
    name: str
    email: str | None
    numbers: list[NumberOut]


class ConsentIn(Strict):
    number: str = Field(max_length=40)
    consent: bool = Field(description="true registers consent for the number, false withdraws it.")
    source: str = Field(min_length=1, max_length=200, description="Where it comes from, e.g. 'Booking form'.")


class Problem(BaseModel):
    """RFC 9457 problem details."""

    type: str
    title: str
    status: int
    detail: str
    field: str | None = None


class StatusCallback(BaseModel):
    """What is POSTed to a key's callback URL on each status change (signed, see X-Sms-Signature)."""

    event_id: int
    type: Literal["sms.status"]
    occurred_at: datetime
    message: dict
