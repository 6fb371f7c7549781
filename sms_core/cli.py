"""``python -m sms_core …``: migrate, seed the demo, send and show; users, units and contacts
are administered by ``sms_core.cli_admin``.

Every refusal ends as one readable line on stderr and exit status 2, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from collections.abc import Callable
from urllib.parse import quote

from sms_core import cli_admin
from sms_core.bootstrap import bootstrap
from sms_core.config import load_config
from sms_core.delivery.http import report_url
from sms_core.delivery.incoming import incoming_url
from sms_core.delivery.worker import Worker, run_worker
from sms_core.demo.seed import seed_demo
from sms_core.domain.errors import SmsError
from sms_core.domain.sms_text import lone_surrogates
from sms_core.gateways.kannel_incoming import kannel_groups
from sms_core.read_models.message_detail import get_message_detail
from sms_core.storage.database import Database
from sms_core.storage.migrate import migrate
from sms_core.use_cases.accounts import load_actor, unit_id_by_code
from sms_core.use_cases.api_keys import create_api_key, list_api_keys, revoke_api_key
from sms_core.use_cases.sending import send_sms

COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {}


def command(name: str):
    def register(func):
        COMMANDS[name] = func
        return func

    return register


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m sms_core", description="SMS messages: administration commands.")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("migrate", help="bring the database schema up to date")
    seed = sub.add_parser("seed-demo", help="create demo org units, users, contacts and messages (once)")
    seed.add_argument("--messages", type=int, default=3000, help="number of demo messages (default 3000)")
    seed.add_argument("--days", type=int, default=90, help="spread them over this many days (default 90)")
    sub.add_parser("check-db", help="say whether the configured database answers")
    serve = sub.add_parser("serve", help="migrate and serve the app (with the embedded worker)")
    serve.add_argument("--port", type=int, default=8501)
    serve.add_argument(
        "--address", default="127.0.0.1", help="address to bind (default 127.0.0.1: this machine only; 0.0.0.0 for all)"
    )
    send = sub.add_parser("send", help="send an SMS as a user")
    send.add_argument("--user", required=True, help="username of the sender")
    to = send.add_mutually_exclusive_group(required=True)
    to.add_argument("--to", help="phone number, as typed")
    to.add_argument("--contact", type=int, help="contact id (with --phone to pick one of their numbers)")
    send.add_argument("--phone", help="with --contact: which of the contact's numbers")
    send.add_argument("--text", required=True)
    send.add_argument("--org-unit", help="org unit code (default: the user's current unit)")
    send.add_argument("--json", action="store_true", help="print one JSON object")
    show = sub.add_parser("show", help="show a message: status, explanation and history")
    show.add_argument("id", type=int)
    show.add_argument("--user", default="admin", help="whose eyes to look through (default admin)")
    show.add_argument("--json", action="store_true")
    keys = sub.add_parser("api-keys", help="API keys of the HTTP API: create, list, revoke")
    keys_sub = keys.add_subparsers(dest="api_keys_command", required=True)
    create = keys_sub.add_parser("create", help="create a key; prints the key (shown only this once) on stdout")
    create.add_argument("--unit", required=True, help="org unit code the key sends for")
    create.add_argument("--name", required=True, help="which system uses it, e.g. 'Booking system'")
    create.add_argument("--callback-url", help="where status callbacks are POSTed (http or https)")
    create.add_argument("--user", default="admin", help="the administrator creating it (default admin)")
    listing = keys_sub.add_parser("list", help="the keys, with their unit, prefix and last use")
    listing.add_argument("--user", default="admin")
    revoke = keys_sub.add_parser("revoke", help="revoke a key: its next request is refused")
    revoke.add_argument("id", type=int)
    revoke.add_argument("--user", default="admin")
    worker = sub.add_parser("worker", help="run the worker: dispatch, delivery reports over HTTP, status checks")
    worker.add_argument("--once", action="store_true", help="one round of every duty, then exit")
    cli_admin.add_parsers(sub)
    sub.add_parser("kannel-config", help="print Kannel's sendsms-user and sms-service groups for these settings")
    return parser


def _database() -> Database:
    """The configured database, for the commands that need nothing else."""
    return Database(load_config().database_url)


@command("migrate")
def _migrate(args) -> int:
    db = _database()
    migrate(db)
    print(f"Database schema is up to date ({db.description}).")
    return 0


@command("seed-demo")
def _seed(args) -> int:
    if args.messages < 0:
        raise SmsError("--messages must be 0 or more.")
    db = _database()
    migrate(db)
    started = time.perf_counter()
    result = seed_demo(db, messages=args.messages, days=args.days)
    elapsed = time.perf_counter() - started
    if not result.created_base and not result.messages_added:
        print("Demo data is already there; nothing added.")
    else:
        print(f"Seeded demo data: {result.messages_added:,} messages in {elapsed:.1f} s ({db.description}).")
    return 0


@command("check-db")
def _check(args) -> int:
    db = _database()
    db.check()
    print(f"The database answers ({db.description}).")
    return 0


@command("serve")
def _serve(args) -> int:
    from sms_core.app_server import serve  # Streamlit, imported only by the command that serves it

    db = _database()
    migrate(db)
    db.dispose()
    print(f"Serving SMS messages on http://localhost:{args.port} ({db.description}).", flush=True)
    serve(port=args.port, address=args.address)
    return 0


@command("send")
def _send(args) -> int:
    runtime = bootstrap(load_config())
    try:
        db, gateway = runtime.db, runtime.gateway
        actor = load_actor(db, args.user)
        unit = unit_id_by_code(db, args.org_unit) if args.org_unit else None
        result = send_sms(
            db,
            actor,
            text=args.text,
            phone=args.to or args.phone,
            contact_id=args.contact,
            org_unit_id=unit,
            gateway=gateway,
            config=runtime.config,
        )
        if hasattr(gateway, "drain"):
            gateway.drain(timeout=gateway.latency * 2 + 1)  # let the simulated report arrive before exit
        return _print_message(db, actor, result.message.id, args.json, result.summary)
    finally:
        runtime.close()


@command("show")
def _show(args) -> int:
    db = _database()
    return _print_message(db, load_actor(db, args.user), args.id, args.json)


def _print_message(db, actor, message_id: int, as_json: bool, summary: str | None = None) -> int:
    detail = get_message_detail(db, actor, message_id)
    m = detail.message
    if as_json:
        print(
            json.dumps(
                {
                    "id": m.id,
                    "status": m.status.label,
                    "explanation": m.status.explanation,
                    "next_step": m.status.next_step,
                    "phone": m.phone,
                    "text": m.text,
                    "org_unit": detail.org_unit_name,
                    "sent_on": m.sent_on.isoformat(),
                    "resent": m.resent,
                    "original_id": m.original_id,
                    "resend_id": detail.resend_id,
                    "segments": m.segments,
                    "gateway_error": m.gateway_error,
                    "summary": summary,
                    "history": [
                        {"at": h.at.isoformat(), "status": h.status.label, "source": h.source, "detail": h.detail}
                        for h in detail.history
                    ],
                },
                ensure_ascii=False,
            )
        )
        return 0
    if summary:
        print(summary)
    print(
        f"SMS {m.id} to {m.phone_display or '(no number)'} from {detail.org_unit_name}, sent {m.sent_on:%Y-%m-%d %H:%M:%S} UTC"
    )
    print(f"Status: {m.status.label} – {m.status.explanation} {m.status.next_step}")
    for h in detail.history:
        print(f"  {h.at:%Y-%m-%d %H:%M:%S}  {h.status.label:<32} {h.source:<16} {h.detail or ''}")
    return 0


@command("api-keys")
def _api_keys(args) -> int:
    db = _database()
    actor = load_actor(db, args.user)
    if args.api_keys_command == "create":
        unit = unit_id_by_code(db, args.unit)
        made = create_api_key(db, actor, org_unit_id=unit, name=args.name, callback_url=args.callback_url)
        print(made.secret)
        print(
            f"Created API key {made.key.id} ({made.key.name!r}, {made.key.org_unit_name}, prefix {made.key.prefix}). "
            "The key above is shown only now: keep it in the system that uses it.",
            file=sys.stderr,
        )
        if made.key.callback_url:
            print(f"Callback signing secret (shown only now): {made.callback_secret}", file=sys.stderr)
    elif args.api_keys_command == "list":
        for key in list_api_keys(db, actor):
            used = f"{key.last_used_at:%Y-%m-%d %H:%M}" if key.last_used_at else "never"
            state = "active" if key.active else f"revoked {key.revoked_at:%Y-%m-%d %H:%M}"
            print(f"{key.id:>4}  {key.prefix}  {key.name:<24} {key.org_unit_name:<20} last used {used:<16} {state}")
    else:
        key = revoke_api_key(db, actor, args.id)
        print(f"API key {key.id} ({key.name!r}) is revoked.")
    return 0


@command("worker")
def _worker(args) -> int:
    runtime = bootstrap(load_config(), worker=True)
    try:
        if args.once:
            print(Worker(runtime.db, runtime.gateway, runtime.config).run_once())
        else:
            run_worker(runtime.db, runtime.gateway, runtime.reports, runtime.config, runtime.replies)
        return 0
    finally:
        runtime.close()


for _name in ("users", "units", "contacts"):
    COMMANDS[_name] = cli_admin.run


@command("kannel-config")
def _kannel_config(args) -> int:
    config = load_config()
    if not config.incoming_secret:
        raise SmsError(
            "Set SMS_INCOMING_SECRET first (a long random value, e.g. from "
            "`python -c 'import secrets; print(secrets.token_urlsafe(32))'`): Kannel puts it in every incoming-SMS call."
        )
    url = f"{incoming_url(report_url(config))}?secret={quote(config.incoming_secret, safe='')}"
    print(kannel_groups(config.kannel_username, config.kannel_password, url), end="")
    return 0


def _log_to_stderr() -> None:
    """sms_core's own lines (the worker, the delivery-report check) on stderr, one line each."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    logger = logging.getLogger("sms_core")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)


def _refuse_undecodable(args) -> None:
    """An argument with bytes that are not UTF-8 arrives with lone surrogates (surrogateescape),
    which no database, gateway or terminal can encode: refuse it before anything uses it."""
    for name, value in vars(args).items():
        if isinstance(value, str) and (broken := lone_surrogates(value)):
            raise SmsError(
                f"--{name.replace('_', '-')} contains bytes that are not valid UTF-8 text ({broken}); "
                "type it again in a terminal that uses UTF-8."
            )


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    _log_to_stderr()
    try:
        _refuse_undecodable(args)
        return COMMANDS[args.command](args)
    except SmsError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
