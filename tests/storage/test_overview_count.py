"""The count above the table within its budget (``read_models.overview_count``), on both databases:
exact when it is had in time, otherwise a lower bound said as one, then the exact figure; never a
count made before the data changed shown as the current one; never another unit's messages."""

import threading
from dataclasses import replace

import pytest
from sqlalchemy import text

from sms_core.domain.errors import PermissionDenied
from sms_core.read_models.message_count import MessageCount
from sms_core.read_models.overview import OverviewFilter, count_messages
from sms_core.read_models.overview_count import BackgroundCounts, known_count
from sms_core.use_cases.accounts import load_actor


@pytest.fixture
def counts():
    return BackgroundCounts()


def test_a_count_had_within_the_budget_is_exact(demo_db, staff, counts):
    f = OverviewFilter()
    exact = count_messages(demo_db, staff, f)
    shown = counts.count(demo_db, staff, f, version=1, known=50, budget=10)
    assert shown == exact and shown.settled and shown.label == f"{exact.value:,}"


def test_the_count_is_of_the_users_units_only(demo_db, staff, counts):
    kari = load_actor(demo_db, "kari")
    f = OverviewFilter()
    for actor in (staff, kari):  # the same filter, different units: different counts, never shared
        assert counts.count(demo_db, actor, f, version=1, budget=10) == count_messages(demo_db, actor, f)
    assert count_messages(demo_db, staff, f) != count_messages(demo_db, kari, f)


def test_a_user_who_may_not_view_sms_is_refused(demo_db, staff, counts):
    blind = replace(staff, permissions=frozenset())
    with pytest.raises(PermissionDenied):
        counts.count(demo_db, blind, OverviewFilter(), version=1)
    with pytest.raises(PermissionDenied):
        counts.wait(demo_db, blind, OverviewFilter())


def test_a_count_of_older_data_is_not_shown_as_the_current_one(demo_db, staff, counts):
    f = OverviewFilter()
    before = counts.count(demo_db, staff, f, version=1, budget=10)
    with demo_db.session() as s:  # one message fewer, as a deletion would leave it
        s.execute(text("DELETE FROM sms_status_events WHERE message_id = (SELECT max(id) FROM sms_messages)"))
        s.execute(text("DELETE FROM sms_messages WHERE id = (SELECT max(id) FROM sms_messages)"))
    assert counts.count(demo_db, staff, f, version=1, budget=10) == before  # same version: the finished count
    after = counts.count(demo_db, staff, f, version=2, budget=10)
    assert after == count_messages(demo_db, staff, f) == MessageCount(before.value - 1, False)


def test_labels_say_which_kind_of_figure_they_are():
    assert known_count(7) == MessageCount(7, False) and known_count(7).label == "7"
    assert known_count(7, settled=False).label == "at least 7"
    assert known_count(12, cap=10) == MessageCount(10, True) and known_count(12, cap=10).label == "10+"
    assert known_count(100, settled=False).pages(page_size=50) == 3  # one page beyond what is known
    assert known_count(100).pages(page_size=50) == 2


@pytest.mark.postgres
def test_a_count_that_does_not_fit_the_budget_is_a_lower_bound_then_exact(pg_db, counts):
    """The count is held up (the table locked by another transaction, as a long count would be):
    the page gets at once the rows it knows as "at least", and the exact figure once it arrives."""
    from sms_core.demo.seed import seed_demo

    seed_demo(pg_db, messages=120)
    staff = load_actor(pg_db, "staff")
    f = OverviewFilter()
    exact = count_messages(pg_db, staff, f)
    locked, release = threading.Event(), threading.Event()

    def hold_the_table():
        with pg_db.engine.connect() as conn:
            conn.execute(text("LOCK TABLE sms_messages IN ACCESS EXCLUSIVE MODE"))
            locked.set()
            release.wait(10)
            conn.rollback()

    holder = threading.Thread(target=hold_the_table)
    holder.start()
    try:
        assert locked.wait(10)
        shown = counts.count(pg_db, staff, f, version=1, known=50, budget=0.05)
        assert shown == MessageCount(50, False, settled=False) and shown.label == "at least 50"
        assert counts.count(pg_db, staff, f, version=1, known=50, budget=0) == shown  # still counting
    finally:
        release.set()
        holder.join()
    assert counts.wait(pg_db, staff, f) == exact
    assert counts.count(pg_db, staff, f, version=1, known=50, budget=0) == exact
    assert exact.value >= 50


def test_a_page_with_fewer_rows_than_fit_is_the_count(demo_db, staff, counts):
    f = OverviewFilter()
    exact = count_messages(demo_db, staff, f)
    size = 50
    last_page, rows = -(-exact.value // size), exact.value % size or size
    assert counts.for_page(demo_db, staff, f, 1, page=last_page, page_size=size, rows=rows, budget=10) == exact
    assert counts.for_page(demo_db, staff, f, 1, page=1, page_size=size, rows=0) == MessageCount(0, False)
    full = counts.for_page(demo_db, staff, f, 1, page=1, page_size=size, rows=size, budget=10)
    assert full == exact  # a full page asks for the count itself
    with pytest.raises(PermissionDenied):
        counts.for_page(demo_db, replace(staff, permissions=frozenset()), f, 1, page=1, page_size=size, rows=3)
