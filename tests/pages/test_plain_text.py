"""``plain()``: stored text shown where Streamlit reads Markdown can neither format, link nor
become an icon.  Escaping is not enough for icons, emoji and bare links — Streamlit finds them in
the text after Markdown is read (checked in Chromium) — so an invisible word joiner breaks them."""

import pytest

from pages._shared import WORD_JOINER as J
from pages._shared import plain

CASES = [
    (":material/home:", f":{J}material/home:"),
    (":smile: and :+1:", f":{J}smile: and :{J}+1:"),
    (":streamlit:", f":{J}streamlit:"),
    ("https://evil.example/x", f"https{J}://evil.example/x"),
    ("see http://evil.example", f"see http{J}://evil.example"),
    ("www.evil.example", f"www{J}.evil.example"),
    ("WWW.Evil.example", f"WWW{J}.Evil.example"),
    ("kari@evil.example", f"kari@{J}evil.example"),
    ("mailto:kari@evil.example", f"mailto:kari@{J}evil.example"),
    # what is not markup stays exactly as it was
    ("At 10:30, ring 22 33 44 55", "At 10:30, ring 22 33 44 55"),
    ("Note: bring ID", "Note: bring ID"),
    ("awww.", "awww."),
    ("@ the office", "@ the office"),
    # Markdown and HTML are escaped as before
    ("**bold** [x](y)", r"\*\*bold\*\* \[x\]\(y\)"),
    ("- item\n+ other", "\\- item  \n\\+ other"),
]


@pytest.mark.parametrize(("stored", "shown"), CASES)
def test_plain_breaks_what_streamlit_would_draw(stored, shown):
    assert plain(stored) == shown
    assert plain(stored).replace(J, "").replace("\\", "").replace("  \n", "\n") == stored.replace("\\", "")
