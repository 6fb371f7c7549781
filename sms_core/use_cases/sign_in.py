"""Who may use the app, decided on every run.

A person signs in with the e-mail address their OpenID Connect provider vouches for; it is matched
to a registered user whatever the case of its letters.  After that the app knows only the user's
id, and reads the user again by that id on every run — the page, the live table's refreshes, an
open dialog, Resend and Export CSV alike — so a user who is deactivated, loses their last org. unit
or a permission loses it on their very next request, not when they next sign in.  Every refusal is
a ``SignInRefused`` with the one sentence the refusal page shows.
"""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import select

from sms_core.domain.errors import SignInRefused
from sms_core.domain.permissions import Actor, Permission
from sms_core.storage.database import Database
from sms_core.storage.models import RolePermission, User, UserOrgUnit
from sms_core.storage.text_search import text_contains
from sms_core.use_cases.accounts import actor_of

ASK = "ask an SMS administrator"
NO_EMAIL = f"Your sign-in did not tell us your e-mail address, so you cannot be signed in here; {ASK}."
NOT_VERIFIED = (
    "Your e-mail address is not verified by your sign-in provider; verify it there and sign in again, or " + ASK + "."
)
NOT_REGISTERED = f"Your e-mail address is not registered here; {ASK}."
AMBIGUOUS = f"More than one user is registered with your e-mail address, so you cannot be signed in; {ASK}."
GONE = f"Your user is no longer registered here; {ASK}."
DEACTIVATED = f"Your user has been deactivated, so you can no longer use SMS messages; {ASK}."
NO_UNIT = f"You are not associated with any org. unit, so there is nothing here you may use; {ASK}."


def sign_in(db: Database, claims: Mapping[str, object]) -> Actor:
    """The user the provider's claims (``st.user``) name, if they may use the app now.

    Only an e-mail address the provider has verified signs anyone in: when the provider sends
    ``email_verified``, it must be true; a missing or empty ``email`` is refused, so it can never
    match a user registered without one."""
    email = claims.get("email")
    if not isinstance(email, str) or not email.strip():
        raise SignInRefused(NO_EMAIL)
    if "email_verified" in claims and not _is_true(claims["email_verified"]):
        raise SignInRefused(NOT_VERIFIED)
    with db.session() as session:
        ids = session.scalars(select(User.id).where(text_contains(User.email, _exactly(email.strip())))).all()
    if not ids:
        raise SignInRefused(NOT_REGISTERED)
    if len(ids) > 1:
        raise SignInRefused(AMBIGUOUS)
    return signed_in_actor(db, ids[0])


def demo_sign_in(db: Database, username: str) -> Actor:
    """Demo mode: the user picked in the sidebar, under the same rules as a real sign-in."""
    with db.session() as session:
        user_id = session.scalar(select(User.id).where(User.username == username))
    if user_id is None:
        raise SignInRefused(GONE)
    return signed_in_actor(db, user_id)


def signed_in_actor(db: Database, user_id: int) -> Actor:
    """The signed-in user as the database has them now, in one query: active, with their role's
    permissions and their org. units — or the refusal that now applies to them."""
    statement = (
        select(User, RolePermission.permission, UserOrgUnit.org_unit_id)
        .outerjoin(RolePermission, RolePermission.role == User.role)
        .outerjoin(UserOrgUnit, UserOrgUnit.user_id == User.id)
        .where(User.id == user_id)
    )
    with db.session() as session:
        rows = session.execute(statement).all()
        if not rows:
            raise SignInRefused(GONE)
        user = rows[0][0]
        if not user.active:
            raise SignInRefused(DEACTIVATED)
        units = frozenset(unit for _, _, unit in rows if unit is not None)
        if not units:
            raise SignInRefused(NO_UNIT)
        granted = {permission for _, permission, _ in rows}
        permissions = frozenset(p for p in Permission if p.value in granted)
        return actor_of(user, permissions, units)


def _is_true(value: object) -> bool:
    """``email_verified`` as providers send it: JSON true, or (some providers) the string "true"."""
    return value is True or (isinstance(value, str) and value.strip().lower() == "true")


def _exactly(text: str) -> str:
    """A LIKE pattern matching ``text`` and nothing else (``text_contains`` folds the case)."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
