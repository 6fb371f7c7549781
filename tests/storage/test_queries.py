"""The overview's queries on SQLite and PostgreSQL: every filter, both sorts, paging, the capped
count, the streamed export — and that no filter ever reaches another org unit's messages.

Most tests use a handful of messages of their own on the demo org units and users (no demo
history), so each one shows exactly what a filter lets through.
"""

import csv
import io
import tracemalloc
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from types import GeneratorType

import pytest
from sqlalchemy import select

from sms_core.demo.seed import seed_demo
from sms_core.domain.errors import InvalidInput, PermissionDenied
from sms_core.domain.permissions import Permission
from sms_core.domain.statuses import SmsStatus as S
from sms_core.read_models.overview import (
    EXPORT_COLUMNS,
    MessageCount,
    OverviewFilter,
    Sort,
    count_messages,
    export_csv,
    list_messages,
    visible_units,
)
from sms_core.read_models.overview_export import ExportProgress
from sms_core.storage.models import Contact, SmsMessage
from sms_core.use_cases.accounts import load_actor, unit_id_by_code

T0 = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)


class World:
    """The demo units and users with our own messages; ``add`` returns the new message's id."""

    def __init__(self, db):
        self.db = db
        self.staff, self.kari, self.admin = (load_actor(db, u) for u in ("staff", "kari", "admin"))
        self.unit = {code: unit_id_by_code(db, code) for code in ("OSL", "BGN", "TRD", "SVG")}
        with db.session() as s:
            self.contacts = list(s.scalars(select(Contact.id).order_by(Contact.id).limit(2)))

    def add(
        self, unit="OSL", text="Hi", phone="+4791234567", status=S.RECEIVED, at=T0, resent=False, contact=None
    ) -> int:
        with self.db.session() as s:
            message = SmsMessage(
                text=text,
                phone=phone,
                org_unit_id=self.unit[unit],
                sent_on=at,
                status=status,
                resent=resent,
                contact_id=contact,
            )
            s.add(message)
            s.flush()
            return message.id

    def ids(self, actor=None, page=1, page_size=100, **filters) -> list[int]:
        rows = list_messages(self.db, actor or self.staff, OverviewFilter(**filters), page, page_size)
        return [r.id for r in rows]


@pytest.fixture
def world(demo_base_db):
    return World(demo_base_db)


def test_rows_carry_what_the_table_shows(world):
    mid = world.add(text="Timen din er i morgen", phone="+4791234567", status=S.SENDING_FAILED, resent=True)
    [row] = list_messages(world.db, world.staff, OverviewFilter())
    assert (row.id, row.text, row.phone, row.sent_on, row.status, row.resent) == (
        mid,
        "Timen din er i morgen",
        "+4791234567",
        T0,
        S.SENDING_FAILED,
        True,
    )
    assert row.org_unit_name == "Oslo Sentrum" and row.phone_display == "+47 91 23 45 67"


def test_all_my_units_by_default_and_only_mine(world):
    osl, bgn, trd = world.add("OSL"), world.add("BGN"), world.add("TRD")
    assert sorted(world.ids()) == [osl, bgn]  # staff: Oslo and Bergen
    assert world.ids(org_unit_ids={world.unit["BGN"]}) == [bgn]
    assert world.ids(world.kari) == [trd]
    assert sorted(world.ids(world.admin)) == [osl, bgn, trd]


def test_another_units_messages_are_never_visible_whatever_the_filter(world):
    """kari belongs to Trondheim only: asking for Oslo by id, text, number or contact finds nothing."""
    world.add("OSL", text="Oslo only", contact=world.contacts[0])
    osl, trd = world.unit["OSL"], world.unit["TRD"]
    for filters in [
        {},
        {"org_unit_ids": {osl}},
        {"org_unit_ids": {osl, trd}},
        {"text": "Oslo"},
        {"phone": "912"},
        {"statuses": {S.RECEIVED}},
        {"contact_id": world.contacts[0]},
        {"resent": False},
        {"sort": Sort.STATUS_DESC},
    ]:
        f = OverviewFilter(**filters)
        assert list_messages(world.db, world.kari, f) == [], filters
        assert count_messages(world.db, world.kari, f) == MessageCount(0, False), filters
        assert list(export_csv(world.db, world.kari, f)) == [",".join(EXPORT_COLUMNS) + "\r\n"], filters


def test_units_asked_for_are_cut_down_to_the_users_own(world):
    asked = {world.unit["OSL"], world.unit["TRD"]}
    assert visible_units(world.kari, OverviewFilter(org_unit_ids=asked)) == {world.unit["TRD"]}
    assert visible_units(world.staff, OverviewFilter()) == world.staff.org_unit_ids


def test_a_user_without_view_permission_is_refused(world):
    world.add()
    blind = replace(world.staff, permissions=frozenset({Permission.SEND_SMS}))
    for call in (list_messages, count_messages, export_csv):
        with pytest.raises(PermissionDenied, match="view SMS messages"):
            call(world.db, blind, OverviewFilter())


