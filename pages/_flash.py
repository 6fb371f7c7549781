"""A message shown on the next run: the confirmation or refusal of something a click did.

A button's callback runs before the page is drawn, and a toast drawn just before ``st.rerun``
is lost with that run, so the sentence waits in session state until the part of the page it
belongs to (its ``place``) is drawn again, and is shown there once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import streamlit as st

FLASH_KEY = "flash"
PAGE = "page"  # the top of whichever page is drawn next
Kind = Literal["toast", "success", "error"]


@dataclass(frozen=True)
class Flash:
    kind: Kind
    text: str  # Markdown, as Streamlit reads it: escape stored text with pages._shared.plain
    icon: str | None
    place: str


def flash(kind: Kind, text: str, *, icon: str | None = None, place: str = PAGE) -> None:
    """Show ``text`` where ``show_flash(place)`` is next called (touches nothing but session state,
    so it is safe between a service call and the rerun that follows it)."""
    st.session_state[FLASH_KEY] = [*st.session_state.get(FLASH_KEY, []), Flash(kind, text, icon, place)]


def show_flash(place: str = PAGE) -> None:
    """Draw, here and once, the messages waiting for ``place``."""
    waiting: list[Flash] = st.session_state.get(FLASH_KEY, [])
    if not any(f.place == place for f in waiting):
        return
    st.session_state[FLASH_KEY] = [f for f in waiting if f.place != place]
    for message in waiting:
        if message.place == place:
            draw = {"toast": st.toast, "success": st.success, "error": st.error}[message.kind]
            draw(message.text, icon=message.icon)
