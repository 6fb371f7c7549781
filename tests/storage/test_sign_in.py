"""Who may sign in, on both databases: the provider's verified e-mail matched to a registered user
whatever the case of its letters, and the signed-in user read again by id with every refusal."""

import pytest
from sqlalchemy import delete, event, update
from sqlalchemy.exc import IntegrityError

from sms_core.domain.errors import SignInRefused
from sms_core.storage.models import RolePermission, User, UserOrgUnit
from sms_core.use_cases import sign_in as rules
from sms_core.use_cases.accounts import load_actor
from sms_core.use_cases.sign_in import demo_sign_in, sign_in, signed_in_actor


def refusal(db, claims) -> str:
    with pytest.raises(SignInRefused) as refused:
        sign_in(db, claims)
    return refused.value.message


def set_user(db, username: str, **values) -> None:
    with db.session() as s:
        s.execute(update(User).where(User.username == username).values(**values))


@pytest.mark.parametrize("email", ["staff@example.org", "STAFF@Example.ORG", "  Staff@example.org "])
def test_the_verified_email_names_the_user_whatever_its_case(demo_base_db, email):
    actor = sign_in(demo_base_db, {"email": email, "email_verified": True, "name": "Someone else"})
    assert actor == load_actor(demo_base_db, "staff")  # the user as registered here, not the claim's name


def test_letters_beyond_ascii_match_whatever_their_case(demo_base_db):
    set_user(demo_base_db, "kari", email="Kåre.Øye@example.org")
    assert sign_in(demo_base_db, {"email": "kåre.øye@EXAMPLE.org"}).username == "kari"


def test_a_provider_that_sends_no_email_verified_claim_is_taken_at_its_word(demo_base_db):
    assert sign_in(demo_base_db, {"email": "lead@example.org"}).username == "lead"
    assert sign_in(demo_base_db, {"email": "lead@example.org", "email_verified": "true"}).username == "lead"


@pytest.mark.parametrize("verified", [False, "false", None, 0, "", "no"])
def test_an_unverified_email_signs_no_one_in(demo_base_db, verified):
    assert refusal(demo_base_db, {"email": "staff@example.org", "email_verified": verified}) == rules.NOT_VERIFIED


@pytest.mark.parametrize("claims", [{}, {"email": None}, {"email": ""}, {"email": "   "}, {"email": 42}])
def test_a_missing_or_empty_email_is_refused_even_with_users_without_one(demo_base_db, claims):
    set_user(demo_base_db, "admin", email=None)  # a None claim must never find this user
    assert refusal(demo_base_db, {**claims, "email_verified": True}) == rules.NO_EMAIL


@pytest.mark.parametrize("email", ["nobody@example.org", "%@example.org", "staff@example.or_", "staff@example.org\\"])
def test_an_unknown_email_is_refused_and_is_no_pattern(demo_base_db, email):
    assert refusal(demo_base_db, {"email": email, "email_verified": True}) == rules.NOT_REGISTERED


def test_no_two_users_can_share_an_email_in_other_letters_so_sign_in_is_never_ambiguous(demo_base_db):
    with pytest.raises(IntegrityError):
        set_user(demo_base_db, "kari", email="STAFF@example.org")
    assert sign_in(demo_base_db, {"email": "staff@example.org"}) == load_actor(demo_base_db, "staff")


def test_a_deactivated_user_is_refused_at_sign_in_and_on_the_next_read(demo_base_db):
    actor = sign_in(demo_base_db, {"email": "staff@example.org"})
    set_user(demo_base_db, "staff", active=False)
    assert refusal(demo_base_db, {"email": "staff@example.org"}) == rules.DEACTIVATED
    with pytest.raises(SignInRefused, match="deactivated"):
        signed_in_actor(demo_base_db, actor.id)
    with pytest.raises(SignInRefused, match="deactivated"):
        demo_sign_in(demo_base_db, "staff")


def test_a_user_without_any_org_unit_is_refused(demo_base_db):
    kari = load_actor(demo_base_db, "kari")
    with demo_base_db.session() as s:
        s.execute(delete(UserOrgUnit).where(UserOrgUnit.user_id == kari.id))
    assert refusal(demo_base_db, {"email": "kari@example.org"}) == rules.NO_UNIT
    with pytest.raises(SignInRefused, match="not associated with any org. unit"):
        signed_in_actor(demo_base_db, kari.id)


def test_a_lost_unit_or_permission_holds_from_the_next_read(demo_base_db):
    staff = load_actor(demo_base_db, "staff")
    lost = max(staff.org_unit_ids)
    with demo_base_db.session() as s:
        s.execute(delete(UserOrgUnit).where(UserOrgUnit.user_id == staff.id, UserOrgUnit.org_unit_id == lost))
        s.execute(delete(RolePermission).where(RolePermission.role == "staff", RolePermission.permission == "send_sms"))
    again = signed_in_actor(demo_base_db, staff.id)
    assert again.org_unit_ids == staff.org_unit_ids - {lost}
    assert again.permissions == staff.permissions - {"send_sms"}


def test_a_user_who_is_gone_is_refused(demo_base_db):
    with pytest.raises(SignInRefused, match="no longer registered"):
        signed_in_actor(demo_base_db, 999_999)
    with pytest.raises(SignInRefused, match="no longer registered"):
        demo_sign_in(demo_base_db, "nobody")


def test_reading_the_signed_in_user_again_is_one_query(demo_base_db):
    admin = load_actor(demo_base_db, "admin")
    statements = []
    engine = demo_base_db.engine
    listener = lambda *args: statements.append(args[2])  # noqa: E731 - (conn, cursor, statement, …)
    event.listen(engine, "before_cursor_execute", listener)
    try:
        assert signed_in_actor(demo_base_db, admin.id) == admin
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    assert len([s for s in statements if s.lstrip().upper().startswith("SELECT")]) == 1