def test_text_contains_ignores_case_and_takes_wildcards_literally(world):
    hei = world.add(text="Hei Kari, timen din er flyttet")
    sale = world.add(text="50% off_today")
    world.add(text="500 off today")
    assert world.ids(text="HEI kari") == [hei]
    assert world.ids(text="50%") == [sale]
    assert world.ids(text="f_t") == [sale]
    assert world.ids(text="%") == [sale]
    assert len(world.ids(text="  ")) == 3  # only spaces: no filter


def test_text_contains_folds_the_case_of_every_letter_not_only_ascii(world):
    """On SQLite too (LIKE and lower() there fold ASCII only): Norwegian letters either way."""
    lower = world.add(text="Møtet på Ærøy: ta med blåbær")
    upper = world.add(text="MØTET PÅ ÆRØY: TA MED BLÅBÆR")
    world.add(text="Motet pa Aeroy")
    for typed in ("ø", "Ø", "æ", "Æ", "å", "Å", "møtet PÅ ærøY", "BLÅBÆR"):
        assert sorted(world.ids(text=typed)) == sorted([lower, upper]), typed
    assert world.ids(text="Å%") == [], "the user's % stays a literal character"
    assert count_messages(world.db, world.staff, OverviewFilter(text="ø")).value == 2
    assert "MØTET" in "".join(export_csv(world.db, world.staff, OverviewFilter(text="ø")))


@pytest.mark.parametrize("typed", ["912 34", "+47 912 34 567", "0047 91234567", "(912) 34-567", "91234567"])
def test_phone_digits_in_any_format_match_the_stored_number(world, typed):
    mine = world.add(phone="+4791234567")
    world.add(phone="+4748417367")
    world.add(phone=None, status=S.PHONE_NOT_ENTERED)
    assert world.ids(phone=typed) == [mine]


def test_phone_filter_without_digits_matches_nothing(world):
    world.add(phone="+4791234567")
    assert world.ids(phone="abc") == []


def test_sent_on_range_is_whole_days_in_the_users_time_zone(world):
    late = world.add(at=datetime(2024, 3, 1, 23, 30, tzinfo=UTC))  # 2 March 00:30 in Oslo
    first = world.add(at=datetime(2024, 3, 1, 0, 0, tzinfo=UTC))  # the first second of 1 March UTC
    leap = world.add(at=datetime(2024, 2, 29, 23, 59, 59, tzinfo=UTC))  # 1 March 00:59:59 in Oslo
    day = date(2024, 3, 1)
    assert sorted(world.ids(sent_from=day, sent_to=day)) == sorted([late, first])
    assert sorted(world.ids(sent_from=day, sent_to=day, time_zone="Europe/Oslo")) == sorted([first, leap])
    assert world.ids(sent_from=date(2024, 3, 2), time_zone="Europe/Oslo") == [late]
    assert world.ids(sent_to=date(2024, 2, 29)) == [leap]


def test_statuses_resent_and_contact(world):
    failed = world.add(status=S.SENDING_FAILED)
    timeout = world.add(status=S.STATUS_CHECK_TIMEOUT, contact=world.contacts[0])
    resend = world.add(status=S.RESENT, resent=True, contact=world.contacts[0])
    assert sorted(world.ids(statuses={S.SENDING_FAILED, S.STATUS_CHECK_TIMEOUT})) == [failed, timeout]
    assert world.ids(resent=True) == [resend]
    assert sorted(world.ids(resent=False)) == [failed, timeout]
    assert sorted(world.ids(contact_id=world.contacts[0])) == [timeout, resend]
    assert world.ids(contact_id=world.contacts[1]) == []


def test_filters_combine(world):
    match = world.add(text="Reminder", phone="+4791234567", status=S.ACCEPTED)
    world.add(text="Reminder", phone="+4791234567", status=S.RECEIVED)
    world.add(text="Reminder", phone="+4748417367", status=S.ACCEPTED)
    world.add(text="Other", phone="+4791234567", status=S.ACCEPTED)
    assert world.ids(text="remind", phone="912", statuses={S.ACCEPTED}) == [match]


def test_sort_by_sent_on_both_ways(world):
    ids = [world.add(at=T0 + timedelta(minutes=m)) for m in (2, 0, 1)]
    same_time = [world.add(at=T0 + timedelta(minutes=5)) for _ in range(2)]  # a tie: the id decides
    oldest_first = [ids[1], ids[2], ids[0], *same_time]
    assert world.ids(sort=Sort.SENT_ON_ASC) == oldest_first
    assert world.ids(sort=Sort.SENT_ON_DESC) == oldest_first[::-1]
    assert world.ids() == oldest_first[::-1]  # newest first is the default


def test_sort_by_status_both_ways_newest_first_within_a_status(world):
    old_received = world.add(status=S.RECEIVED, at=T0)
    new_received = world.add(status=S.RECEIVED, at=T0 + timedelta(hours=1))
    accepted = world.add(status=S.ACCEPTED, at=T0 - timedelta(days=1))
    resent = world.add(status=S.RESENT, resent=True, at=T0 - timedelta(days=2))
    assert world.ids(sort=Sort.STATUS_ASC) == [accepted, new_received, old_received, resent]
    assert world.ids(sort=Sort.STATUS_DESC) == [resent, new_received, old_received, accepted]


