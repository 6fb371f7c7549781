"""Bad input and access control on every page, with AppTest through app.py (the real menu and
permissions), the way an outsider reaches a page: a link with any query parameters, text that
someone stored, and a user asking by URL for another org. unit's messages.

The services are proven on their own (test_bad_input.py, test_access_control.py).  What only the
pages decide is proven here: how they read the URL, which element draws a string (one that reads
Markdown, or one that shows plain text), and what a refused user is shown.  Every test records
the figures it checked for RELIABILITY.md.
"""

from __future__ import annotations

import re
from collections import Counter
from datetime import UTC, date, datetime, timedelta

import pytest
from export_download import exported_rows
from hypothesis import HealthCheck, Phase, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from streamlit.testing.v1 import AppTest
from streamlit.testing.v1.element_tree import Dataframe
from support import app_on
from test_app_shell import APP, FILES, menu

import app
from pages._overview_state import STATE_KEY, OverviewState
from pages._shared import WORD_JOINER, database
from sms_core.domain.permissions import Permission
from sms_core.domain.statuses import STATUS_LABELS
from sms_core.domain.statuses import SmsStatus as S
from sms_core.read_models.overview import Sort
from sms_core.storage.models import Contact, ContactPhone, OrgUnit, RolePermission, SmsMessage, StandardText, User
from sms_core.use_cases.accounts import load_actor, unit_id_by_code, units_of
from sms_core.use_cases.consent import register_consent
from sms_core.use_cases.settings import SENDING_ENABLED, change_setting

AREA = "Bad input and access (pages)"
PAGES = {  # url path: (title, permission), as in app.py
    "sms-messages": ("SMS messages", Permission.VIEW_SMS),
    "sms-contacts": ("Contacts", Permission.VIEW_SMS),
    "sms-standard-texts": ("Standard texts", Permission.MANAGE_STANDARD_TEXTS),
    "sms-delivery-rates": ("Delivery rates", Permission.VIEW_DELIVERY_REPORTS),
    "sms-settings": ("SMS settings", Permission.MANAGE_SETTINGS),
    "sms-administration": ("Administration", Permission.MANAGE_USERS),
}
USERS = ("admin", "lead", "staff", "kari")


def open_app(username: str, url_path: str = "sms-messages", params=None, state=None) -> AppTest:
    """The page at ``url_path`` as ``username`` opens a link to it: ``params`` are the link's
    query parameters, ``state`` what the session already holds."""
    at = AppTest.from_file(APP, default_timeout=30)
    at.session_state["demo_user"] = username
    for key, value in (state or {}).items():
        at.session_state[key] = value
    usable = app.menu(load_actor(database(), username))
    if url_path != "home" and (not usable or usable[0].url_path != url_path):
        rerun(at)  # "/" first: AppTest opens another page by its file once it knows the registered pages
        at.switch_page(FILES[url_path])
    for name, value in (params or {}).items():  # "/" shows the first page of the menu: the link opens it
        at.query_params[name] = value
    return rerun(at)


def rerun(at: AppTest) -> AppTest:
    at.run()
    assert not at.exception, at.exception
    return at


def click(at: AppTest, label: str) -> AppTest:
    next(b for b in at.button if b.label == label).click()
    return rerun(at)


# ---- what a page shows ---------------------------------------------------------------------

# Where Streamlit shows a string as plain text; every other string it reads as Markdown (body,
# label, help, caption, toast, …).  (proto type, top-level field); "*" for every field.
PLAIN_TEXT = {
    ("Selectbox", "options"),
    ("MultiSelect", "options"),
    ("TextInput", "default"),
    ("TextInput", "value"),
    ("BidiComponent", "*"),
    ("VegaLiteChart", "*"),
    ("Dataframe", "*"),
}
# Strings the browser is sent but never shows: the address a page link opens (its query string
# carries filters, a gateway's error among them, URL-encoded).
NOT_SHOWN = {("PageLink", "query_string")}


