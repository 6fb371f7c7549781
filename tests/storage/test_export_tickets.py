"""Export tickets and the route's chunk generator, in-process: what the served tests cannot wait
for (five minutes) or measure (the server's own allocations)."""

from __future__ import annotations

import tracemalloc

import pytest
from export_download import follow_with
from sqlalchemy import update

from sms_core.demo.seed import seed_demo
from sms_core.domain.errors import SignInRefused
from sms_core.read_models.overview import OverviewFilter
from sms_core.storage.models import User
from sms_core.use_cases.accounts import load_actor
from sms_core.use_cases.export_tickets import ExportTickets, export_bytes

EXPIRED = "This download link has expired or was used; click Export CSV again."


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def token(link) -> str:
    return link.url.partition("ticket=")[2]


def test_a_link_expires_after_five_minutes_and_a_user_has_only_a_few_open(demo_db):
    clock = Clock()
    tickets = ExportTickets(clock=clock)
    staff = load_actor(demo_db, "staff")
    late = tickets.issue(demo_db, staff.id, OverviewFilter())
    clock.now += 299
    on_time = tickets.issue(demo_db, staff.id, OverviewFilter())
    clock.now += 2  # the first is 301 s old
    assert follow_with(demo_db, tickets, late.url).text == EXPIRED
    response = follow_with(demo_db, tickets, on_time.url)
    assert response.status_code == 200 and response.content.startswith(b"\xef\xbb\xbfText,Phone")
    links = [tickets.issue(demo_db, staff.id, OverviewFilter()) for _ in range(5)]
    assert tickets.open_count(staff.id) == 3  # the newest three; an older tab's link says click again
    assert tickets.redeem(token(links[0])) is None and tickets.redeem(token(links[-1])) is not None


def test_no_link_for_a_deactivated_user(demo_db):
    with demo_db.session() as s:
        s.execute(update(User).where(User.username == "kari").values(active=False))
    with pytest.raises(SignInRefused, match="deactivated"):
        ExportTickets().issue(demo_db, _id(demo_db, "kari"), OverviewFilter())


def _id(db, username: str) -> int:
    with db.session() as s:
        return s.query(User.id).filter(User.username == username).scalar()


def test_streaming_a_large_export_keeps_the_servers_memory_flat(db):
    """The route's generator, as the route runs it: its peak allocation (tracemalloc) is a keyset
    page's (5,000 rows) and the phone cache's, whatever the file's size — kari's one unit and the
    administrator's five peak alike, where Streamlit's download held the whole file."""
    seed_demo(db, messages=50_000)
    tickets = ExportTickets()

    def streamed(user: str) -> tuple[int, int]:
        ticket = tickets.redeem(token(tickets.issue(db, load_actor(db, user).id, OverviewFilter())))
        tracemalloc.start()
        try:
            size = sum(len(chunk) for chunk in export_bytes(db, ticket))
            return size, tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()

    streamed("admin")  # warm up: imports, compiled statements, connections, the phone cache
    small, small_peak = streamed("kari")
    big, big_peak = streamed("admin")
    assert big > 4 * small > 1_000_000, (big, small)
    assert big_peak < 1.5 * small_peak + 1_000_000, f"peak {big_peak:,} B for {big:,} B, {small_peak:,} B for {small:,}"
