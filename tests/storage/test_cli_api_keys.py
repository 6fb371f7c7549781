"""``python -m sms_core api-keys``: create prints the key alone on stdout (so a script can keep
it), list shows it by prefix and last use, revoke stops it; refusals are one line on stderr.

SQLite only, as test_cli.py: the words and exit codes are what is proved here."""

import pytest
from test_cli import run_cli

from sms_core.use_cases.api_keys import key_actor

pytestmark = pytest.mark.sqlite_only


def test_create_list_and_revoke_a_key(demo_base_db, database_url):
    made = run_cli("api-keys", "create", "--unit", "osl", "--name", "Booking system", database_url=database_url)
    assert made.returncode == 0, made.stderr
    key = made.stdout.strip()
    assert "\n" not in key and key_actor(demo_base_db, key).display_name == "API key Booking system"
    assert "shown only now" in made.stderr and key not in made.stderr
    listed = run_cli("api-keys", "list", database_url=database_url)
    assert "Booking system" in listed.stdout and "Oslo Sentrum" in listed.stdout and "active" in listed.stdout
    assert key not in listed.stdout
    key_id = listed.stdout.split()[0]
    revoked = run_cli("api-keys", "revoke", key_id, database_url=database_url)
    assert revoked.returncode == 0 and "is revoked" in revoked.stdout
    assert key_actor(demo_base_db, key) is None


def test_refusals_are_one_line(demo_base_db, database_url):
    cases = [
        (("create", "--unit", "NOPE", "--name", "X"), "no org. unit with the code"),
        (("create", "--unit", "OSL", "--name", "X", "--callback-url", "ftp://x"), "http:// or https://"),
        (
            ("create", "--unit", "OSL", "--name", "X", "--user", "staff"),
            "permission to manage users, org units and contacts",
        ),
        (("revoke", "999"), "no API key with id 999"),
    ]
    for args, words in cases:
        result = run_cli("api-keys", *args, database_url=database_url)
        assert result.returncode == 2 and words in result.stderr and "Traceback" not in result.stderr, result.stderr
