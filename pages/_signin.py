"""The door of the app: who is signed in, or why no one is — decided on every full run.

There are two ways in, and neither is ever a fallback for the other:
- **Demo mode**, only when ``SMS_DEMO_MODE=true`` asks for it (``make run`` does): a sidebar picks
  the user, a banner on every page says so, and the choice is kept in a cookie of this browser, so
  a reload or a shared link (which must not carry it) keeps the user picked here.
- **OpenID Connect sign-in** through ``st.login``, when ``.streamlit/secrets.toml`` holds a
  complete ``[auth]`` section; the provider's verified e-mail names the user.

Anything else — no ``[auth]``, an incomplete one, a secrets file that cannot be read — shows what
to configure and nothing more: no menu, no data, no user picker.  What went wrong is one line in
the log and on the page, never a traceback or a secret.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import NoReturn
from urllib.parse import unquote

import streamlit as st
from streamlit.auth_util import is_authlib_installed
from streamlit.errors import StreamlitSecretNotFoundError

from pages._shared import database, plain
from sms_core.config import get_config
from sms_core.domain.errors import SignInRefused
from sms_core.domain.permissions import Actor
from sms_core.use_cases.accounts import list_usernames
from sms_core.use_cases.sign_in import demo_sign_in, sign_in

log = logging.getLogger(__name__)

AUTH_KEYS = ("redirect_uri", "cookie_secret", "client_id", "client_secret", "server_metadata_url")
DEMO_USER_KEY = "demo_user"
DEMO_COOKIE = "sms_demo_user"
DEMO_COOKIE_DAYS = 30
DEMO_BANNER = (
    '<div style="background:#fff3cd;color:#664d03;border:1px solid #ffe69c;border-radius:.5rem;'
    'padding:.4rem .8rem;font-size:.9rem" data-testid="sms-demo-banner">'
    "<b>Demo mode</b>: nobody signs in here &mdash; the sidebar picks who you are. "
    "Not for real data: configure sign-in instead (see the README).</div>"
)
_logged: set[str] = set()


@dataclass(frozen=True)
class Door:
    """How people get in on this run: ``kind`` is "demo", "sign-in" or "closed" (with the reason)."""

    kind: str
    reason: str = ""


def door() -> Door:
    if get_config().demo_mode:
        return Door("demo")
    try:
        section = st.secrets.get("auth")
    except StreamlitSecretNotFoundError as exc:
        if getattr(exc, "error_id", None) == "no-secrets-found":
            return Door("closed")
        why = exc.__cause__ or getattr(exc, "error_id", "unreadable")  # the TOML error's place, not the path
        return _closed(f"Sign-in is off: .streamlit/secrets.toml cannot be read ({why}).")
    except Exception as exc:  # unreadable file, bad encoding: closed, and said once
        return _closed(f"Sign-in is off: .streamlit/secrets.toml cannot be read ({type(exc).__name__}).")
    if section is None:
        return Door("closed")
    if not hasattr(section, "get"):
        return _closed("Sign-in is off: auth in .streamlit/secrets.toml must be a section, [auth].")
    missing = [key for key in AUTH_KEYS if not str(section.get(key) or "").strip()]
    if missing:
        return _closed(f"Sign-in is off: the [auth] section of .streamlit/secrets.toml lacks {', '.join(missing)}.")
    if not is_authlib_installed():
        return _closed("Sign-in is off: Authlib is not installed (pip install -r requirements.txt).")
    return Door("sign-in")


def _closed(reason: str) -> Door:
    if reason not in _logged:  # once per process, not on every run of every session
        _logged.add(reason)
        log.error(reason)
    return Door("closed", reason)


def signed_in_user(entry: Door, url_paths: Sequence[str]) -> Actor:
    """The user of this run, or a page that says why there is none, in place of every page of
    the app (``url_paths``: a link to any of them shows it too), without the menu."""
    if entry.kind == "demo":
        st.html(DEMO_BANNER)
        return _refused_unless(lambda: demo_sign_in(database(), _demo_pick()), url_paths, sign_out=False)
    if entry.kind == "sign-in":
        if not st.user.is_logged_in:
            only(_sign_in_page, url_paths)
        actor = _refused_unless(lambda: sign_in(database(), st.user.to_dict()), url_paths, sign_out=True)
        st.sidebar.caption(f"Signed in as {plain(actor.display_name)}")
        st.sidebar.button("Sign out", on_click=st.logout, icon=":material/logout:", key="sign_out")
        return actor
    only(lambda: _closed_page(entry.reason), url_paths)


def only(draw: Callable[[], None], url_paths: Sequence[str]) -> NoReturn:
    """Draw ``draw`` as the app's one page, whichever page the URL names, and end the run: the
    menu of a user signed in before (or of another run) does not stay on the screen."""
    pages = [st.Page(draw, title="SMS messages", url_path="door", default=True)]
    pages += [st.Page(draw, title="SMS messages", url_path=path) for path in url_paths]
    st.navigation(pages, position="hidden").run()
    st.stop()


def _refused_unless(resolve: Callable[[], Actor], url_paths: Sequence[str], *, sign_out: bool) -> Actor:
    try:
        return resolve()
    except SignInRefused as exc:
        sentence = exc.message
    only(lambda: _refusal_page(sentence, sign_out), url_paths)


def _refusal_page(sentence: str, sign_out: bool) -> None:
    st.title("SMS messages")
    st.error(plain(sentence), icon=":material/block:")
    if sign_out:
        st.button("Sign out", on_click=st.logout, icon=":material/logout:", key="sign_out")


def _sign_in_page() -> None:
    st.title("SMS messages")
    st.write("Sign in with your organisation's account to see and send SMS.")
    st.button("Sign in", on_click=st.login, type="primary", icon=":material/login:", key="sign_in")


def _closed_page(reason: str) -> None:
    st.title("SMS messages")
    if reason:
        st.error(reason, icon=":material/error:")
    st.info(
        "No one can sign in yet. Configure single sign-on: an [auth] section in .streamlit/secrets.toml "
        f"with {', '.join(AUTH_KEYS)} (the README shows how). For a demonstration with sample users "
        "instead, start the app with SMS_DEMO_MODE=true.",
        icon=":material/key:",
    )


def _demo_pick() -> str:
    """The sidebar's user picker; a new session starts as this browser's last pick (its cookie).
    A pick deactivated since stays picked (and refused), never silently someone else."""
    users = dict(list_usernames(database()))
    if not users:
        raise SignInRefused("There are no users yet. Run `python -m sms_core seed-demo` to create the demo users.")
    picked = st.session_state.get(DEMO_USER_KEY)
    if picked is None:
        remembered = unquote(st.context.cookies.get(DEMO_COOKIE) or "")
        default = get_config().demo_user
        st.session_state[DEMO_USER_KEY] = next(n for n in (remembered, default, *users) if n in users)
    elif picked not in users:
        users[picked] = f"{picked} (no longer active)"
    names = list(users)
    st.sidebar.caption(":orange-badge[Demo mode] no sign-in is configured; pick who you are.")
    chosen = st.sidebar.selectbox(
        "Signed in as",
        names,
        key=DEMO_USER_KEY,
        format_func=users.__getitem__,
        help="Demo mode (SMS_DEMO_MODE=true): without it, people sign in through [auth] in .streamlit/secrets.toml.",
    )
    with st.sidebar:
        _remember_in_browser(chosen)
    return chosen


def _remember_in_browser(username: str) -> None:
    """Keep the pick in a cookie of this browser: a reload starts as them again, and a shared link
    does not carry the choice to someone else (a query parameter would)."""
    value = json.dumps(username).replace("<", "\\u003c")
    st.html(
        "<script>document.cookie = "
        f"'{DEMO_COOKIE}=' + encodeURIComponent({value}) + "
        f"'; path=/; max-age={DEMO_COOKIE_DAYS * 86400}; SameSite=Strict';</script>",
        unsafe_allow_javascript=True,
        width="content",
    )
