"""The overview's link: URL query parameters ⇄ an ``OverviewFilter``, a page of the table, and
sentences about what could not be read.

Why it is one module:
- The overview keeps its filters in the URL so that a link can be shared, and the delivery-rates,
  settings and contacts pages link to "these messages"; all of them speak this one format, so a
  link built anywhere opens the same messages.  Nothing else spells overview query strings.
- A link comes from outside, so any value may be in it.  Reading one never fails: a value that
  cannot be used is left out, and a sentence quoting it as written says what was ignored.

The parameters, each optional (absent: what the overview shows by default):

    text, phone   "contains", as typed
    from, to      the first and last day, YYYY-MM-DD, in the browser's time zone
    status        an SMS status label; repeated for several
    unit          an org. unit id, repeated for several; ``all`` for all my units; absent: my current unit
    resent        ``yes`` or ``no``
    sort          a ``Sort`` value, e.g. ``status_asc``
    contact       a contact id: that contact's messages (the overview then sends to that contact)
    sent_by       a user id: the messages that user sent
    standard_text a standard text's id: the messages made from it
    error         a gateway error, exactly as the message holds it (Delivery rates' top reasons)
    page          the page of the table, from 1
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from urllib.parse import urlencode

from sms_core.domain.permissions import Actor
from sms_core.domain.statuses import STATUS_LABELS, SmsStatus
from sms_core.read_models.overview import OverviewFilter, Sort

OVERVIEW_PATH = "/sms-messages"
PARAMETERS = (
    "text",
    "phone",
    "from",
    "to",
    "status",
    "unit",
    "resent",
    "sort",
    "contact",
    "sent_by",
    "standard_text",
    "error",
    "page",
)
ALL_UNITS = "all"
RESENT = {"yes": True, "no": False}
SORTS = {s.value: s for s in Sort}
# The longest gateway error a link carries: more than any error the app stores (it keeps 500
# characters of a gateway's words, and may put a sentence of its own around them), and short
# enough that the address stays one every server takes, whatever the characters.
ERROR_LENGTH = 1000


@dataclass(frozen=True)
class OverviewLink:
    """What a link asks the overview to show, as far as it could be read."""

    filter: OverviewFilter = field(default_factory=OverviewFilter)
    page: int = 1
    statuses: tuple[SmsStatus, ...] = ()  # the filter's statuses in the link's order, as the status filter lists them
    contact_requested: bool = False  # opened for a contact; ``filter.contact_id`` says which, if it could be read
    warnings: tuple[str, ...] = ()  # one sentence per value that was ignored


def default_filter(actor: Actor, time_zone: str = "UTC") -> OverviewFilter:
    """What the overview shows when the link says nothing: the user's current org. unit (all of
    their units if they have no current one), newest first."""
    current = actor.current_org_unit_id
    return OverviewFilter(time_zone=time_zone, org_unit_ids=None if current is None else {current})


def read_link(
    params: Mapping[str, Sequence[str]],
    actor: Actor,
    time_zone: str = "UTC",
    days: tuple[date, date] | None = None,
) -> OverviewLink:
    """The link's filter for ``actor``, in ``time_zone``; ``days`` is the range the date filter
    offers (a day outside it cannot be shown, so it is not used).  Never raises."""
    default = default_filter(actor, time_zone)
    warnings: list[str] = []
    sent_from = _day(params.get("from"), "first", days, warnings)
    sent_to = _day(params.get("to"), "last", days, warnings)
    if sent_from and sent_to and sent_to < sent_from:
        warnings.append(
            f"In the link the last day ({sent_to}) is before the first day ({sent_from}), so the days are not filtered."
        )
        sent_from = sent_to = None
    statuses = _statuses(params.get("status"), warnings)
    contact_requested, contact_id = _contact(params.get("contact"), warnings)
    link_filter = OverviewFilter(
        text=_last(params.get("text")) or "",
        phone=_last(params.get("phone")) or "",
        sent_from=sent_from,
        sent_to=sent_to,
        time_zone=time_zone,
        statuses=frozenset(statuses),
        org_unit_ids=_units(params.get("unit"), actor, default.org_unit_ids, warnings),
        resent=_choice(params.get("resent"), RESENT, "yes or no", None, warnings),
        contact_id=contact_id,
        sent_by_user_id=_id(params.get("sent_by"), "a user id", "Sent by", warnings),
        standard_text_id=_id(params.get("standard_text"), "a standard text", "standard text", warnings),
        gateway_error=_gateway_error(params.get("error"), warnings),
        sort=_choice(params.get("sort"), SORTS, "a sort order", default.sort, warnings),
    )
    page = _page(params.get("page"), warnings)
    return OverviewLink(link_filter, page, tuple(statuses), contact_requested, tuple(warnings))


def link_params(f: OverviewFilter, page: int = 1, *, default: OverviewFilter | None = None) -> dict[str, list[str]]:
    """The query parameters of a link to these messages, only those that filter something.

    The org. units are left out when they are ``default``'s (the overview's own URL, and a link
    meant to open on the reader's current unit); without ``default`` they are always written.
    """
    params: dict[str, list[str]] = {}
    for name, value in (("text", f.text), ("phone", f.phone)):
        if value:
            params[name] = [value]
    for name, day in (("from", f.sent_from), ("to", f.sent_to)):
        if day is not None:
            params[name] = [day.isoformat()]
    if f.statuses:
        params["status"] = [s.label for s in sorted(f.statuses)]
    if default is None or f.org_unit_ids != default.org_unit_ids:
        params["unit"] = [ALL_UNITS] if f.org_unit_ids is None else [str(u) for u in sorted(f.org_unit_ids)]
    if f.resent is not None:
        params["resent"] = ["yes" if f.resent else "no"]
    if f.sort != Sort.SENT_ON_DESC:
        params["sort"] = [f.sort.value]
    if f.contact_id is not None:
        params["contact"] = [str(f.contact_id)]
    if f.sent_by_user_id is not None:
        params["sent_by"] = [str(f.sent_by_user_id)]
    if f.standard_text_id is not None:
        params["standard_text"] = [str(f.standard_text_id)]
    if f.gateway_error:
        params["error"] = [f.gateway_error]
    if page > 1:
        params["page"] = [str(page)]
    return params


def link_url(f: OverviewFilter, page: int = 1, *, default: OverviewFilter | None = None) -> str:
    """The same link as a path and query, for sharing or opening in a new tab."""
    query = urlencode(link_params(f, page, default=default), doseq=True)
    return f"{OVERVIEW_PATH}?{query}" if query else OVERVIEW_PATH


# ---- one parameter each ------------------------------------------------------------------


def _last(values: Sequence[str] | None) -> str | None:
    """A parameter that holds one value: the last one given counts, as in a form."""
    return values[-1] if values else None


def _number(value: str) -> int | None:
    """A whole number written in digits; None for anything else (a sign, a point, too many digits)."""
    if not value.isdecimal():
        return None
    try:
        return int(value)
    except ValueError:  # beyond the digits Python converts
        return None


def _day(values: Sequence[str] | None, which: str, days: tuple[date, date] | None, warnings: list[str]) -> date | None:
    value = _last(values)
    if value is None:
        return None
    try:
        day = date.fromisoformat(value)
    except ValueError:
        warnings.append(f"“{value}” in the link is not a date (YYYY-MM-DD), so the {which} day is not filtered.")
        return None
    if days is not None and not days[0] <= day <= days[1]:
        warnings.append(
            f"“{value}” in the link is outside the days the filter offers ({days[0]} to {days[1]}), "
            f"so the {which} day is not filtered."
        )
        return None
    return day


def _statuses(values: Sequence[str] | None, warnings: list[str]) -> list[SmsStatus]:
    statuses: list[SmsStatus] = []
    for label in dict.fromkeys(values or ()):
        if label in STATUS_LABELS:
            statuses.append(SmsStatus.from_label(label))
        else:
            warnings.append(f"“{label}” in the link is not an SMS status, so it is ignored.")
    return statuses


def _units(
    values: Sequence[str] | None, actor: Actor, default: frozenset[int] | None, warnings: list[str]
) -> frozenset[int] | None:
    """``all``, or the named units that are the user's; none of those: the default."""
    if not values:
        return default
    if ALL_UNITS in values:
        return None
    mine: set[int] = set()
    for value in dict.fromkeys(values):
        unit = _number(value)
        if unit is not None and unit in actor.org_unit_ids:
            mine.add(unit)
        else:
            warnings.append(f"Org. unit “{value}” in the link is not one of your org. units, so it is ignored.")
    return frozenset(mine) if mine else default


