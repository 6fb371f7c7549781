"""Administration of users and org units: every rule and refusal, on SQLite and PostgreSQL, and
the audit line each change leaves (who, what, before → after)."""

from __future__ import annotations

import threading

import pytest

from sms_core.demo.seed import seed_demo
from sms_core.domain.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from sms_core.read_models.administration import list_audit, list_units, list_users
from sms_core.storage.database import Database
from sms_core.use_cases.accounts import load_actor, unit_id_by_code
from sms_core.use_cases.administration import (
    UserInput,
    add_unit,
    add_user,
    deactivate_user_by_email,
    rename_unit,
    set_unit_active,
    set_user_active,
    update_user,
)
from sms_core.use_cases.audit import cli_actor
from sms_core.use_cases.readiness import send_readiness
from sms_core.use_cases.sending import send_sms


@pytest.fixture
def admin(demo_base_db):
    return load_actor(demo_base_db, "admin")


def user_named(db, actor, name):
    return next(u for u in list_users(db, actor) if u.name == name)


def test_a_new_user_gets_a_username_from_the_email_and_can_work_at_once(demo_base_db, admin):
    db = demo_base_db
    osl, bgn = unit_id_by_code(db, "OSL"), unit_id_by_code(db, "BGN")
    user_id = add_user(db, admin, UserInput("  Nora   Ny ", "Nora.Ny@Example.ORG", "staff", (bgn, osl)))
    nora = user_named(db, admin, "Nora Ny")
    assert (nora.id, nora.username, nora.email, nora.role) == (user_id, "nora.ny", "nora.ny@example.org", "staff")
    assert set(nora.unit_codes) == {"OSL", "BGN"} and nora.active
    actor = load_actor(db, "nora.ny")
    assert actor.current_org_unit_id == bgn and actor.org_unit_ids == {osl, bgn}
    again = add_user(db, admin, UserInput("Nora Two", "nora.ny@example.net", "staff", (osl,)))
    assert next(u for u in list_users(db, admin) if u.id == again).username == "nora.ny-2"
    [line] = list_audit(db, admin, "user", user_id)
    assert (line.who, line.action, line.subject) == ("Ada Administrator", "added", "Nora Ny")
    assert ("units", None, ["BGN", "OSL"]) in line.changes and ("role", None, "staff") in line.changes


@pytest.mark.parametrize(
    "data, field, words",
    [
        (UserInput("", "x@example.org", "staff", (1,)), "name", "Enter the name"),
        (UserInput("X", "not an address", "staff", (1,)), "email", "is not an e-mail address"),
        (UserInput("X", "x@example.org", "boss", (1,)), "role", "Choose one of the roles"),
        (UserInput("X", "x@example.org", "staff", ()), "units", "at least one org. unit"),
        (UserInput("X", "x@example.org", "staff", (99999,)), "units", "does not exist"),
        (UserInput("X", "STAFF@example.org", "staff", (1,)), "email", "already registered"),
    ],
)
def test_a_user_that_cannot_be_added_is_refused_at_its_field(demo_base_db, admin, data, field, words):
    before = len(list_users(demo_base_db, admin))
    with pytest.raises((InvalidInput, Conflict)) as refused:
        add_user(demo_base_db, admin, data)
    assert refused.value.field == field and words in refused.value.message
    assert len(list_users(demo_base_db, admin)) == before


def test_only_managers_of_users_may_administer(demo_base_db):
    db, lead = demo_base_db, load_actor(demo_base_db, "lead")
    for attempt in (
        lambda: list_users(db, lead),
        lambda: list_units(db, lead),
        lambda: list_audit(db, lead),
        lambda: add_user(db, lead, UserInput("X", "x@example.org", "staff", (1,))),
        lambda: add_unit(db, lead, "NEW", "New"),
        lambda: set_user_active(db, lead, lead.id, False),
        lambda: rename_unit(db, lead, 1, "Renamed"),
    ):
        with pytest.raises(PermissionDenied, match="manage users, org units and contacts"):
            attempt()


def test_editing_a_user_changes_their_rights_and_audits_only_what_changed(demo_base_db, admin):
    db = demo_base_db
    staff = user_named(db, admin, "Stian Staff")
    trd = unit_id_by_code(db, "TRD")
    update_user(db, admin, staff.id, UserInput("Stian Staff", "stian@example.org", "team_lead", (trd,)))
    actor = load_actor(db, "staff")
    assert actor.role == "team_lead" and actor.org_unit_ids == {trd} and actor.current_org_unit_id == trd
    [line] = list_audit(db, admin, "user", staff.id)
    assert {c[0] for c in line.changes} == {"email", "role", "units"}
    assert ("role", "staff", "team_lead") in line.changes and ("units", ["BGN", "OSL"], ["TRD"]) in line.changes
    update_user(db, admin, staff.id, UserInput("Stian Staff", "STIAN@example.org", "team_lead", (trd,)))
    assert len(list_audit(db, admin, "user", staff.id)) == 1  # nothing changed: no audit noise


