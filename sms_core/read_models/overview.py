"""The SMS messages overview as queries: one filter object drives the page, the count and the export.

Why it is shaped like this:
- Every statement is built from ``(actor, OverviewFilter)`` by the same small functions, so what
  the table shows, how many it says match and what the CSV contains cannot disagree.
- Org-unit visibility is enforced here, not in the page: the units a filter asks for are always
  cut down to the user's own (``Actor.visible_units``), so no URL or filter can reach another
  unit's messages, and a user without permission to view SMS is refused.
- The overview must stay fast at millions of rows: the database filters, sorts and pages (the
  indexes on org unit / status / sent on, and pg_trgm for "contains" on PostgreSQL); the count
  stops at ``COUNT_CAP`` + 1 rows instead of counting everything, and the page waits for it no
  longer than a budget (``read_models.overview_count``); the export streams keyset pages
  (``read_models.overview_export``), so its size never depends on memory.  A gateway error with
  a failure or refusal status (Delivery rates' top reasons) is read from the partial indexes that
  hold just those (migration 0004).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import ColumnElement, Select, and_, false, func, literal_column, or_, select

from sms_core.domain.errors import InvalidInput
from sms_core.domain.permissions import Actor, Permission
from sms_core.domain.phones import (
    DEFAULT_REGION,
    InvalidPhoneNumber,
    digits_only,
    format_international,
    parse_phone,
)
from sms_core.domain.statuses import SmsStatus
from sms_core.read_models.delivery_rate_figures import LONG_ERROR_BYTES
from sms_core.read_models.message_count import PAGE_SIZE, MessageCount
from sms_core.read_models.overview_export import EXPORT_COLUMNS as EXPORT_COLUMNS  # what callers import here
from sms_core.read_models.overview_export import ExportProgress, KeysetPart, csv_chunks
from sms_core.storage.byte_length import octet_length
from sms_core.storage.database import Database
from sms_core.storage.models import OrgUnit, SmsMessage
from sms_core.storage.text_search import text_contains

COUNT_CAP = 10_000  # beyond this the overview says "10,000+" and pages no further
EXPORT_BATCH = 5_000  # rows a keyset page (and one chunk of CSV)


class Sort(StrEnum):
    """The orders the overview offers; the value is what the URL's ``sort`` parameter holds."""

    SENT_ON_DESC = "sent_on_desc"
    SENT_ON_ASC = "sent_on_asc"
    STATUS_ASC = "status_asc"
    STATUS_DESC = "status_desc"

    @property
    def label(self) -> str:
        return {
            "sent_on_desc": "Sent on, newest first",
            "sent_on_asc": "Sent on, oldest first",
            "status_asc": "SMS status, Unknown → Resent",
            "status_desc": "SMS status, Resent → Unknown",
        }[self.value]


@dataclass(frozen=True)
class OverviewFilter:
    """What the user asked to see.  Empty fields filter nothing.

    ``sent_from``/``sent_to`` are whole days, both included, in ``time_zone`` (the browser's), so
    "yesterday" means the user's yesterday; a phone number typed without its country code is
    read in ``region`` (SMS_DEFAULT_REGION).  ``org_unit_ids`` None means all of the user's units;
    any other units are cut down to the user's own when the statement is built.
    """

    text: str = ""
    phone: str = ""
    sent_from: date | None = None
    sent_to: date | None = None
    time_zone: str = "UTC"
    statuses: frozenset[SmsStatus] = frozenset()
    org_unit_ids: frozenset[int] | None = None
    resent: bool | None = None
    contact_id: int | None = None
    sent_by_user_id: int | None = None  # "Sent by": the user who sent
    standard_text_id: int | None = None  # the standard text the messages were made from
    gateway_error: str | None = None  # exactly the error the gateway gave (a failure's or refusal's)
    sort: Sort = Sort.SENT_ON_DESC
    region: str = DEFAULT_REGION
    zone: ZoneInfo = field(init=False, repr=False, compare=False)

    def __post_init__(self):
        object.__setattr__(self, "statuses", frozenset(SmsStatus(s) for s in self.statuses))
        if self.org_unit_ids is not None:
            object.__setattr__(self, "org_unit_ids", frozenset(self.org_unit_ids))
        object.__setattr__(self, "sort", Sort(self.sort))
        try:
            object.__setattr__(self, "zone", ZoneInfo(self.time_zone))
        except (ZoneInfoNotFoundError, ValueError):
            raise InvalidInput(f"{self.time_zone!r} is not a time zone.", field="time_zone") from None
        if self.sent_from and self.sent_to and self.sent_to < self.sent_from:
            raise InvalidInput("The last day is before the first day.", field="sent_on")

    def sent_on_bounds(self) -> tuple[datetime | None, datetime | None]:
        """[start, end) as aware datetimes: midnight of the first day to midnight after the last."""
        start = datetime.combine(self.sent_from, time.min, tzinfo=self.zone) if self.sent_from else None
        end = datetime.combine(self.sent_to + timedelta(days=1), time.min, tzinfo=self.zone) if self.sent_to else None
        return start, end


