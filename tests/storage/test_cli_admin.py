"""The administration commands: a new installation's first administrator and units, users listed
and deactivated, contacts imported — refusals one line on stderr with exit status 2.

The bring-up runs on both databases (it is the production path); the refusals on SQLite, as in
test_cli.py, since the rules beneath have their own tests on both."""

from __future__ import annotations

import pytest
from test_cli import run_cli

from sms_core.read_models.administration import list_audit
from sms_core.storage.database import Database
from sms_core.use_cases.accounts import load_actor


def one_line_refusal(result, words: str) -> None:
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stderr.startswith("error: ") and words in result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr


def test_a_new_installation_gets_its_first_administrator_and_units_from_the_cli(database_url):
    cli = lambda *args: run_cli(*args, database_url=database_url)  # noqa: E731
    assert cli("migrate").returncode == 0
    one_line_refusal(
        cli("users", "add", "--email", "a@x.no", "--name", "A", "--role", "administrator", "--unit", "OSL"),
        "no org. unit with the code 'OSL'",
    )
    assert cli("units", "add", "--code", "osl", "--name", "Oslo Sentrum").returncode == 0
    assert cli("units", "add", "--code", "BGN", "--name", "Bergen").returncode == 0
    one_line_refusal(cli("units", "add", "--code", "Osl", "--name", "Again"), "already an org. unit with the code OSL")
    added = cli(
        "users",
        "add",
        "--email",
        "Ada@Example.org",
        "--name",
        "Ada Admin",
        "--role",
        "administrator",
        "--unit",
        "OSL",
        "--unit",
        "bgn",
    )
    assert added.returncode == 0, added.stderr
    assert added.stdout.strip() == "Added Ada Admin <ada@example.org> (username ada) as Administrator in BGN, OSL."
    one_line_refusal(
        cli("users", "add", "--email", "ADA@example.org", "--name", "Twin", "--role", "staff", "--unit", "OSL"),
        "already registered with ada@example.org",
    )
    db = Database(database_url)
    try:
        ada = load_actor(db, "ada")
        assert len(ada.org_unit_ids) == 2
        assert {str(p) for p in ada.permissions} >= {"manage_users", "manage_settings", "send_sms"}
        assert {(line.who, line.action) for line in list_audit(db, ada)} == {("CLI", "added")}
    finally:
        db.dispose()
    one_line_refusal(cli("users", "deactivate", "--email", "ada@example.org"), "last active administrator")


@pytest.mark.sqlite_only
def test_users_are_listed_and_deactivated(demo_base_db, database_url):
    cli = lambda *args: run_cli(*args, database_url=database_url)  # noqa: E731
    done = cli("users", "deactivate", "--email", "KARI@example.org")
    assert done.returncode == 0 and "Deactivated Kari Nordmann" in done.stdout
    listed = cli("users", "list").stdout.splitlines()
    assert listed[-1].split()[:3] == ["kari", "Kari", "Nordmann"] and listed[-1].endswith("(deactivated)")
    assert any(line.startswith("admin ") and "Administrator" in line for line in listed)
    one_line_refusal(cli("users", "deactivate", "--email", "nobody@example.org"), "No user is registered")
    one_line_refusal(
        cli("users", "add", "--email", "x@example.org", "--name", "X", "--role", "boss", "--unit", "OSL"),
        "--role must be staff, team_lead or administrator",
    )


@pytest.mark.sqlite_only
def test_contacts_are_imported_from_a_file_and_a_wrong_file_writes_nothing(demo_base_db, database_url, tmp_path):
    cli = lambda *args: run_cli(*args, database_url=database_url)  # noqa: E731
    good = tmp_path / "good.csv"
    good.write_text(
        "external id,name,e-mail,phone,label,consent,consent source\nC1,Cli Kontakt,,415 55 321,Mobile,yes,Form\n"
    )
    dry = cli("contacts", "import", str(good), "--dry-run")
    assert dry.returncode == 0 and dry.stdout.startswith("Would import 1 rows: 1 contacts added")
    first = cli("contacts", "import", str(good))
    assert first.returncode == 0 and first.stdout.startswith("Imported 1 rows: 1 contacts added")
    again = cli("contacts", "import", str(good))
    assert "0 contacts added, 0 changed, 1 unchanged" in again.stdout
    bad = tmp_path / "bad.csv"
    bad.write_text("name;phone;consent\nNy;12;yes\nNy2;41555322;kanskje\n")
    refused = cli("contacts", "import", str(bad))
    one_line_refusal(refused, "2 problem(s) in 2 rows; nothing was imported.")
    assert refused.stdout.splitlines() == [
        "Row 2, phone: The phone number is too short – check that no digits are missing.",
        "Row 3, consent: write yes or no, not 'kanskje'.",
    ]
    one_line_refusal(
        cli("contacts", "import", str(tmp_path / "missing.csv")), "cannot be read (No such file or directory)"
    )