def _strings(message, path=()):
    for field, value in message.ListFields():
        values = value if hasattr(value, "__len__") and not isinstance(value, (str, bytes)) else [value]
        for item in values:
            if isinstance(item, str):
                yield path + (field.name,), item
            elif hasattr(item, "ListFields"):
                yield from _strings(item, path + (field.name,))


def shown_strings(at: AppTest):
    """(element, proto type, field, text, reads Markdown, HTML allowed) of every string the run
    sent to the browser, table cells included."""
    for node in at:
        proto = getattr(node, "proto", None)
        if proto is None:
            continue
        kind = type(proto).__name__
        for path, text in _strings(proto):
            if (kind, path[0]) in NOT_SHOWN:
                continue
            literal = (kind, path[0]) in PLAIN_TEXT or (kind, "*") in PLAIN_TEXT
            yield type(node).__name__, kind, ".".join(path), text, not literal, getattr(proto, "allow_html", False)
        if isinstance(node, Dataframe):
            for cell in node.value.astype(str).to_numpy().ravel():
                yield "Dataframe", "Arrow", "cell", cell, False, False


# Characters that format, link, embed or mark up wherever they stand in Markdown (HTML included):
# shown as written only when backslash-escaped; so is the & of an entity (&lt;).  Other ASCII
# punctuation may be escaped or not.
ACTIVE = set("\\`*_[]<>$~|")
ENTITY = re.compile(r"&(#[0-9]+|#[xX][0-9a-fA-F]+|[A-Za-z][A-Za-z0-9]*);")