@dataclass(frozen=True)
class OverviewRow:
    """One line of the overview table."""

    id: int
    text: str
    phone: str | None  # E.164
    sent_on: datetime  # UTC
    status: SmsStatus
    org_unit_id: int
    org_unit_name: str
    resent: bool

    @property
    def phone_display(self) -> str:
        return format_international(self.phone)


# ---- statements ----------------------------------------------------------------------------


def visible_units(actor: Actor, f: OverviewFilter) -> frozenset[int]:
    """The org units the filter may read: those asked for, cut down to the user's own."""
    return actor.visible_units(f.org_unit_ids)


def conditions(actor: Actor, f: OverviewFilter) -> list[ColumnElement[bool]]:
    """The WHERE clause of every overview statement; refuses a user who may not view SMS."""
    actor.require(Permission.VIEW_SMS)
    units = visible_units(actor, f)
    typed = f.text + (f.gateway_error or "")
    if not units or "\x00" in typed:  # no stored text holds a NUL (PostgreSQL cannot even be asked for one)
        return [false()]
    where: list[ColumnElement[bool]] = [SmsMessage.org_unit_id.in_(sorted(units))]
    if f.text.strip():
        where.append(text_contains(SmsMessage.text, contains_pattern(f.text.strip())))
    if f.phone.strip():
        where.append(phone_condition(f.phone, f.region))
    start, end = f.sent_on_bounds()
    if start is not None:
        where.append(SmsMessage.sent_on >= start)
    if end is not None:
        where.append(SmsMessage.sent_on < end)
    if f.statuses:
        where.append(SmsMessage.status.in_(sorted(f.statuses)))
    if f.resent is not None:
        where.append(SmsMessage.resent.is_(f.resent))
    if f.contact_id is not None:
        where.append(SmsMessage.contact_id == f.contact_id)
    if f.sent_by_user_id is not None:
        where.append(SmsMessage.sent_by_user_id == f.sent_by_user_id)
    if f.standard_text_id is not None:
        where.append(SmsMessage.standard_text_id == f.standard_text_id)
    if f.gateway_error:
        where.append(gateway_error_is(f.gateway_error))
    return where


def gateway_error_is(error: str) -> ColumnElement[bool]:
    """Exactly this gateway error.  Its length in bytes follows from the equality, but saying it
    in the words of the failure-reasons indexes' predicates (migration 0004) lets PostgreSQL read
    the messages from them when the statuses asked for are failures or refusals."""
    length, limit = octet_length(SmsMessage.gateway_error), literal_column(str(LONG_ERROR_BYTES))
    in_its_index = length > limit if len(error.encode(errors="surrogatepass")) > LONG_ERROR_BYTES else length <= limit
    return and_(SmsMessage.gateway_error == error, in_its_index)


def contains_pattern(typed: str) -> str:
    """A LIKE pattern for "contains": the user's % and _ are literal characters, not wildcards."""
    escaped = typed.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def phone_condition(typed: str, region: str = DEFAULT_REGION, column=SmsMessage.phone) -> ColumnElement[bool]:
    """Digits typed in any format ('912 34', '+47 912…', '0047 912…') match the stored E.164.

    A whole number in national notation ('07911 123456' in the UK) is also matched exactly,
    since its digits alone ('0791…') are not part of the E.164 form ('+44791…').
    """
    digits = digits_only(typed)
    if not digits:
        return false()  # no stored number contains letters
    if digits.startswith("00"):  # the international prefix, written instead of +
        digits = digits[2:]
    condition = column.like(f"%{digits}%")
    try:
        whole = parse_phone(typed, region).e164
    except InvalidPhoneNumber:
        return condition
    return or_(condition, column == whole)