def test_pages_follow_each_other_without_overlap(world):
    ids = [world.add(at=T0 + timedelta(minutes=m)) for m in range(5)]
    pages = [world.ids(page=p, page_size=2) for p in (1, 2, 3, 4)]
    assert pages == [[ids[4], ids[3]], [ids[2], ids[1]], [ids[0]], []]
    with pytest.raises(InvalidInput):
        world.ids(page=0)


def test_count_is_exact_up_to_the_cap_and_capped_beyond(world):
    for m in range(5):
        world.add(at=T0 + timedelta(minutes=m))
    assert count_messages(world.db, world.staff, OverviewFilter(), cap=5) == MessageCount(5, False)
    capped = count_messages(world.db, world.staff, OverviewFilter(), cap=3)
    assert capped == MessageCount(3, True) and capped.label == "3+"
    assert capped.pages(page_size=2) == 2 and MessageCount(0, False).pages() == 1
    assert MessageCount(10_000, True).label == "10,000+"
    assert count_messages(world.db, world.staff, OverviewFilter(statuses={S.REJECTED})) == MessageCount(0, False)


def test_export_holds_every_matching_row_in_the_users_time_zone(world):
    world.add(text='Hei, "Kari"\nNy linje; æøå', status=S.SENDING_FAILED, resent=True, at=T0)
    world.add(text="Not exported", status=S.RECEIVED)
    world.add("TRD", status=S.SENDING_FAILED)  # not staff's unit
    f = OverviewFilter(statuses={S.SENDING_FAILED}, time_zone="Europe/Oslo")
    rows = list(csv.reader(io.StringIO("".join(export_csv(world.db, world.staff, f)))))
    assert rows == [
        list(EXPORT_COLUMNS),
        [
            'Hei, "Kari"\nNy linje; æøå',
            "+47 91 23 45 67",
            "2024-03-01 13:00:00",
            "Sending failed",
            "Oslo Sentrum",
            "yes",
        ],
    ]


def test_export_streams_in_batches(world):
    ids = [world.add(at=T0 + timedelta(minutes=m)) for m in range(5)]
    chunks = export_csv(world.db, world.staff, OverviewFilter(sort=Sort.SENT_ON_ASC), batch_size=2)
    assert isinstance(chunks, GeneratorType)
    assert next(chunks) == ",".join(EXPORT_COLUMNS) + "\r\n"
    batches = [chunk.count("\r\n") for chunk in chunks]
    assert batches == [2, 2, 1]
    assert len(ids) == sum(batches)


def _export_peak(db, actor, batch_size: int) -> tuple[int, int]:
    """(characters exported, peak bytes allocated while exporting)."""
    tracemalloc.start()
    try:
        size = sum(len(chunk) for chunk in export_csv(db, actor, OverviewFilter(), batch_size=batch_size))
        return size, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_exporting_many_rows_keeps_only_a_batch_in_memory(db):
    """Memory while exporting depends on the batch, not on how many rows there are: kari's one
    unit (about a sixth of the rows) and the admin's five peak alike."""
    seed_demo(db, messages=6000)
    kari, admin = load_actor(db, "kari"), load_actor(db, "admin")
    _export_peak(db, admin, 100)  # warm up: imports, compiled statements, connections
    small, small_peak = _export_peak(db, kari, 100)
    big, big_peak = _export_peak(db, admin, 100)
    assert big > 4 * small > 200_000
    assert big_peak < 1.5 * small_peak + 50_000, (
        f"peak {big_peak:,} B for {big:,} chars, {small_peak:,} B for {small:,}"
    )
    assert big_peak < big / 2, "the export must never hold the whole file in memory"


def test_a_filter_that_contradicts_itself_is_refused(world):
    with pytest.raises(InvalidInput, match="last day is before the first day"):
        OverviewFilter(sent_from=date(2024, 3, 2), sent_to=date(2024, 3, 1))
    with pytest.raises(InvalidInput, match="not a time zone"):
        OverviewFilter(time_zone="Mars/Olympus")


@pytest.mark.parametrize("sort", list(Sort))
def test_export_pages_by_keyset_in_the_tables_order(world, sort):
    """Keyset pages of three rows (status by status for the status orders) write every match once,
    in exactly the order the table pages them — ties in sent on included."""
    statuses = [S.RECEIVED, S.SENDING_FAILED, S.ACCEPTED, S.REJECTED]
    for i in range(14):
        world.add(text=f"m{i}", status=statuses[i % 4], at=T0 + timedelta(minutes=i // 3))  # three share a minute
    f = OverviewFilter(sort=sort)
    progress = ExportProgress()
    exported = list(
        csv.reader(io.StringIO("".join(export_csv(world.db, world.staff, f, batch_size=3, progress=progress))))
    )
    listed = list_messages(world.db, world.staff, f, page_size=100)
    assert [row[0] for row in exported[1:]] == [r.text for r in listed] and len(listed) == 14
    assert progress.rows == 14 and progress.finished is not None
