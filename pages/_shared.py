"""What every page needs from the shell: the runtime (database, gateway, change watcher), the
signed-in user, and error display."""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

from sms_core.app_server import app_runtime
from sms_core.bootstrap import Runtime
from sms_core.config import get_config
from sms_core.domain.errors import DatabaseUnavailable, SignInRefused, SmsError
from sms_core.domain.permissions import Actor
from sms_core.storage.database import Database
from sms_core.use_cases.sign_in import signed_in_actor

ACTOR_KEY = "actor"  # who app.py signed in, as of its last full run; pages read them again


def runtime() -> Runtime:
    """The process's one runtime (``st.cache_resource``): the server's, or built on first use."""
    return app_runtime(get_config(), None, st.get_option("server.port"))


def database() -> Database:
    return runtime().db


def current_actor() -> Actor:
    """The signed-in user as the database has them now (one query by id), for every action path:
    a page, a fragment's own rerun (which does not run app.py), a dialog, a button's callback.

    A user who was deactivated or lost their last org. unit in the meantime gets the whole app
    run again, where app.py shows the refusal page in place of everything else; where no rerun is
    possible (a download made outside any run), the refusal is raised.  While the database cannot
    be reached the user is taken as last read: nothing can be done without the database anyway,
    and the page then says so at the field, with everything typed kept."""
    signed_in = st.session_state.get(ACTOR_KEY)
    if signed_in is None:
        raise SignInRefused("You are not signed in.")
    try:
        return signed_in_actor(database(), signed_in.id)
    except DatabaseUnavailable:
        return signed_in
    except SignInRefused:
        if get_script_run_ctx() is not None:
            st.rerun()
        raise


_MARKDOWN_SPECIALS = str.maketrans({c: f"\\{c}" for c in "\\`*_{}[]()<>#!|~$&"})  # act anywhere in a line
_LINE_START = re.compile(r"^([ \t]*)([-+=]|\d+\.)", re.MULTILINE)  # act only where a line starts (lists, rules)


# What Streamlit turns into an icon, an emoji or a link even when its characters are escaped: it finds
# them in the text after Markdown is read (":material/home:", ":smile:", "https://…", "www.…",
# "a@b.no").  An invisible word joiner (U+2060) at the point shown breaks each pattern.
WORD_JOINER = "\u2060"
_AUTO_MARKUP = re.compile(r"(?<=:)(?=[^\s:]+:)|(?<=[A-Za-z])(?=://)|(?<=\bwww)(?=\.)|(?<=@)(?=[\w-])", re.IGNORECASE)


def plain(text: str) -> str:
    """Text that was typed or stored — a message, a name, a link's value — shown as written where
    Streamlit reads Markdown (markdown, captions, headings, alerts, toasts, labels, tooltips), so it
    can neither format, link nor become an icon: Markdown and HTML characters escaped, shortcodes
    and bare links broken by an invisible word joiner, line breaks kept."""
    text = _AUTO_MARKUP.sub(WORD_JOINER, text)
    lines = text.replace("\r\n", "\n").replace("\r", "\n").translate(_MARKDOWN_SPECIALS)
    return _LINE_START.sub(_escape_line_start, lines).replace("\n", "  \n")


def _escape_line_start(found: re.Match) -> str:
    indent, marker = found.groups()
    return f"{indent}{marker[:-1]}\\." if marker.endswith(".") else f"{indent}\\{marker}"


def show_refusal(exc: SmsError) -> None:
    """A refusal is shown as its sentence, never as a traceback."""
    st.error(exc.message, icon=":material/block:")


def browser_zone() -> str:
    """The browser's time zone, in which times are shown and dates are read; UTC if unknown."""
    name = st.context.timezone or "UTC"
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return "UTC"
    return name


def local_time(at: datetime | None) -> str:
    """A stored UTC time in the browser's time zone."""
    if at is None:
        return ""
    return at.astimezone(ZoneInfo(browser_zone())).strftime("%Y-%m-%d %H:%M")
