"""SMS messages — the Streamlit entry point: resolve the user (``pages._signin``: demo mode only
when asked for, else OpenID Connect sign-in, else nothing but what to configure), build the menu
from what they may use, and run the chosen page.  Pages the user may not use are not in the menu;
opening one by its URL shows a refusal instead of the page.
"""

from __future__ import annotations

import runpy
from typing import NamedTuple

import streamlit as st

from pages._shared import ACTOR_KEY, database
from pages._signin import door, signed_in_user
from sms_core.config import PROJECT_ROOT
from sms_core.domain.errors import SmsError
from sms_core.domain.permissions import Actor, Permission
from sms_core.use_cases.accounts import set_current_org_unit, units_of


class MenuPage(NamedTuple):
    file: str
    title: str
    icon: str
    url_path: str
    permission: Permission
    section: str


PAGES = [
    MenuPage(
        "pages/overview.py",
        "SMS messages",
        ":material/sms:",
        "sms-messages",
        Permission.VIEW_SMS,
        "Calendar / communication",
    ),
    MenuPage(
        "pages/replies.py",
        "Replies",
        ":material/reply:",
        "sms-replies",
        Permission.VIEW_SMS,
        "Calendar / communication",
    ),
    MenuPage(
        "pages/contacts.py",
        "Contacts",
        ":material/contacts:",
        "sms-contacts",
        Permission.VIEW_SMS,
        "Calendar / communication",
    ),
    MenuPage(
        "pages/standard_texts.py",
        "Standard texts",
        ":material/text_snippet:",
        "sms-standard-texts",
        Permission.MANAGE_STANDARD_TEXTS,
        "Calendar / communication",
    ),
    MenuPage(
        "pages/delivery_rates.py",
        "Delivery rates",
        ":material/monitoring:",
        "sms-delivery-rates",
        Permission.VIEW_DELIVERY_REPORTS,
        "Reports",
    ),
    MenuPage(
        "pages/alerts.py",
        "Alerts",
        ":material/notifications_active:",
        "sms-alerts",
        Permission.VIEW_DELIVERY_REPORTS,
        "Reports",
    ),
    MenuPage(
        "pages/settings.py",
        "SMS settings",
        ":material/settings:",
        "sms-settings",
        Permission.MANAGE_SETTINGS,
        "Administration",
    ),
    MenuPage(
        "pages/administration.py",
        "Administration",
        ":material/admin_panel_settings:",
        "sms-administration",
        Permission.MANAGE_USERS,
        "Administration",
    ),
    MenuPage(
        "pages/api_reference.py",
        "HTTP API",
        ":material/api:",
        "sms-http-api",
        Permission.MANAGE_SETTINGS,
        "Administration",
    ),
]


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


def menu(actor: Actor) -> list[MenuPage]:
    """The pages in this user's menu, in menu order: those they may use."""
    return [page for page in PAGES if actor.can(page.permission)]


def build_navigation(actor: Actor):
    """The menu holds the pages the user may use; the others are hidden, and run_page answers
    their URL with a reason instead of the page.

    Every page is registered with its file, so each has its URL, and a test opens any page by
    its file as a link would.  "/" is a hidden home page showing the first page the user may use,
    so that every page — the overview included — also has a URL of its own that can be shared.
    """
    usable = menu(actor)
    sections: dict[str, list] = {}
    hidden = []
    for page in PAGES:
        visibility = "visible" if page in usable else "hidden"
        entry = st.Page(page.file, title=page.title, icon=page.icon, url_path=page.url_path, visibility=visibility)
        (sections.setdefault(page.section, []) if page in usable else hidden).append(entry)
    first_path = usable[0].file if usable else None
    home = st.Page(_home(first_path), title="SMS messages", url_path="home", default=True, visibility="hidden")
    sections.setdefault(next(iter(sections), "SMS"), []).extend([home, *hidden])
    return st.navigation(sections)


def run_page(chosen, actor: Actor) -> None:
    """Run the page the URL asks for, or say why this user may not use it (its file never runs)."""
    refused = next((p for p in PAGES if p.url_path == chosen.url_path and p not in menu(actor)), None)
    if refused is None:
        chosen.run()
    else:
        refusal_page(refused.title, refused.permission)()


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


def main() -> None:
    st.set_page_config(page_title="SMS messages", page_icon=":material/sms:", layout="wide")
    try:
        actor = choose_org_unit(signed_in_user(door(), [page.url_path for page in PAGES]))
    except SmsError as exc:
        st.error(exc.message, icon=":material/error:")
        st.stop()
    st.session_state[ACTOR_KEY] = actor  # whom current_actor() reads again, by id, on every run
    run_page(build_navigation(actor), actor)


if __name__ == "__main__":  # as Streamlit runs it; tests import the menu without running the app
    main()