def _order(sort: Sort) -> list:
    """Database order, with the id as tie-breaker so pages never overlap or skip rows."""
    match sort:
        case Sort.SENT_ON_ASC:
            return [SmsMessage.sent_on.asc(), SmsMessage.id.asc()]
        case Sort.STATUS_ASC:
            return [SmsMessage.status.asc(), SmsMessage.sent_on.desc(), SmsMessage.id.desc()]
        case Sort.STATUS_DESC:
            return [SmsMessage.status.desc(), SmsMessage.sent_on.desc(), SmsMessage.id.desc()]
        case _:
            return [SmsMessage.sent_on.desc(), SmsMessage.id.desc()]


def rows_statement(actor: Actor, f: OverviewFilter) -> Select:
    """Every matching row with its org unit's name, in the filter's order."""
    return (
        select(
            SmsMessage.id,
            SmsMessage.text,
            SmsMessage.phone,
            SmsMessage.sent_on,
            SmsMessage.status,
            SmsMessage.org_unit_id,
            OrgUnit.name.label("org_unit_name"),
            SmsMessage.resent,
        )
        .join(OrgUnit, OrgUnit.id == SmsMessage.org_unit_id)
        .where(*conditions(actor, f))
        .order_by(*_order(f.sort))
    )


def page_statement(actor: Actor, f: OverviewFilter, page: int = 1, page_size: int = PAGE_SIZE) -> Select:
    """One page (1-based) of the rows: LIMIT/OFFSET, cheap because pages stop at the count cap."""
    if page < 1 or page_size < 1:
        raise InvalidInput("Pages are numbered from 1.", field="page")
    return rows_statement(actor, f).limit(page_size).offset((page - 1) * page_size)


def count_statement(actor: Actor, f: OverviewFilter, cap: int = COUNT_CAP) -> Select:
    """Count the matching rows, but look at no more than cap + 1 of them."""
    matching = select(SmsMessage.id).where(*conditions(actor, f)).limit(cap + 1).subquery()
    return select(func.count()).select_from(matching)


# ---- running them --------------------------------------------------------------------------


def list_messages(
    db: Database, actor: Actor, f: OverviewFilter, page: int = 1, page_size: int = PAGE_SIZE
) -> list[OverviewRow]:
    """The rows of one page of the overview."""
    statement = page_statement(actor, f, page, page_size)
    with db.session() as session:
        return [OverviewRow(*row) for row in session.execute(statement)]


def count_messages(db: Database, actor: Actor, f: OverviewFilter, cap: int = COUNT_CAP) -> MessageCount:
    """How many messages match: exact up to ``cap``, otherwise "more than cap"."""
    statement = count_statement(actor, f, cap)
    with db.session() as session:
        n = session.scalar(statement)
    return MessageCount(min(n, cap), capped=n > cap)


def export_csv(
    db: Database,
    actor: Actor,
    f: OverviewFilter,
    batch_size: int = EXPORT_BATCH,
    progress: ExportProgress | None = None,
) -> Iterator[str]:
    """All matching rows as CSV text chunks (a header, then one chunk per batch of rows).

    The statement (and the permission check) is made now; the rows are read only as the chunks
    are consumed, a keyset page at a time (``read_models.overview_export``), so a million rows
    never sit in memory at once.  Sent on is written in the filter's time zone, as the table shows it.
    """
    base = rows_statement(actor, f)
    if f.sort in (Sort.STATUS_ASC, Sort.STATUS_DESC):  # status by status, each newest first
        statuses = sorted(f.statuses or SmsStatus, reverse=f.sort == Sort.STATUS_DESC)
        parts = [KeysetPart(base.where(SmsMessage.status == status)) for status in statuses]
    else:
        parts = [KeysetPart(base, newest_first=f.sort != Sort.SENT_ON_ASC)]
    return csv_chunks(db, parts, f.zone, batch_size, progress)
