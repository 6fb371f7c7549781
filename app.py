"""SMS messages — the Streamlit entry point: resolve the user, build the menu from what they may
use, and run the chosen page.  Pages the user may not use are not in the menu; opening one by its
URL shows a refusal instead of the page.
"""

from __future__ import annotations

import runpy

import streamlit as st

from pages._shared import ACTOR_KEY, database
from sms_core.config import PROJECT_ROOT, get_config
from sms_core.domain.errors import SmsError
from sms_core.domain.permissions import Actor, Permission
from sms_core.use_cases.accounts import list_usernames, load_actor, load_actor_by_email, set_current_org_unit, units_of

st.set_page_config(page_title="SMS messages", page_icon=":material/sms:", layout="wide")

# (file, title, icon, url path, permission, menu section)
PAGES = [
    (
        "pages/overview.py",
        "SMS messages",
        ":material/sms:",
        "sms-messages",
        Permission.VIEW_SMS,
        "Calendar / communication",
    ),
    (
        "pages/contacts.py",
        "Contacts",
        ":material/contacts:",
        "sms-contacts",
        Permission.VIEW_SMS,
        "Calendar / communication",
    ),
    (
        "pages/standard_texts.py",
        "Standard texts",
        ":material/text_snippet:",
        "sms-standard-texts",
        Permission.MANAGE_STANDARD_TEXTS,
        "Calendar / communication",
    ),
    (
        "pages/delivery_rates.py",
        "Delivery rates",
        ":material/monitoring:",
        "sms-delivery-rates",
        Permission.VIEW_DELIVERY_REPORTS,
        "Reports",
    ),
    (
        "pages/settings.py",
        "SMS settings",
        ":material/settings:",
        "sms-settings",
        Permission.MANAGE_SETTINGS,
        "Administration",
    ),
]


def _oidc_configured() -> bool:
    try:
        return "auth" in st.secrets
    except Exception:  # no secrets.toml at all
        return False


def resolve_actor() -> Actor:
    db = database()
    if _oidc_configured():
        if not st.user.is_logged_in:
            st.title("SMS messages")
            st.button("Sign in", on_click=st.login, type="primary")
            st.stop()
        st.sidebar.button("Sign out", on_click=st.logout)
        return load_actor_by_email(db, st.user.email)
    users = list_usernames(db)
    names = [u for u, _ in users]
    default = get_config().demo_user
    if "demo_user" not in st.session_state:
        st.session_state.demo_user = default if default in names else (names[0] if names else None)
    st.sidebar.caption(":orange-badge[Demo mode] no sign-in is configured; pick who you are.")
    st.sidebar.selectbox(
        "Signed in as",
        names,
        key="demo_user",
        format_func=dict(users).__getitem__,
        help="Demo mode: configure [auth] in .streamlit/secrets.toml to use single sign-on.",
    )
    if not st.session_state.demo_user:
        st.error("There are no users yet. Run `python -m sms_core seed-demo` to create the demo users.")
        st.stop()
    return load_actor(db, st.session_state.demo_user)


def choose_org_unit(actor: Actor) -> Actor:
    units = units_of(database(), actor)
    if not units:
        st.sidebar.warning("You are not associated with any org. unit.")
        return actor
    ids = [u.id for u in units]
    choice = st.sidebar.selectbox(
        "Current org. unit",
        ids,
        index=ids.index(actor.current_org_unit_id) if actor.current_org_unit_id in ids else 0,
        format_func={u.id: u.name for u in units}.__getitem__,
        key=f"current_unit_{actor.username}",
    )
    if choice != actor.current_org_unit_id:
        actor = set_current_org_unit(database(), actor, choice)
    return actor


def refusal_page(title: str, permission: Permission):
    def refuse() -> None:
        st.title(title)
        st.error(
            f"You do not have permission to {permission.label}. If you need it, contact support.",
            icon=":material/block:",
        )

    return refuse


def build_navigation(actor: Actor):
    """The menu holds the pages the user may use; refused ones answer their URL with a reason.

    "/" is a hidden home page showing the first page the user may use, so that every page —
    the overview included — also has a URL of its own that can be shared.
    """
    sections: dict[str, list] = {}
    refused = []
    for path, title, icon, url, permission, section in PAGES:
        if actor.can(permission):
            sections.setdefault(section, []).append(st.Page(path, title=title, icon=icon, url_path=url))
        else:
            refused.append(st.Page(refusal_page(title, permission), title=title, url_path=url, visibility="hidden"))
    first_path = next((path for path, *_, permission, _ in PAGES if actor.can(permission)), None)
    home = st.Page(_home(first_path), title="SMS messages", url_path="home", default=True, visibility="hidden")
    sections.setdefault(next(iter(sections), "SMS"), []).extend([home, *refused])
    return st.navigation(sections)


def _home(first_path: str | None):
    def home() -> None:
        if first_path is None:
            _no_access()
        else:
            runpy.run_path(str(PROJECT_ROOT / first_path), run_name="__main__")

    return home


def _no_access() -> None:
    st.title("SMS messages")
    st.info(
        "You do not have permission to use any SMS page. If you cannot see the menu item you need, contact support."
    )


try:
    actor = choose_org_unit(resolve_actor())
except SmsError as exc:
    st.error(exc.message, icon=":material/error:")
    st.stop()
st.session_state[ACTOR_KEY] = actor
build_navigation(actor).run()
