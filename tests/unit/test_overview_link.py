"""The overview's link format, in tables: every parameter read and written, links that go round
(filter → link → the same filter), and values nobody should send, each ignored with a sentence
that quotes it."""

from datetime import date

import pytest

from sms_core.domain.permissions import Actor, Permission
from sms_core.domain.statuses import SmsStatus as S
from sms_core.read_models.overview import OverviewFilter, Sort
from sms_core.read_models.overview_link import (
    ERROR_LENGTH,
    OverviewLink,
    default_filter,
    link_params,
    link_url,
    read_link,
)

ME = Actor(1, "staff", "Staff", "staff", frozenset({Permission.VIEW_SMS}), frozenset({3, 5, 12}), 5)
NOWHERE = Actor(2, "new", "New", "staff", frozenset({Permission.VIEW_SMS}), frozenset(), None)
DAYS = (date(2016, 6, 1), date(2036, 6, 1))
HOME = default_filter(ME)  # Oslo (5), newest first


def read(**params) -> OverviewLink:
    return read_link({name: v if isinstance(v, list) else [v] for name, v in params.items()}, ME, days=DAYS)


def with_(**fields) -> OverviewFilter:
    return OverviewFilter(**{"org_unit_ids": {5}, **fields})


# ---- reading: each parameter -------------------------------------------------------------

READ = [
    ({}, with_(), 1),
    ({"text": "Prescription 50%"}, with_(text="Prescription 50%"), 1),
    ({"phone": "+47 912"}, with_(phone="+47 912"), 1),
    ({"text": ["first", "last"]}, with_(text="last"), 1),  # one value: the last one counts
    ({"from": "2026-01-31"}, with_(sent_from=date(2026, 1, 31)), 1),
    ({"to": "2026-02-01"}, with_(sent_to=date(2026, 2, 1)), 1),
    ({"from": "2026-01-01", "to": "2026-01-01"}, with_(sent_from=date(2026, 1, 1), sent_to=date(2026, 1, 1)), 1),
    ({"from": "20260131"}, with_(sent_from=date(2026, 1, 31)), 1),  # ISO 8601's basic form is a date too
    ({"status": "Received"}, with_(statuses={S.RECEIVED}), 1),
    ({"status": ["Sending failed", "Rejected"]}, with_(statuses={S.SENDING_FAILED, S.REJECTED}), 1),
    ({"unit": "all"}, with_(org_unit_ids=None), 1),
    ({"unit": "12"}, with_(org_unit_ids={12}), 1),
    ({"unit": ["12", "3"]}, with_(org_unit_ids={3, 12}), 1),
    ({"unit": ["3", "all"]}, with_(org_unit_ids=None), 1),
    ({"unit": ["03", "3"]}, with_(org_unit_ids={3}), 1),
    ({"resent": "yes"}, with_(resent=True), 1),
    ({"resent": " No "}, with_(resent=False), 1),
    ({"sort": "status_asc"}, with_(sort=Sort.STATUS_ASC), 1),
    ({"sort": "SENT_ON_ASC"}, with_(sort=Sort.SENT_ON_ASC), 1),
    ({"contact": "42"}, with_(contact_id=42), 1),
    ({"contact": str(10**40)}, with_(contact_id=10**40), 1),  # a number: whether it exists is the database's to say
    ({"sent_by": "7"}, with_(sent_by_user_id=7), 1),
    ({"sent_by": ["7", " 8 "]}, with_(sent_by_user_id=8), 1),
    ({"sent_by": ""}, with_(), 1),  # the filter cleared
    ({"standard_text": "3"}, with_(standard_text_id=3), 1),
    ({"error": "Absent subscriber"}, with_(gateway_error="Absent subscriber"), 1),
    ({"error": [" Absent subscriber", "50%_off "]}, with_(gateway_error="50%_off "), 1),  # exactly as written
    ({"error": "x" * ERROR_LENGTH}, with_(gateway_error="x" * ERROR_LENGTH), 1),
    ({"error": " "}, with_(), 1),  # the filter cleared
    ({"page": "3"}, with_(), 3),
    ({"page": ["9", "2"]}, with_(), 2),
]


@pytest.mark.parametrize("params, expected, page", READ)
def test_each_parameter_is_read(params, expected, page):
    link = read(**params)
    assert (link.filter, link.page, link.warnings) == (expected, page, ())


def test_statuses_keep_the_links_order_for_the_status_filter():
    link = read(status=["Sending failed", "Rejected", "Sending failed"])
    assert link.statuses == (S.SENDING_FAILED, S.REJECTED) and not link.warnings


@pytest.mark.parametrize(
    "params, requested",
    [
        ({}, False),
        ({"contact": "7"}, True),
        ({"contact": ""}, True),
        ({"contact": "  "}, True),
        ({"contact": "x"}, True),
    ],
)
def test_a_contact_parameter_asks_for_a_contact_even_without_a_usable_id(params, requested):
    assert read(**params).contact_requested is requested