def as_written(text: str) -> str:
    """A regular expression for Markdown that shows ``text`` exactly as written."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    entities = {found.start() for found in ENTITY.finditer(text)}
    parts = [r"(?<!\\)"]  # not itself escaped by a backslash before it
    for i, ch in enumerate(text):
        if ch in ACTIVE or i in entities:
            parts.append(re.escape("\\" + ch))
        elif ch == "\n":
            parts.append(r"(?:  |\\)?\n")
        elif ch.isascii() and not ch.isalnum() and ch.isprintable() and not ch.isspace():
            parts.append(r"\\?" + re.escape(ch))
        else:
            parts.append(re.escape(ch))
    return (WORD_JOINER + "?").join(parts)  # an invisible word joiner may break a shortcode or a link


def shown_as_written(markdown: str, text: str) -> bool:
    return re.search(as_written(text), markdown) is not None


# ---- 1. links with any query parameters ------------------------------------------------------

READ = ("text", "phone", "from", "to", "status", "unit", "resent", "sort", "contact", "page")  # the overview's
UNREAD = ("message", "id", "period", "units", "q", "dr_period", "contacts_query", "embed")  # nobody's
NASTY_VALUES = [
    "",
    " ",
    "\t\n",
    "-1",
    "0",
    "-0",
    "+1",
    "1.0",
    "1e9",
    "0x1F",
    "²",
    "١",
    "٣٧",
    "𝟙",
    str(2**63 - 1),
    str(2**63),
    str(10**40),
    "-99999999999999999999",
    "\x00",
    "a\x00b",
    "\x01\x07\x1b[31m\x7f",
    "\u202eevil\u202c",
    "\u200f\u200e\u200b",
    "\ufeff",
    "😊" * 40,
    "x" * 5000,
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "**bold** _it_ `code` ~~gone~~",
    "[link](https://evil.example)",
    "![pixel](https://evil.example/p.png)",
    "$x^2$",
    ":red[red] :material/home: :smile:",
    "# heading",
    "- item\n- item",
    "1. item",
    "> quote",
    "|a|b|\n|-|-|",
    "&lt;b&gt; &amp; &#60;",
    "\\*",
    "line\r\nbreak",
    "'; DROP TABLE sms_messages; --",
    "' OR '1'='1",
    "%",
    "_",
    "%_\\",
    "all",
    "ALL",
    " all ",
    "yes",
    " No ",
    "maybe",
    "sent_on_desc",
    "STATUS_ASC",
    "sideways",
    "Received",
    "received",
    "Sending failed",
    "2026-02-30",
    "2026-13-01",
    "0001-01-01",
    "9999-12-31",
    "20260101",
    "2026-W01-1",
    "2026-01-01T00:00",
    "2026-1-1",
    "None",
    "null",
    "NaN",
    "inf",
    "[]",
    "{}",
    "true",
]
VALUES = st.one_of(
    st.sampled_from(NASTY_VALUES),
    st.sampled_from(NASTY_VALUES),  # twice as likely as each of the others
    st.text(max_size=30),  # any Unicode, control characters included
    st.integers().map(str),
    st.integers(-3, 260).map(str),  # among them real unit, contact and message ids
    st.dates().map(date.isoformat),
    st.sampled_from([*STATUS_LABELS, *(s.value for s in Sort)]),
)
LINKS = st.fixed_dictionaries({name: st.lists(VALUES, max_size=3) for name in READ + UNREAD})
# Links that once broke a page, tried on every run before the generated ones.
BROKE = [
    (
        "sms-messages",
        {
            "contact": [str(10**40)],
            "text": ["a\x00b"],
            "unit": ["١", "<img src=x onerror=alert(1)>"],
            "sort": ["[click](https://evil.example)"],
            "from": ["&lt;b&gt;"],
            "status": ["**Received**"],
        },
    ),
    ("sms-messages", {"contact": ["²"], "unit": ["²"]}),
    ("sms-contacts", {"contact": [str(2**63)]}),
]


@pytest.fixture
def app_db(database_url, monkeypatch):
    """The app on a fresh demo database of each backend: a link's values reach SQL, and
    PostgreSQL, the production database, refuses some that SQLite takes."""
    yield from app_on(database_url, monkeypatch)


def check_overview_link(at: AppTest, db, username: str, link: dict[str, list[str]], tried: Counter) -> None:
    """What the overview promises about its link: values it can use are used, every other value
    is quoted as written in a warning, and nothing outside the user's units is shown."""
    actor = load_actor(db, username)
    warning = " ".join(w.value for w in at.warning)

    def warned(value: str) -> None:
        assert shown_as_written(warning, f"“{value}”"), f"{value!r} is not quoted as written in {warning!r}"
        tried["values_warned_about"] += 1

    assert at.title[0].value == "SMS messages"
    assert at.dataframe or at.error, "neither the table nor a reason why not"
    if at.dataframe:
        assert set(at.dataframe[0].value["Org. unit"]) <= {u.name for u in units_of(db, actor)}
    unit = at.selectbox(key="ov_unit").value
    assert unit == "all" or {int(u) for u in unit.split(",")} <= actor.org_unit_ids
    if link.get("unit") and "all" not in link["unit"]:
        for value in link["unit"]:
            if not (value.isdecimal() and int(value) in actor.org_unit_ids):
                warned(value)
    statuses = link.get("status", [])
    assert set(at.multiselect(key="status").value) == {s for s in statuses if s in STATUS_LABELS}
    for value in statuses:
        if value not in STATUS_LABELS:
            warned(value)
    for name, key, choices in (
        ("resent", "ov_resent", {"yes": "yes", "no": "no"}),
        ("sort", "ov_sort", {s.value: s for s in Sort}),
    ):
        if link.get(name):
            value = link[name][-1]
            if value.strip().lower() in choices:
                assert at.selectbox(key=key).value == choices[value.strip().lower()]
            else:
                warned(value)
    for name in ("from", "to"):
        if link.get(name):
            value = link[name][-1]
            try:
                day = date.fromisoformat(value)
            except ValueError:
                warned(value)
            else:
                assert at.date_input(key=name).value in (day, None)  # used, or outside the widget's range
    if link.get("page"):
        value = link["page"][-1]
        if not (value.strip().isdecimal() and int(value.strip()) >= 1):
            warned(value)
        elif at.dataframe:  # that page, or the last there is
            pagers = at.get("pagination")
            last = pagers[0].num_pages if pagers else 1
            assert int(at.query_params.get("page", "1")) == min(int(value.strip()), last)
    if link.get("contact"):
        value = link["contact"][-1].strip()
        storable = value.isdecimal() and 0 < int(value) < 2**63
        with db.session() as s:
            name = s.scalar(select(Contact.name).where(Contact.id == int(value))) if storable else None
        if name is not None:
            assert any(shown_as_written(h.value, name) for h in at.subheader)
            assert not at.button(key="ov_send").disabled
        else:
            assert at.button(key="ov_send").disabled
            if value and (not value.isdecimal() or int(value) < 1):
                warned(value)
            elif value:
                assert "That contact does not exist." in warning


