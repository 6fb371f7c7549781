"""The SMS text box with a live counter: a small Streamlit components v2 component.

Why a component: ``st.text_area`` reports its value only on blur, but the article wants the
character and SMS counter to change with every keystroke.  The browser counts (the same rule as
``sms_core.domain.segments``, with the GSM alphabet and SMS sizes sent from Python on every render so the
two cannot drift) and reports the text back shortly after typing stops; Python keeps its own copy
in session state, which is what Send uses.

Python changes the text only through ``set_sms_text`` (replace it all, e.g. clear after sending)
and ``insert_sms_text`` (a standard text at the cursor).  Both travel to the browser with a nonce,
so a rerun never overwrites what the person is typing.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import streamlit as st

from pages._shared import runtime
from sms_core.domain.segments import GSM_CHARACTERS
from sms_core.domain.sms_text import MAX_TEXT

_HERE = Path(__file__).parent
_component = st.components.v2.component(
    "sms_text_input",
    html=(_HERE / "sms_text_input.html").read_text(encoding="utf-8"),
    css=(_HERE / "sms_text_input.css").read_text(encoding="utf-8"),
    js=(_HERE / "sms_text_input.js").read_text(encoding="utf-8"),
)
_GSM_ALPHABET = "".join(sorted(GSM_CHARACTERS))
_nonces = itertools.count(1)


def _keys(key: str) -> tuple[str, str, str]:
    """Session-state keys of Python's copy of the text, the reset nonce and the pending insert."""
    return f"{key}__text", f"{key}__reset", f"{key}__insert"


def sms_text(key: str) -> str:
    """The text as Python last received it (what Send uses)."""
    return st.session_state.get(_keys(key)[0], "")


def set_sms_text(key: str, text: str) -> None:
    """Replace the whole text (clear it after sending, load a standard text for editing)."""
    text_key, reset_key, insert_key = _keys(key)
    st.session_state[text_key] = text
    st.session_state[reset_key] = next(_nonces)
    st.session_state[insert_key] = None


def insert_sms_text(key: str, text: str) -> None:
    """Insert ``text`` where the cursor is in the browser (at the end if it never had focus)."""
    st.session_state[_keys(key)[2]] = {"nonce": next(_nonces), "text": text}


def sms_text_input(key: str, *, label: str = "SMS text", placeholder: str = "", disabled: bool = False) -> str:
    """Draw the text box and its counter; return the text as Python last received it."""
    text_key, reset_key, insert_key = _keys(key)
    st.session_state.setdefault(text_key, "")
    st.session_state.setdefault(reset_key, 0)
    st.session_state.setdefault(insert_key, None)
    config = runtime().config
    data = {
        "label": label,
        "placeholder": placeholder,
        "disabled": disabled,
        "value": st.session_state[text_key],
        "reset": st.session_state[reset_key],
        "insert": st.session_state[insert_key],
        "gsm": _GSM_ALPHABET,
        "per_sms": config.chars_per_sms,
        "per_unicode": config.unicode_chars_per_sms,
        "max_characters": MAX_TEXT,
    }
    _component(key=key, data=data, on_draft_change=lambda: _received(key))
    return st.session_state[text_key]


def _received(key: str) -> None:
    """The browser sent the text (and which insert it has applied): update Python's copy."""
    draft = (st.session_state.get(key) or {}).get("draft") or {}
    text_key, _, insert_key = _keys(key)
    if isinstance(draft.get("text"), str):
        st.session_state[text_key] = draft["text"]
    pending = st.session_state.get(insert_key)
    if pending and draft.get("inserted") == pending["nonce"]:
        st.session_state[insert_key] = None
