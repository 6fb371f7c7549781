"""Importing contacts from a CSV file: read and check every row first, then write all of it in
one transaction — or, while any row is wrong, nothing at all.

Columns, named in the first row (case and order do not matter; ``;`` or ``,`` between cells, as
spreadsheets save them): external id (optional), name, e-mail, phone, label, consent (yes/no),
consent source.  One row is one number of a contact; rows with the same external id are the
same contact's numbers.  A row is matched to a stored contact by its external id, else by its
number, so importing the same file again updates instead of duplicating — and changes nothing,
with no audit line, when nothing in it differs.  The file's name, e-mail and label replace the
stored ones (an empty e-mail leaves the stored one); consent "yes" registers it where it is not
registered, "no" withdraws it where it is.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy.exc import IntegrityError

from sms_core.domain.errors import Conflict, InvalidInput, SmsError
from sms_core.domain.permissions import Actor, Permission
from sms_core.domain.phones import DEFAULT_REGION
from sms_core.storage.database import Database
from sms_core.use_cases._contact_import_plan import RowError, apply_plan, make_plan
from sms_core.use_cases.contacts_admin import ContactInput, PhoneInput, clean_contact, clean_phone

MAX_BYTES = 20 * 1024 * 1024
MAX_ROWS = 100_000
COLUMNS = ("external id", "name", "e-mail", "phone", "label", "consent", "consent source")
_ALIASES = {
    "external id": "external_id",
    "external_id": "external_id",
    "externalid": "external_id",
    "name": "name",
    "e-mail": "email",
    "email": "email",
    "phone": "phone",
    "phone number": "phone",
    "number": "phone",
    "label": "label",
    "consent": "consent",
    "consent yes/no": "consent",
    "consent source": "consent_source",
    "consent_source": "consent_source",
    "source": "consent_source",
}
_REQUIRED = ("name", "phone", "consent")
_YES, _NO = {"yes", "y", "ja", "j", "true", "1"}, {"no", "n", "nei", "false", "0"}
FIELD_WORDS = {
    "external_id": "external id",
    "name": "name",
    "email": "e-mail",
    "phone": "phone",
    "label": "label",
    "consent": "consent",
    "consent_source": "consent source",
}
Progress = Callable[[float, str], None]


@dataclass(frozen=True)
class ImportRow:
    row: int
    external_id: str | None
    name: str
    email: str | None
    phone: str  # E.164
    label: str
    consent: bool
    source: str


@dataclass
class ImportReport:
    rows: int = 0
    errors: list[RowError] = field(default_factory=list)
    contacts_added: int = 0
    contacts_changed: int = 0
    contacts_unchanged: int = 0
    numbers_added: int = 0
    consents_registered: int = 0
    consents_withdrawn: int = 0
    written: bool = False
    preview: list[tuple[int, str, str, str]] = field(default_factory=list)  # (row, name, phone, what happens)

    @property
    def summary(self) -> str:
        if self.errors:
            return f"{len(self.errors)} problem(s) in {self.rows} rows; nothing was imported."
        done = "Imported" if self.written else "Would import"
        return (
            f"{done} {self.rows} rows: {self.contacts_added} contacts added, {self.contacts_changed} changed, "
            f"{self.contacts_unchanged} unchanged; {self.numbers_added} numbers added; consent registered for "
            f"{self.consents_registered}, withdrawn for {self.consents_withdrawn}."
        )


def import_contacts(
    db: Database,
    actor: Actor,
    data: bytes | str,
    region: str = DEFAULT_REGION,
    dry_run: bool = False,
    progress: Progress | None = None,
) -> ImportReport:
    """Check the file and, unless ``dry_run`` or a row is wrong, write it.  The report says what
    was (or would be) done, or every problem by row and column."""
    actor.require(Permission.MANAGE_USERS)
    tell = progress or (lambda _fraction, _text: None)
    tell(0.0, "Reading the file …")
    rows, errors = read_rows(data, region)
    report = ImportReport(rows=len(rows) + len({e.row for e in errors} - {r.row for r in rows}), errors=errors)
    tell(0.2, "Matching the rows with stored contacts …")
    try:
        with db.session() as session:
            plan = make_plan(session, rows, report)
            if report.errors or dry_run:
                tell(1.0, "Checked.")
                return report
            apply_plan(session, actor, plan, lambda f: tell(0.4 + 0.6 * f, "Writing …"))
            report.written = True
    except IntegrityError:  # another import or edit stored one of these external ids meanwhile
        raise Conflict(
            "Some of these contacts were changed by someone else at the same moment; nothing was imported. "
            "Import the file again."
        ) from None
    tell(1.0, "Done.")
    return report


def read_rows(data: bytes | str, region: str = DEFAULT_REGION) -> tuple[list[ImportRow], list[RowError]]:
    """Every row checked on its own (its number as the Send SMS dialog checks it), and the rows
    against each other (one number once per contact; one external id, one name)."""
    lines = _lines(data)
    reader = csv.reader(lines, delimiter=_delimiter(lines[0] if lines else ""))
    try:
        table = list(reader)
    except csv.Error as exc:
        raise InvalidInput(f"Row {reader.line_num} cannot be read as CSV ({exc}).", field="file") from None
    if not table:
        raise InvalidInput("The file is empty.", field="file")
    columns = _columns(table[0])
    if len(table) - 1 > MAX_ROWS:
        raise InvalidInput(f"The file has {len(table) - 1} rows; import at most {MAX_ROWS} at a time.", field="file")
    rows, errors = [], []
    for number, cells in enumerate(table[1:], start=2):
        if not any(c.strip() for c in cells):
            continue
        try:
            rows.append(_row(number, cells, columns, region))
        except _RowProblem as problem:
            errors.append(problem.error)
    return rows, errors + _cross_check(rows)


class _RowProblem(Exception):
    def __init__(self, row: int, column: str, message: str):
        self.error = RowError(row, FIELD_WORDS.get(column, column), message)


def _lines(data: bytes | str) -> list[str]:
    if isinstance(data, bytes):
        if len(data) > MAX_BYTES:
            raise InvalidInput(f"The file is larger than {MAX_BYTES // (1024 * 1024)} MB; split it.", field="file")
        try:
            data = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise InvalidInput(
                "The file is not UTF-8 text: save it from the spreadsheet as CSV UTF-8.", field="file"
            ) from None
    return io.StringIO(data.lstrip("\ufeff"), newline="").read().splitlines(keepends=True)


def _delimiter(header: str) -> str:
    return max(";,\t", key=header.count) if any(c in header for c in ";,\t") else ","


def _columns(header: list[str]) -> dict[str, int]:
    columns: dict[str, int] = {}
    for index, name in enumerate(header):
        key = _ALIASES.get(" ".join(name.strip().lower().split()))
        if key is None and name.strip():
            raise InvalidInput(
                f"Row 1 names a column {name.strip()!r} this import does not know; the columns are: "
                + ", ".join(COLUMNS)
                + ".",
                field="file",
            )
        if key is not None:
            if key in columns:
                raise InvalidInput(f"Row 1 names the column {FIELD_WORDS[key]!r} twice.", field="file")
            columns[key] = index
    missing = [FIELD_WORDS[c] for c in _REQUIRED if c not in columns]
    if missing:
        raise InvalidInput(
            f"Row 1 must name the columns; {', '.join(missing)} is missing (columns: {', '.join(COLUMNS)}).",
            field="file",
        )
    return columns


def _row(number: int, cells: list[str], columns: dict[str, int], region: str) -> ImportRow:
    def cell(key: str) -> str:
        index = columns.get(key)
        return cells[index].strip() if index is not None and index < len(cells) else ""

    if len(cells) > max(columns.values()) + 1 and any(c.strip() for c in cells[max(columns.values()) + 1 :]):
        raise _RowProblem(number, "row", "has more cells than row 1 names columns.")
    consent_word = cell("consent").lower()
    if consent_word not in _YES | _NO:
        raise _RowProblem(number, "consent", f"write yes or no, not {cell('consent')!r}.")
    try:
        name, email, external = clean_contact(ContactInput(cell("name"), cell("email"), cell("external_id")))
        phone, label, consent, source = clean_phone(
            PhoneInput(cell("phone"), cell("label"), consent_word in _YES, cell("consent_source")), region
        )
    except SmsError as exc:
        raise _RowProblem(number, exc.field or "row", exc.message) from None
    return ImportRow(number, external, name, email, phone, label, consent, source)


def _cross_check(rows: list[ImportRow]) -> list[RowError]:
    """Rows that contradict each other: one external id, two names; one contact's number twice."""
    errors: list[RowError] = []
    first_of: dict[str, ImportRow] = {}
    seen: dict[tuple[str, str], int] = {}
    for r in rows:
        key = r.external_id or f"\0{r.phone}"
        if r.external_id is not None:
            first = first_of.setdefault(r.external_id, r)
            if first is not r and (first.name, first.email) != (r.name, r.email):
                which = "name" if first.name != r.name else "e-mail"
                errors.append(RowError(r.row, which, f"differs from row {first.row}, which has the same external id."))
        if (key, r.phone) in seen:
            errors.append(RowError(r.row, "phone", f"the same number is already on row {seen[key, r.phone]}."))
        seen.setdefault((key, r.phone), r.row)
    return errors
