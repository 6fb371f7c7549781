"""What every page needs from the shell: the runtime (database, gateway, change watcher), the
signed-in user, and error display."""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import streamlit as st

from sms_core.app_server import app_runtime
from sms_core.bootstrap import Runtime
from sms_core.config import get_config
from sms_core.domain.errors import SmsError
from sms_core.domain.permissions import Actor
from sms_core.storage.database import Database

ACTOR_KEY = "actor"


def runtime() -> Runtime:
    """The process's one runtime (``st.cache_resource``): the server's, or built on first use."""
    return app_runtime(get_config(), None, st.get_option("server.port"))


def database() -> Database:
    return runtime().db


def current_actor() -> Actor:
    """The user app.py resolved for this run; pages are only reached through app.py."""
    actor = st.session_state.get(ACTOR_KEY)
    if actor is None:
        st.error("You are not signed in.")
        st.stop()
    return actor


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
