"""``python -m sms_core users|units|contacts …``: administration from the command line, acting as
the system (the audit says "CLI"), since it is how the first administrator of a new installation
is made.  The same use cases as the administration page, so the same rules and refusals."""

from __future__ import annotations

import argparse
from pathlib import Path

from sms_core.config import load_config
from sms_core.domain.errors import InvalidInput
from sms_core.read_models.administration import list_users
from sms_core.storage.database import Database
from sms_core.use_cases.accounts import unit_id_by_code
from sms_core.use_cases.administration import UserInput, add_unit, add_user, deactivate_user_by_email
from sms_core.use_cases.audit import cli_actor
from sms_core.use_cases.contact_import import import_contacts

ROLES = {"staff": "staff", "team_lead": "team_lead", "team-lead": "team_lead", "administrator": "administrator"}


def add_parsers(sub) -> None:
    users = sub.add_parser("users", help="add, list and deactivate users").add_subparsers(dest="action", required=True)
    add = users.add_parser("add", help="add a user (the first administrator of a new installation, for one)")
    add.add_argument("--email", required=True, help="the address they sign in with")
    add.add_argument("--name", required=True)
    add.add_argument("--role", required=True, help="staff, team_lead or administrator")
    add.add_argument("--unit", required=True, action="append", help="org unit code; repeat for several")
    users.add_parser("list", help="every user, active ones first")
    deactivate = users.add_parser("deactivate", help="deactivate a user (never deleted)")
    deactivate.add_argument("--email", required=True)
    units = sub.add_parser("units", help="add org units").add_subparsers(dest="action", required=True)
    unit = units.add_parser("add", help="add an org unit")
    unit.add_argument("--code", required=True, help="short code, stored in capitals (OSL)")
    unit.add_argument("--name", required=True)
    contacts = sub.add_parser("contacts", help="import contacts").add_subparsers(dest="action", required=True)
    load = contacts.add_parser("import", help="import contacts from a CSV file (see the README for its columns)")
    load.add_argument("file")
    load.add_argument("--dry-run", action="store_true", help="check the file and say what would change; write nothing")


def run(args: argparse.Namespace) -> int:
    config = load_config()
    db = Database(config.database_url)
    try:
        return HANDLERS[args.command, args.action](db, args, config)
    finally:
        db.dispose()


def _users_add(db: Database, args, config) -> int:
    role = ROLES.get(args.role.strip().lower().replace(" ", "_"))
    if role is None:
        raise InvalidInput(f"--role must be staff, team_lead or administrator, not {args.role!r}.")
    units = tuple(unit_id_by_code(db, code) for code in args.unit)
    user_id = add_user(db, cli_actor(), UserInput(args.name, args.email, role, units))
    added = next(u for u in list_users(db, cli_actor()) if u.id == user_id)
    print(
        f"Added {added.name} <{added.email}> (username {added.username}) as {added.role_label} "
        f"in {', '.join(added.unit_codes)}."
    )
    return 0


def _users_list(db: Database, args, config) -> int:
    for u in list_users(db, cli_actor()):
        state = "" if u.active else "  (deactivated)"
        print(f"{u.username:<20} {u.name:<28} {u.email or '':<32} {u.role_label:<14} {','.join(u.unit_codes)}{state}")
    return 0


def _users_deactivate(db: Database, args, config) -> int:
    name = deactivate_user_by_email(db, cli_actor(), args.email)
    print(f"Deactivated {name}; their sent messages keep their name.")
    return 0


def _units_add(db: Database, args, config) -> int:
    add_unit(db, cli_actor(), args.code, args.name)
    print(f"Added the org. unit {args.code.strip().upper()} ({args.name.strip()}).")
    return 0


def _contacts_import(db: Database, args, config) -> int:
    path = Path(args.file)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InvalidInput(f"{args.file} cannot be read ({exc.strerror}).") from None
    report = import_contacts(db, cli_actor(), data, config.default_region, dry_run=args.dry_run)
    for problem in report.errors:
        print(problem)
    if report.errors:
        raise InvalidInput(report.summary)
    print(report.summary)
    return 0


HANDLERS = {
    ("users", "add"): _users_add,
    ("users", "list"): _users_list,
    ("users", "deactivate"): _users_deactivate,
    ("units", "add"): _units_add,
    ("contacts", "import"): _contacts_import,
}