def test_the_time_zone_is_the_browsers():
    link = read_link({"from": ["2026-03-01"]}, ME, "Europe/Oslo")
    assert link.filter.time_zone == "Europe/Oslo" and link.filter == with_(
        sent_from=date(2026, 3, 1), time_zone="Europe/Oslo"
    )


def test_without_a_current_unit_the_default_is_all_my_units():
    assert read_link({}, NOWHERE).filter == OverviewFilter(org_unit_ids=None)


# ---- reading: values that cannot be used -------------------------------------------------

IGNORED = [
    ("status", ["Nonsense"], "“Nonsense” in the link is not an SMS status, so it is ignored.", with_()),
    ("status", ["received"], "“received” in the link is not an SMS status", with_()),  # labels as the list spells them
    ("status", ["**Received**", "Received"], "“**Received**”", with_(statuses={S.RECEIVED})),
    (
        "from",
        ["notadate"],
        "“notadate” in the link is not a date (YYYY-MM-DD), so the first day is not filtered.",
        with_(),
    ),
    (
        "to",
        ["2026-02-30"],
        "“2026-02-30” in the link is not a date (YYYY-MM-DD), so the last day is not filtered.",
        with_(),
    ),
    (
        "from",
        ["0001-01-01"],
        "“0001-01-01” in the link is outside the days the filter offers (2016-06-01 to 2036-06-01)",
        with_(),
    ),
    ("to", ["9999-12-31"], "so the last day is not filtered.", with_()),
    ("unit", ["abc"], "Org. unit “abc” in the link is not one of your org. units, so it is ignored.", with_()),
    ("unit", ["99"], "Org. unit “99” in the link is not one of your org. units", with_()),  # someone else's
    ("unit", ["12", "-3"], "Org. unit “-3”", with_(org_unit_ids={12})),
    ("unit", ["²"], "Org. unit “²”", with_()),  # a digit to Unicode, not a number to int()
    ("unit", ["9" * 5000], "Org. unit “999", with_()),  # more digits than Python converts
    ("resent", ["maybe"], "“maybe” in the link is not yes or no, so it is ignored.", with_()),
    ("resent", ["all"], "“all” in the link is not yes or no", with_()),  # absent is all
    ("sort", ["sideways"], "“sideways” in the link is not a sort order, so it is ignored.", with_()),
    ("contact", ["-1"], "“-1” in the link is not a contact id, so the contact filter is ignored.", with_()),
    ("contact", ["0"], "“0” in the link is not a contact id", with_()),
    ("contact", ["1.0"], "“1.0” in the link is not a contact id", with_()),
    ("sent_by", ["kari"], "“kari” in the link is not a user id, so the Sent by filter is ignored.", with_()),
    ("sent_by", ["0"], "“0” in the link is not a user id", with_()),
    ("sent_by", [str(2**31)], f"“{2**31}” in the link is not a user id", with_()),  # no users.id holds it
    (
        "standard_text",
        ["-2"],
        "“-2” in the link is not a standard text, so the standard text filter is ignored.",
        with_(),
    ),
    (
        "error",
        ["y" * (ERROR_LENGTH + 1)],
        f"The gateway error in the link (“{'y' * 40}…”) is longer than 1,000 characters, "
        "so the gateway error filter is ignored.",
        with_(),
    ),
    (
        "error",
        ["a\x00b"],
        "“a\x00b” in the link is not a gateway error, so the gateway error filter is ignored.",
        with_(),
    ),
    ("error", ["line\nbreak"], "in the link is not a gateway error", with_()),  # no stored error holds one
    ("page", ["0"], "“0” in the link is not a page number, so the first page is shown.", with_()),
    ("page", ["two"], "“two” in the link is not a page number", with_()),
]


@pytest.mark.parametrize("name, values, sentence, expected", IGNORED)
def test_a_value_that_cannot_be_used_is_ignored_with_a_sentence_quoting_it(name, values, sentence, expected):
    link = read(**{name: values})
    assert link.filter == expected and link.page == 1
    assert len(link.warnings) == 1 and sentence in link.warnings[0], link.warnings


def test_a_last_day_before_the_first_filters_no_days():
    link = read(**{"from": "2026-05-01", "to": "2026-01-01"})
    assert link.filter == with_() and link.warnings == (
        "In the link the last day (2026-01-01) is before the first day (2026-05-01), so the days are not filtered.",
    )


def test_out_of_range_days_are_dropped_with_a_warning_each():
    """The tester's ``?from=1900-01-01&to=1900-01-02``: both days were dropped without a word."""
    link = read(**{"from": "1900-01-01", "to": "1900-01-02"})
    assert link.filter == with_()
    assert link.warnings == (
        "“1900-01-01” in the link is outside the days the filter offers (2016-06-01 to 2036-06-01), "
        "so the first day is not filtered.",
        "“1900-01-02” in the link is outside the days the filter offers (2016-06-01 to 2036-06-01), "
        "so the last day is not filtered.",
    )