def test_no_link_breaks_a_page(app_db, reliability):
    """Any query parameters, on any page, as any user: never a traceback; the overview uses what
    it can and says, quoting each value as written, what it ignored."""
    tried: Counter = Counter()

    @given(
        url_path=st.sampled_from(["sms-messages"] * 4 + list(PAGES)),
        username=st.sampled_from(USERS),
        link=LINKS,
        search=VALUES,
    )
    @settings(
        max_examples=100,
        deadline=None,
        phases=[Phase.explicit, Phase.reuse, Phase.generate],
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    # Not shrunk: a run takes a tenth of a second, so shrinking would take minutes, and each
    # assertion already names the value it is about.
    @example(url_path=BROKE[0][0], username="staff", link=BROKE[0][1], search="")
    @example(url_path=BROKE[1][0], username="kari", link=BROKE[1][1], search="")
    @example(url_path=BROKE[2][0], username="staff", link=BROKE[2][1], search="Anne\x00")
    def one_link(url_path, username, link, search):
        link = {name: values for name, values in link.items() if values}
        state = {"contacts_query": search} if url_path == "sms-contacts" else None  # typed in its search box
        at = open_app(username, url_path, link, state)  # asserts there is no traceback
        title, permission = PAGES[url_path]
        assert at.title[0].value == title
        if not load_actor(app_db, username).can(permission):
            assert f"do not have permission to {permission.label}" in at.error[0].value
        elif url_path == "sms-messages":
            check_overview_link(at, app_db, username, link, tried)
        tried["links"] += 1
        tried["values"] += sum(len(values) for values in link.values()) + (state is not None)

    one_link()
    assert tried["links"] >= 100 and tried["values_warned_about"] > 0
    reliability.record(
        AREA,
        cases=tried["links"],
        link_values=tried["values"],
        values_warned_about=tried["values_warned_about"],
        backend=app_db.engine.dialect.name,
    )


# ---- 2. stored text is shown as text ---------------------------------------------------------

# Markup, and what Streamlit makes an icon, an emoji or a link of even when escaped.
NASTY = (
    "<script>alert(1)</script> **bold** <img src=x onerror=alert(1)>"
    " :material/home: :smile: https://evil.example www.evil.example a@evil.example"
)
AUTO_MARKUP = re.compile(r":[\w/+-]+:|[a-z]://|\bwww\.|@\w", re.IGNORECASE)  # unbroken, in Markdown
MARK = "onerror"  # in every stored text below, and in nothing the pages say themselves
STORED = {
    "message text": "Text " + NASTY,
    "gateway error": "Error " + NASTY,
    "contact name": "Name " + NASTY,
    "contact e-mail": "Mail " + NASTY,
    "phone label": "<img onerror=x> **Mob** :smile: www.x.no",  # labels hold at most 40 characters
    "consent source": "Source " + NASTY,
    "standard text title": "Title " + NASTY,
    "standard text body": "Body " + NASTY,
    "org. unit name": "Oslo " + NASTY,
    "user name": "Ada " + NASTY,
}
NUMBER = "+4791234567"


@pytest.fixture
def nasty_contact(app_env) -> int:
    """Everything a page draws from the database, stored with markup in it: a message (text and
    gateway error) of a contact (name, e-mail, phone label, consent source), the org. unit's name
    and the administrator's name — who also changed a setting.  The standard text is typed in."""
    osl = unit_id_by_code(app_env, "OSL")
    with app_env.session() as s:
        s.get(OrgUnit, osl).name = STORED["org. unit name"]
        s.scalar(select(User).where(User.username == "admin")).display_name = STORED["user name"]
        contact = Contact(name=STORED["contact name"], email=STORED["contact e-mail"])
        contact.phones.append(ContactPhone(number=NUMBER, label=STORED["phone label"]))
        s.add(contact)
        s.flush()
        s.add(
            SmsMessage(
                text=STORED["message text"],
                phone=NUMBER,
                contact_id=contact.id,
                org_unit_id=osl,
                status=S.SENDING_FAILED,
                gateway_error=STORED["gateway error"],
                sent_on=datetime.now(UTC) - timedelta(minutes=1),
            )
        )
        contact_id, phone_id = contact.id, contact.phones[0].id
    admin = load_actor(app_env, "admin")
    register_consent(app_env, admin, phone_id, STORED["consent source"])
    change_setting(app_env, admin, SENDING_ENABLED, True)
    return contact_id


def record_shown(at: AppTest, where: str, seen: set, counts: Counter) -> None:
    """Every string of this run that holds stored text must show it as written: unchanged where
    Streamlit shows plain text; escaped, and never with HTML allowed, where it reads Markdown."""
    for element, _kind, field, text, markdown, allow_html in shown_strings(at):
        if MARK not in text:
            continue
        rest = text
        for name, value in STORED.items():
            for shown in re.finditer(as_written(value), text) if markdown else ():
                assert not AUTO_MARKUP.search(shown[0]), f"{element}.{field} shows an icon or a link: {text!r}"
            rest, found = re.subn(as_written(value), "", rest) if markdown else (rest.replace(value, ""), value in rest)
            if found:
                seen.add((name, where, element))
                counts["strings"] += 1
        assert not (markdown and allow_html), f"{element}.{field} lets HTML through: {text!r}"
        assert MARK not in rest, (
            f"{element}.{field} ({'Markdown' if markdown else 'text'}) changes stored text: {text!r}"
        )


def test_stored_text_is_shown_as_written_on_every_page(nasty_contact, reliability):
    """Markup in stored text (a message, a gateway's error, names, a consent's source, a standard
    text) neither formats, links, loads an image nor runs: everywhere a page draws it, it reads
    as typed — in tables, details, headings, captions, buttons, links, dialogs and toasts."""
    seen: set = set()
    counts: Counter = Counter()
    contact = str(nasty_contact)

    at = open_app("admin", "sms-standard-texts")  # an administrator types a standard text in
    click(at, "New standard text")
    at.text_input(key="standard_text_title").input(STORED["standard text title"])
    at.session_state["standard_text_body__text"] = STORED["standard text body"]
    click(at, "Save")
    record_shown(at, "standard texts", seen, counts)

    at = open_app("admin", "sms-messages")
    at.session_state[at.dataframe[0].key] = {"selection": {"rows": [0], "columns": [], "cells": []}}
    record_shown(rerun(at), "overview", seen, counts)  # the table and the selected message's details

    at = open_app("admin", "sms-messages", {"contact": contact, "unit": "all"}, {"send_sms_standard_texts": True})
    record_shown(at, "overview", seen, counts)  # the contact's heading
    at.button(key="ov_send").click()
    record_shown(rerun(at), "send dialog", seen, counts)  # to whom, their numbers, the standard texts

    at = open_app("admin", "sms-messages", state={"send_sms_phone": NUMBER})
    at.button(key="ov_send").click()
    record_shown(rerun(at), "send dialog, number typed", seen, counts)  # whose number it is

    at = open_app("admin", "sms-contacts", state={"contacts_query": "Name", "contacts_selected": int(contact)})
    record_shown(at, "contacts", seen, counts)
    for url_path, where in (
        ("sms-delivery-rates", "delivery rates"),
        ("sms-settings", "settings"),
        ("sms-administration", "administration"),
    ):
        record_shown(open_app("admin", url_path), where, seen, counts)

    expected = {
        ("message text", "overview", "Dataframe"),
        ("message text", "overview", "Markdown"),
        ("gateway error", "overview", "Caption"),
        ("gateway error", "delivery rates", "PageLink"),
        ("contact name", "overview", "Caption"),
        ("contact name", "overview", "Subheader"),
        ("contact name", "send dialog", "Caption"),
        ("contact name", "send dialog, number typed", "Caption"),
        ("contact name", "contacts", "Subheader"),
        ("contact name", "contacts", "Dataframe"),
        ("contact e-mail", "contacts", "Caption"),
        ("phone label", "contacts", "Markdown"),
        ("phone label", "send dialog", "Selectbox"),
        ("consent source", "contacts", "Markdown"),
        ("standard text title", "standard texts", "Subheader"),
        ("standard text title", "standard texts", "Toast"),
        ("standard text title", "standard texts", "Dataframe"),
        ("standard text title", "send dialog", "Button"),
        ("standard text body", "standard texts", "Dataframe"),
        ("standard text body", "send dialog", "Button"),
        ("org. unit name", "overview", "Dataframe"),
        ("org. unit name", "overview", "Caption"),
        ("org. unit name", "delivery rates", "Markdown"),
        ("org. unit name", "settings", "Markdown"),
        ("user name", "contacts", "Markdown"),
        ("user name", "settings", "Caption"),
        ("user name", "standard texts", "Dataframe"),
        ("user name", "administration", "Dataframe"),
        ("org. unit name", "administration", "Dataframe"),
        ("contact name", "contacts", "TextInput"),
    }
    assert expected <= seen, f"not drawn where expected: {sorted(expected - seen)}"
    reliability.record(AREA, cases=len(seen), stored_texts=len(STORED), strings_checked=counts["strings"])


# ---- 3. access: other org. units and missing permissions -------------------------------------

SECRET = "Oslo secret 4711"


@pytest.fixture
def oslo_secret(app_env):
    """A message of Oslo Sentrum, of a contact who has no message anywhere else."""
    with app_env.session() as s:
        contact = Contact(name="Olga Oslo-Only", email=None)
        contact.phones.append(ContactPhone(number="+4790000001", label="Mobile"))
        s.add(contact)
        s.flush()
        message = SmsMessage(
            text=SECRET,
            phone="+4790000001",
            contact_id=contact.id,
            org_unit_id=unit_id_by_code(app_env, "OSL"),
            status=S.SENDING_FAILED,
            gateway_error="Secret gateway error",
            sent_on=datetime.now(UTC),
        )
        s.add(message)
        s.flush()
        return message.id, contact.id


def add_messages(db, unit_id: str, count: int, status: S, **fields) -> None:
    with db.session() as s:
        sent_on = datetime.now(UTC) - timedelta(hours=1)
        s.add_all(
            SmsMessage(
                text="Sent elsewhere",
                phone="+4790000002",
                org_unit_id=int(unit_id),
                status=status,
                sent_on=sent_on,
                **fields,
            )
            for _ in range(count)
        )


def everything_shown(at: AppTest) -> str:
    return "\n".join(text for *_, text, _, _ in shown_strings(at))


def grant(db, role: str, permission: Permission) -> None:
    with db.session() as s:
        s.add(RolePermission(role=role, permission=permission.value))


def test_the_overview_shows_counts_and_exports_nothing_of_another_units_messages(app_env, oslo_secret, reliability):
    """kari (Trondheim only) with links naming Oslo's unit, the message's id and its contact: no
    row, no count, no detail, no export; a forged selection of it reads exactly like one of a
    message that does not exist.  The administrator, who belongs to Oslo, does see it."""
    message_id, contact_id = oslo_secret
    osl = str(unit_id_by_code(app_env, "OSL"))
    links = [
        {"unit": osl, "text": "secret 4711"},  # the hidden message has it
        {"unit": [osl, "all"], "text": "secret", "status": "Sending failed"},
        {"contact": str(contact_id), "unit": "all"},
        {"message": str(message_id), "id": str(message_id), "unit": "all", "phone": "90000001"},
    ]
    checked = Counter()
    for link in links:
        at = open_app("kari", "sms-messages", link)
        shown = everything_shown(at)
        assert SECRET not in shown and "Oslo Sentrum" not in shown and "Secret gateway error" not in shown
        assert set(at.dataframe[0].value["Org. unit"]) <= {"Trondheim Midtbyen"}
        assert "0 messages match." in [c.value for c in at.caption]
        export = exported_rows(at)  # the click, and the link it gives followed
        assert SECRET not in str(export) and len(export) == 1  # the header only
        checked["links"] += 1

    hidden = open_app("kari", "sms-messages", state={STATE_KEY: OverviewState(selected=message_id)})  # forged
    missing = open_app("kari", "sms-messages", state={STATE_KEY: OverviewState(selected=987_654_321)})
    assert (
        [e.value.replace(str(message_id), "N") for e in hidden.error]
        == [e.value.replace("987654321", "N") for e in missing.error]
        != []
    )
    assert SECRET not in everything_shown(hidden)
    checked["forged selections"] += 2

    admin = open_app("admin", "sms-messages", {"contact": str(contact_id), "unit": "all"})
    assert list(admin.dataframe[0].value["Text"]) == [SECRET] and "1 message matches." in [
        c.value for c in admin.caption
    ]
    reliability.record(
        AREA, cases=sum(checked.values()), links=checked["links"], forged_selections=checked["forged selections"]
    )


def test_other_pages_show_nothing_of_another_units_messages(app_env, oslo_secret, reliability):
    """Contacts, Standard texts, Delivery rates and SMS settings, each as a user who may use the
    page but is outside some units, with those units' ids in the link: nothing of those units is
    shown, counted or offered — while the same data in the user's own units is.  (Contacts belong
    to no unit: every user may find a contact, but not the messages sent to them.)"""
    message_id, contact_id = oslo_secret
    ids = {code: str(unit_id_by_code(app_env, code)) for code in ("OSL", "BGN", "TRD", "SVG", "TOS")}
    outside = {
        "unit": [ids["OSL"], ids["BGN"]],
        "id": str(message_id),
        "message": str(message_id),
        "contact": str(contact_id),
    }
    checked = Counter()

    at = open_app("kari", "sms-contacts", outside, {"contacts_query": "Olga", "contacts_selected": contact_id})
    shown = everything_shown(at)
    assert "Olga Oslo-Only" in shown and SECRET not in shown and "Oslo Sentrum" not in shown
    checked["Contacts"] += 1

    grant(app_env, "staff", Permission.MANAGE_STANDARD_TEXTS)  # now kari (Trondheim) manages texts
    with app_env.session() as s:
        oslo_text = s.scalar(select(StandardText.id).where(StandardText.title == "Oslo: new address"))
    at = open_app("kari", "sms-standard-texts", {**outside, "id": str(oslo_text)}, {"standard_text_editing": oslo_text})
    shown = everything_shown(at)
    assert "Oslo: new address" not in shown and "Bergen: parking" not in shown and "Oslo Sentrum" not in shown
    assert "Appointment reminder" in list(at.dataframe[0].value["Title"])  # the texts for all units are there
    assert at.subheader[0].value == "New standard text"  # the forged id opens no Oslo text
    at = open_app("kari", "sms-messages", state={"send_sms_standard_texts": True})
    at.button(key="ov_send").click()
    offered = [b.label for b in rerun(at).button if b.key and b.key.startswith("send_sms_standard_")]
    assert "Appointment reminder" in offered and not {"Oslo: new address", "Bergen: parking"} & set(offered)
    checked["Standard texts"] += 2

    def rates_as_lead() -> tuple[list, str]:  # lead: Oslo, Bergen and Tromsø; not Trondheim nor Stavanger
        at = open_app("lead", "sms-delivery-rates", {**outside, "unit": [ids["TRD"], ids["SVG"]]})
        checked["Delivery rates"] += 1
        return [(m.label, m.value) for m in at.metric], everything_shown(at)

    before, _ = rates_as_lead()
    for code in ("TRD", "SVG"):
        add_messages(app_env, ids[code], 25, S.REJECTED, gateway_error="Trondheim secret reason")
    after, shown = rates_as_lead()
    assert after == before and "Trondheim" not in shown and "Stavanger" not in shown
    add_messages(app_env, ids["TOS"], 25, S.REJECTED)
    assert rates_as_lead()[0] != before  # the same messages in one of the lead's units do count

    grant(app_env, "team_lead", Permission.MANAGE_SETTINGS)

    def settings_as_lead() -> tuple[list, str]:
        at = open_app("lead", "sms-settings", {**outside, "unit": ids["TRD"]})
        checked["SMS settings"] += 1
        return [m.value for m in at.metric if m.label == "Waiting for a final status"], everything_shown(at)

    before, _ = settings_as_lead()
    add_messages(app_env, ids["TRD"], 7, S.ACCEPTED)
    after, shown = settings_as_lead()
    assert after == before != [] and "Trondheim" not in shown and "Stavanger" not in shown
    assert "Oslo Sentrum" in shown and "Tromsø Nord" in shown
    add_messages(app_env, ids["TOS"], 7, S.ACCEPTED)
    assert settings_as_lead()[0] != before
    reliability.record(AREA, cases=sum(checked.values()), **{page.replace(" ", "_"): n for page, n in checked.items()})


def test_every_page_refuses_a_user_without_its_permission(app_env, oslo_secret, reliability):
    """Every user on every page: a page they may not use is not in their menu, and its URL — with
    unit, message and contact ids in the link — answers with the refusal and the title only: no
    table, figure, chart, link or button.  Last, a user left with no permission at all."""
    message_id, contact_id = oslo_secret
    link = {
        "unit": "all",
        "id": str(message_id),
        "message": str(message_id),
        "contact": str(contact_id),
        "text": SECRET,
    }
    checked = Counter()

    def every_page(username: str) -> None:
        actor = load_actor(app_env, username)
        for url_path, (title, permission) in PAGES.items():
            at = open_app(username, url_path, link)
            if actor.can(permission):
                assert title in menu(at) and not any("do not have permission" in e.value for e in at.error)
                checked["allowed"] += 1
                continue
            assert title not in menu(at) and [t.value for t in at.title] == [title], (username, url_path)
            assert [e.value for e in at.error] == [
                f"You do not have permission to {permission.label}. If you need it, contact support."
            ]
            assert not (at.dataframe or at.metric or at.get("vega_lite_chart") or at.page_link or at.button)
            assert SECRET not in everything_shown(at)
            checked["refused"] += 1

    for username in USERS:
        every_page(username)
    with app_env.session() as s:
        s.query(RolePermission).filter_by(role="staff", permission="view_sms").delete()
    every_page("staff")  # staff and kari now have no page at all
    assert menu(open_app("kari")) == []
    assert "do not have permission to use any SMS page" in open_app("kari", "home").info[0].value
    assert checked["refused"] > 0 and checked["allowed"] > 0
    reliability.record(
        AREA, cases=checked["refused"] + checked["allowed"], refused=checked["refused"], allowed=checked["allowed"]
    )