def test_deactivated_users_cannot_sign_in_and_come_back_when_reactivated(demo_base_db, admin):
    db = demo_base_db
    kari = user_named(db, admin, "Kari Nordmann")
    set_user_active(db, admin, kari.id, False)
    with pytest.raises(NotFound):
        load_actor(db, "kari")
    assert not user_named(db, admin, "Kari Nordmann").active  # kept, never deleted
    set_user_active(db, admin, kari.id, True)
    assert load_actor(db, "kari").display_name == "Kari Nordmann"
    assert [line.action for line in list_audit(db, admin, "user", kari.id)] == ["reactivated", "deactivated"]


def test_the_last_active_administrator_cannot_be_deactivated_or_demoted(demo_base_db, admin):
    db = demo_base_db
    osl = unit_id_by_code(db, "OSL")
    with pytest.raises(Conflict, match="last active administrator"):
        set_user_active(db, admin, admin.id, False)
    with pytest.raises(Conflict, match="last active administrator"):
        update_user(db, admin, admin.id, UserInput("Ada Administrator", "admin@example.org", "staff", (osl,)))
    second = add_user(db, admin, UserInput("Bo Boss", "bo@example.org", "administrator", (osl,)))
    set_user_active(db, admin, admin.id, False)  # now there is another
    bo = load_actor(db, "bo")
    with pytest.raises(Conflict, match="last active administrator"):
        set_user_active(db, bo, second, False)
    assert load_actor(db, "bo").role == "administrator"


def test_two_administrators_deactivating_each_other_at_once_leave_one(pg_db):
    """Each request alone is allowed; together they would leave no administrator.  The role lock
    makes the second wait for the first and then see it."""
    seed_demo(pg_db, messages=0)
    admin = load_actor(pg_db, "admin")
    osl = unit_id_by_code(pg_db, "OSL")
    other = add_user(pg_db, admin, UserInput("Bo Boss", "bo@example.org", "administrator", (osl,)))
    url = pg_db.url.render_as_string(hide_password=False)
    servers = [Database(url), Database(url)]
    barrier, outcomes = threading.Barrier(2), []

    def deactivate(server, user_id):
        barrier.wait()
        try:
            set_user_active(server, admin, user_id, False)
            outcomes.append("done")
        except Conflict:
            outcomes.append("refused")

    for _ in range(5):
        set_user_active(pg_db, admin, admin.id, True)
        set_user_active(pg_db, admin, other, True)
        outcomes.clear()
        threads = [
            threading.Thread(target=deactivate, args=(s, u)) for s, u in zip(servers, (admin.id, other), strict=True)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        assert sorted(outcomes) == ["done", "refused"]
        active_admins = [u for u in list_users(pg_db, cli_actor()) if u.role == "administrator" and u.active]
        assert len(active_admins) == 1
    for server in servers:
        server.dispose()


def test_org_units_are_added_renamed_and_deactivated_never_deleted(demo_base_db, admin):
    db = demo_base_db
    unit = add_unit(db, admin, " drm ", "Drammen")
    assert unit_id_by_code(db, "DRM") == unit
    for code in ("DRM", "drm", "Osl"):
        with pytest.raises(Conflict, match="already an org. unit with the code") as refused:
            add_unit(db, admin, code, "Again")
        assert refused.value.field == "code"
    with pytest.raises(InvalidInput, match="letters A–Z"):
        add_unit(db, admin, "D R M", "Drammen")
    rename_unit(db, admin, unit, "Drammen Sentrum")
    set_unit_active(db, admin, unit, False)
    row = next(u for u in list_units(db, admin) if u.id == unit)
    assert (row.name, row.active) == ("Drammen Sentrum", False)
    assert unit not in {u.id for u in list_units(db, admin, active_only=True)}
    with pytest.raises(InvalidInput, match="deactivated org. unit cannot be given"):
        add_user(db, admin, UserInput("X", "x@example.org", "staff", (unit,)))
    actions = [(line.action, line.changes) for line in list_audit(db, admin, "org_unit", unit)]
    assert actions == [
        ("deactivated", ()),
        ("changed", (("name", "Drammen", "Drammen Sentrum"),)),
        ("added", (("code", None, "DRM"), ("name", None, "Drammen"))),
    ]


def test_a_deactivated_unit_cannot_send_and_keeps_its_messages(demo_base_db, admin):
    from support import accepting

    db = demo_base_db
    staff = load_actor(db, "staff")
    sent = send_sms(db, staff, text="before", phone="+4741555123", gateway=accepting())
    set_unit_active(db, admin, staff.current_org_unit_id, False)
    assert "deactivated" in send_readiness(db, staff)
    refused = send_sms(db, staff, text="after", phone="+4741555123", gateway=accepting())
    assert refused.message.status.label == "Invalid representative for unit"
    assert sent.message.id != refused.message.id  # the earlier message is still there, as is its unit


def test_the_cli_acts_as_the_system_and_is_named_in_the_audit(demo_base_db, admin):
    db = demo_base_db
    deactivate_user_by_email(db, cli_actor(), "KARI@example.org")
    [line] = list_audit(db, admin, "user")
    assert (line.who, line.action, line.subject) == ("CLI", "deactivated", "Kari Nordmann")
    with pytest.raises(NotFound, match="nobody@example.org"):
        deactivate_user_by_email(db, cli_actor(), "nobody@example.org")