def test_every_bad_value_gets_its_own_sentence_and_the_good_ones_are_used():
    link = read(status=["Nonsense", "Received"], unit="abc", resent="maybe", sort="sideways", contact="-1", page="x")
    assert link.filter == with_(statuses={S.RECEIVED})
    assert len(link.warnings) == 6 and all(w.startswith(("“", "Org. unit “")) for w in link.warnings)


ODD = ["", " ", "\x00", "a\x00b", "\u202eevil\u202c", "😊" * 40, "x" * 5000, "<script>alert(1)</script>", "%_\\"]


@pytest.mark.parametrize("value", ODD)
def test_odd_values_never_break_reading_and_text_is_kept_as_written(value):
    link = read(**{name: value for name in ("text", "phone", "from", "to", "status", "unit", "resent", "sort", "page")})
    assert link.filter.text == value and link.filter.phone == value
    assert link.filter.org_unit_ids == {5} and link.page == 1 and not link.filter.statuses
    assert len(link.warnings) == 7 and all(f"“{value}”" in w for w in link.warnings)  # from, to … page


def test_parameters_that_are_not_the_overviews_are_not_read():
    assert read(message="7", id="7", embed="true", units="3") == OverviewLink(with_())


# ---- writing, and the way round ----------------------------------------------------------

WRITE = [
    (OverviewFilter(), 1, {"unit": ["all"]}),
    (with_(), 1, {"unit": ["5"]}),
    (
        OverviewFilter(statuses={S.SENDING_FAILED, S.REJECTED}, sent_from=date(2026, 1, 1), sent_to=date(2026, 1, 30)),
        1,
        {"from": ["2026-01-01"], "to": ["2026-01-30"], "status": ["Rejected", "Sending failed"], "unit": ["all"]},
    ),
    (
        with_(text="50% off", phone="912", org_unit_ids={12, 3}, resent=False, sort=Sort.STATUS_DESC, contact_id=9),
        4,
        {
            "text": ["50% off"],
            "phone": ["912"],
            "unit": ["3", "12"],
            "resent": ["no"],
            "sort": ["status_desc"],
            "contact": ["9"],
            "page": ["4"],
        },
    ),
    (with_(sent_by_user_id=7, statuses={S.RECEIVED}), 1, {"status": ["Received"], "unit": ["5"], "sent_by": ["7"]}),
    (with_(standard_text_id=2), 1, {"unit": ["5"], "standard_text": ["2"]}),
    (
        with_(statuses={S.SENDING_FAILED}, gateway_error="Absent subscriber"),
        1,
        {"status": ["Sending failed"], "unit": ["5"], "error": ["Absent subscriber"]},
    ),
]


@pytest.mark.parametrize("f, page, params", WRITE)
def test_a_filter_becomes_the_parameters_of_its_link_and_back(f, page, params):
    assert link_params(f, page) == params
    link = read_link(params, ME)
    assert (link.filter, link.page, link.warnings) == (f, page, ())


def test_the_overviews_own_url_leaves_out_the_current_unit():
    assert link_params(with_(), default=HOME) == {}
    assert link_params(with_(contact_id=9), default=HOME) == {"contact": ["9"]}  # "this contact, in my unit"
    assert link_params(with_(org_unit_ids=None), default=HOME) == {"unit": ["all"]}
    assert read_link({}, ME).filter == HOME


@pytest.mark.parametrize(
    "f",
    [
        with_(),
        with_(text="a\x00b", phone="\u202e", statuses=set(S), org_unit_ids={3, 5, 12}, resent=True),
        with_(sent_from=date(2026, 2, 28), sent_to=date(2026, 3, 1), sort=Sort.SENT_ON_ASC, org_unit_ids=None),
        with_(text="&status=Received#top", contact_id=1),
        with_(statuses={S.REJECTED}, gateway_error="Rejected: 50% off_ & more at www.x.no #1 😊 ?error=2"),
    ],
)
@pytest.mark.parametrize("page", [1, 2, 200])
def test_every_filter_goes_round_through_its_link(f, page):
    for default in (None, HOME):
        link = read_link(link_params(f, page, default=default), ME)
        assert (link.filter, link.page, link.warnings) == (f, page, ())


def test_the_url_is_the_overviews_path_with_the_parameters_encoded():
    assert link_url(with_(), default=HOME) == "/sms-messages"
    assert (
        link_url(with_(text="a&b c", statuses={S.RECEIVED}), 2)
        == "/sms-messages?text=a%26b+c&status=Received&unit=5&page=2"
    )
    assert (
        link_url(with_(gateway_error="Absent subscriber & co"), default=HOME)
        == "/sms-messages?error=Absent+subscriber+%26+co"
    )