def _choice(values: Sequence[str] | None, choices: dict, what: str, default, warnings: list[str]):
    value = _last(values)
    if value is None:
        return default
    if value.strip().lower() in choices:
        return choices[value.strip().lower()]
    warnings.append(f"“{value}” in the link is not {what}, so it is ignored.")
    return default


def _contact(values: Sequence[str] | None, warnings: list[str]) -> tuple[bool, int | None]:
    """(opened for a contact, which one).  An empty ``contact`` still asks for a contact: the
    page then says none is selected and does not offer Send SMS."""
    value = _last(values)
    if value is None:
        return False, None
    value = value.strip()
    if not value:
        return True, None
    contact_id = _number(value)
    if contact_id is None or contact_id < 1:
        warnings.append(f"“{value}” in the link is not a contact id, so the contact filter is ignored.")
        return True, None
    return True, contact_id


def _id(values: Sequence[str] | None, what: str, which: str, warnings: list[str]) -> int | None:
    """A user's or standard text's id (both columns are 32-bit); whether it exists, and sent any of
    the reader's messages, the filter finds out."""
    value = _last(values)
    if value is None or not value.strip():
        return None
    row_id = _number(value.strip())
    if row_id is None or not 0 < row_id < 2**31:
        warnings.append(f"“{value}” in the link is not {what}, so the {which} filter is ignored.")
        return None
    return row_id


def _gateway_error(values: Sequence[str] | None, warnings: list[str]) -> str | None:
    """Compared exactly, so kept as written.  A value no message's error can be is ignored: one
    longer than a link carries, or with a control character (the app stores none)."""
    value = _last(values)
    if value is None or not value.strip():
        return None
    if len(value) > ERROR_LENGTH:
        warnings.append(
            f"The gateway error in the link (“{value[:40]}…”) is longer than {ERROR_LENGTH:,} characters, "
            "so the gateway error filter is ignored."
        )
        return None
    if any(unicodedata.category(ch) in {"Cc", "Cs"} for ch in value):
        warnings.append(f"“{value}” in the link is not a gateway error, so the gateway error filter is ignored.")
        return None
    return value


def _page(values: Sequence[str] | None, warnings: list[str]) -> int:
    value = _last(values)
    if value is None:
        return 1
    page = _number(value.strip())
    if page is None or page < 1:
        warnings.append(f"“{value}” in the link is not a page number, so the first page is shown.")
        return 1
    return page
