"""The import's second half: match the checked rows with stored contacts, work out what differs,
and write only that, in bulk — a few statements per thousand rows, not one per row and field.

The matching is read in chunks (IN lists of at most ``CHUNK``), the writes are executemany
inserts (ids returned in order) and updates by primary key, and one audit line per contact that
changed; a contact that did not change is not written and not audited.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from sms_core.domain.permissions import Actor
from sms_core.storage.models import Contact, ContactPhone, SmsConsent, utcnow
from sms_core.use_cases.audit import actor_user_id, audit_row, record_many
from sms_core.use_cases.contacts_admin import phone_summary

CHUNK = 500
PREVIEW_ROWS = 20


@dataclass(frozen=True)
class RowError:
    row: int  # as a spreadsheet numbers it: the header is row 1
    field: str  # the column's name as the file's users know it
    message: str

    def __str__(self) -> str:
        return f"Row {self.row}, {self.field}: {self.message}"


@dataclass
class _Group:
    """The rows of one contact in the file (one row per number)."""

    rows: list = field(default_factory=list)
    contact_id: int | None = None  # the stored contact it matches; None: a new one

    @property
    def first(self):
        return self.rows[0]


@dataclass
class Plan:
    new_contacts: list[_Group] = field(default_factory=list)
    contact_updates: list[dict] = field(default_factory=list)
    new_phones: list[tuple[_Group, object]] = field(default_factory=list)  # (group, row)
    label_updates: list[dict] = field(default_factory=list)
    consents_for_stored_phones: list[tuple[int, int, str]] = field(default_factory=list)  # contact, phone, source
    withdrawals: list[int] = field(default_factory=list)  # consent ids
    audits: list[tuple[_Group, str, dict | None, dict]] = field(default_factory=list)


def _chunks(values: list, size: int = CHUNK) -> Iterable[list]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _groups(rows) -> list[_Group]:
    by_key: dict[str, _Group] = {}
    for r in rows:
        by_key.setdefault(r.external_id or f"\0{r.phone}", _Group()).rows.append(r)
    return list(by_key.values())


def make_plan(session: Session, rows, report) -> Plan:
    """What the import would do; problems found only against the stored contacts (a number on
    two contacts, two rows matching one contact) are added to ``report.errors``."""
    groups = _groups(rows)
    externals = [g.first.external_id for g in groups if g.first.external_id]
    by_external: dict[str, int] = {}
    for part in _chunks(externals):
        by_external.update(
            session.execute(select(Contact.external_id, Contact.id).where(Contact.external_id.in_(part))).all()
        )
    numbers = sorted({r.phone for r in rows})
    owners: dict[str, list[tuple[int, str | None]]] = {}
    for part in _chunks(numbers):
        query = (
            select(ContactPhone.number, Contact.id, Contact.external_id)
            .join(Contact, Contact.id == ContactPhone.contact_id)
            .where(ContactPhone.number.in_(part))
        )
        for number, contact_id, external in session.execute(query):
            owners.setdefault(number, []).append((contact_id, external))
    matched_by: dict[int, int] = {}
    for g in groups:
        external = g.first.external_id
        if external in by_external:
            g.contact_id = by_external[external]
        else:  # by number: a stored contact without an external id of its own (or any, for a row without one)
            candidates = {c for r in g.rows for c, x in owners.get(r.phone, []) if external is None or x is None}
            if len(candidates) > 1:
                report.errors.append(
                    RowError(
                        g.first.row,
                        "phone",
                        f"the number belongs to {len(candidates)} stored contacts; add an external id to say which.",
                    )
                )
                continue
            g.contact_id = candidates.pop() if candidates else None
        if g.contact_id is not None:
            if g.contact_id in matched_by:
                report.errors.append(
                    RowError(
                        g.first.row, "phone", f"matches the same stored contact as row {matched_by[g.contact_id]}."
                    )
                )
            matched_by.setdefault(g.contact_id, g.first.row)
    if report.errors:
        report.errors.sort(key=lambda e: e.row)
        return Plan()
    return _diff(session, groups, report)


def _diff(session: Session, groups: list[_Group], report) -> Plan:
    plan = Plan()
    stored = [g for g in groups if g.contact_id is not None]
    ids = [g.contact_id for g in stored]
    contacts, phones, active = {}, {}, {}
    for part in _chunks(ids):
        contacts.update(
            {
                c.id: c
                for c in session.execute(
                    select(Contact.id, Contact.name, Contact.email, Contact.external_id).where(Contact.id.in_(part))
                )
            }
        )
        for p in session.execute(
            select(ContactPhone.id, ContactPhone.contact_id, ContactPhone.number, ContactPhone.label).where(
                ContactPhone.contact_id.in_(part)
            )
        ):
            phones[p.contact_id, p.number] = p
    phone_ids = [p.id for p in phones.values()]
    for part in _chunks(phone_ids):
        query = select(SmsConsent.id, SmsConsent.phone_id, SmsConsent.source).where(
            SmsConsent.phone_id.in_(part), SmsConsent.withdrawn_at.is_(None)
        )
        for c in session.execute(query):
            active.setdefault(c.phone_id, []).append(c)
    for g in groups:
        first = g.first
        if g.contact_id is None:
            plan.new_contacts.append(g)
            after = {"name": first.name, "email": first.email, "external_id": first.external_id}
            after.update({f"phone {r.phone}": phone_summary(r.label, r.consent, r.source) for r in g.rows})
            plan.audits.append((g, "imported", None, after))
            plan.new_phones.extend((g, r) for r in g.rows)
            report.contacts_added += 1
            report.numbers_added += len(g.rows)
            report.consents_registered += sum(r.consent for r in g.rows)
            _preview(report, g, "new contact")
            continue
        c = contacts[g.contact_id]
        before, after = {}, {}
        wanted = {
            "name": first.name,
            "email": first.email or c.email,
            "external_id": first.external_id or c.external_id,
        }
        for key, value in wanted.items():
            if getattr(c, key) != value:
                before[key], after[key] = getattr(c, key), value
        if after:
            plan.contact_updates.append({"id": c.id, **wanted})
        for r in g.rows:
            p = phones.get((c.id, r.phone))
            key = f"phone {r.phone}"
            if p is None:
                plan.new_phones.append((g, r))
                before[key], after[key] = None, phone_summary(r.label, r.consent, r.source)
                report.numbers_added += 1
                report.consents_registered += r.consent
                continue
            consents = active.get(p.id, [])
            old = phone_summary(p.label, bool(consents), consents[0].source if consents else "")
            if p.label != r.label:
                plan.label_updates.append({"id": p.id, "label": r.label})
            if r.consent and not consents:
                plan.consents_for_stored_phones.append((c.id, p.id, r.source))
                report.consents_registered += 1
            elif not r.consent and consents:
                plan.withdrawals.extend(x.id for x in consents)
                report.consents_withdrawn += 1
            kept = (consents[0].source if consents else r.source) if r.consent else ""
            new = phone_summary(r.label, r.consent, kept)
            if new != old:
                before[key], after[key] = old, new
        if after:
            plan.audits.append((g, "imported", before, after))
            report.contacts_changed += 1
            _preview(report, g, "changed: " + ", ".join(k for k in after))
        else:
            report.contacts_unchanged += 1
            _preview(report, g, "unchanged")
    return plan


def _preview(report, group: _Group, what: str) -> None:
    if len(report.preview) < PREVIEW_ROWS:
        report.preview.append((group.first.row, group.first.name, ", ".join(r.phone for r in group.rows), what))


def apply_plan(session: Session, actor: Actor, plan: Plan, progress: Callable[[float], None]) -> None:
    now, who = utcnow(), actor_user_id(actor)
    steps = max(1, len(plan.new_contacts) + len(plan.new_phones) + len(plan.audits))
    done = 0
    for part in _chunks(plan.new_contacts, 1000):
        values = [{"name": g.first.name, "email": g.first.email, "external_id": g.first.external_id} for g in part]
        new_ids = session.scalars(insert(Contact).returning(Contact.id, sort_by_parameter_order=True), values).all()
        for g, new_id in zip(part, new_ids, strict=True):
            g.contact_id = new_id
        done += len(part)
        progress(done / steps)
    if plan.contact_updates:
        session.execute(update(Contact), plan.contact_updates)
    consents = [
        {"contact_id": c, "phone_id": p, "source": s, "registered_at": now, "registered_by_user_id": who}
        for c, p, s in plan.consents_for_stored_phones
    ]
    for part in _chunks(plan.new_phones, 1000):
        values = [{"contact_id": g.contact_id, "number": r.phone, "label": r.label} for g, r in part]
        new_ids = session.scalars(
            insert(ContactPhone).returning(ContactPhone.id, sort_by_parameter_order=True), values
        ).all()
        consents.extend(
            {
                "contact_id": g.contact_id,
                "phone_id": i,
                "source": r.source,
                "registered_at": now,
                "registered_by_user_id": who,
            }
            for (g, r), i in zip(part, new_ids, strict=True)
            if r.consent
        )
        done += len(part)
        progress(done / steps)
    if plan.label_updates:
        session.execute(update(ContactPhone), plan.label_updates)
    for part in _chunks(consents, 1000):
        session.execute(insert(SmsConsent), part)
    for part in _chunks(plan.withdrawals):
        session.execute(
            update(SmsConsent).where(SmsConsent.id.in_(part)).values(withdrawn_at=now, withdrawn_by_user_id=who)
        )
    for part in _chunks(plan.audits, 1000):
        record_many(session, [audit_row(actor, "contact", g.contact_id, action, b, a, now) for g, action, b, a in part])
        done += len(part)
        progress(done / steps)
