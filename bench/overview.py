"""The overview's queries: one page of 100 rows and the count above the table, per filter.

Ours is ``sms_core.read_models.overview`` exactly as the page calls it (``list_messages``, and the
count through ``overview_count.BackgroundCounts`` within its budget) on the indexed database.  The naive baseline is the obvious ORM version of the same question on
the copy without secondary indexes: the same WHERE clause (``queries.conditions``, so both sides
answer the same question and their rows can be compared), LIMIT/OFFSET paging, and an exact
``count(*)``.
"""

from __future__ import annotations

import math
import statistics
import time
from collections import Counter
from dataclasses import dataclass, replace
from datetime import date, timedelta

from sqlalchemy import func, select

from bench.timing import Result, Stats, check_max, measure
from sms_core.domain.permissions import Actor
from sms_core.domain.statuses import SmsStatus
from sms_core.read_models.message_count import MessageCount
from sms_core.read_models.overview import (
    OverviewFilter,
    Sort,
    conditions,
    count_messages,
    list_messages,
    rows_statement,
)
from sms_core.read_models.overview_count import BackgroundCounts
from sms_core.storage.database import Database
from sms_core.storage.models import SmsMessage

PAGE_ROWS = 100  # the page size (the app's default page is 50 rows)
ZONE = "Europe/Oslo"


@dataclass(frozen=True)
class Case:
    """One way of looking at the overview: who looks, with which filter, at which page."""

    name: str
    actor: Actor
    filter: OverviewFilter
    last_page: bool = False


def cases(lead: Actor, unit_id: int, last_day: date, word: str, digits: str) -> list[Case]:
    """The issue's list, each filter added to the default view (the current unit) on its own."""
    default = OverviewFilter(org_unit_ids={unit_id}, time_zone=ZONE)
    week = dict(sent_from=last_day - timedelta(days=6), sent_to=last_day)
    failures = frozenset({SmsStatus.SENDING_FAILED, SmsStatus.REJECTED})
    return [
        Case("default view (one unit)", lead, default),
        Case("+ two statuses", lead, replace(default, statuses=failures)),
        Case("+ 7-day range", lead, replace(default, **week)),
        Case(f"+ text contains “{word}”", lead, replace(default, text=word)),
        Case(f"+ phone contains “{digits}”", lead, replace(default, phone=digits)),
        Case("all of them combined", lead, replace(default, statuses=failures, text=word, phone=digits, **week)),
        Case("all my units (10)", lead, replace(default, org_unit_ids=None)),
        Case("last page of a large result", lead, default, last_page=True),
        Case("sort by SMS status", lead, replace(default, sort=Sort.STATUS_ASC)),
    ]


def naive_page(db: Database, case: Case, page: int) -> list[int]:
    statement = rows_statement(case.actor, case.filter).limit(PAGE_ROWS).offset((page - 1) * PAGE_ROWS)
    with db.session() as session:
        return [row.id for row in session.execute(statement)]


def naive_count(db: Database, case: Case) -> int:
    statement = select(func.count()).select_from(SmsMessage).where(*conditions(case.actor, case.filter))
    with db.session() as session:
        return session.scalar(statement)


def our_page(db: Database, case: Case, page: int) -> list[int]:
    return [row.id for row in list_messages(db, case.actor, case.filter, page=page, page_size=PAGE_ROWS)]


def last_pages(db: Database, naive: Database, case: Case) -> tuple[int, int]:
    """The last page each design offers: ours stops where the capped count stops paging, the
    naive page knows the exact count and offers the true last page."""
    ours = count_messages(db, case.actor, case.filter).pages(PAGE_ROWS)
    theirs = max(1, -(-naive_count(naive, case) // PAGE_ROWS))
    return ours, theirs


def measure_case(db: Database, naive: Database, case: Case, runs: int, budget: float) -> list[Result]:
    """The page and the count of one case, ours beside the naive baseline."""
    page, naive_at = last_pages(db, naive, case) if case.last_page else (1, 1)
    ours_ids, naive_ids = our_page(db, case, page), naive_page(naive, case, naive_at)
    if page == naive_at and ours_ids != naive_ids:
        raise AssertionError(f"{case.name}: the indexed and naive databases disagree about the rows")
    note = f"ours: page {page:,}; naive: page {naive_at:,} (its true last page)" if case.last_page else ""
    results = [
        _result(
            "page of 100 rows",
            case.name,
            note,
            measure(lambda: our_page(db, case, page), runs=runs, budget=budget),
            measure(lambda: naive_page(naive, case, naive_at), runs=runs, budget=budget),
        ),
    ]
    if not case.last_page and case.filter.sort == Sort.SENT_ON_DESC:  # the count ignores page and order
        exact = naive_count(naive, case)
        shown, note = measure_shown_count(db, case, len(ours_ids), exact, runs, budget)
        results.append(
            _result(
                "count above the table",
                case.name,
                f"{note}; exactly {exact:,}",
                shown,
                measure(lambda: naive_count(naive, case), runs=runs, budget=budget),
            )
        )
    return results


def check_shown(case: Case, shown: MessageCount, exact: int) -> None:
    """A figure on the page is the truth or less, and says which: exact, capped ("10,000+": more
    than that), or a lower bound ("at least 100")."""
    if shown.capped:
        ok = exact > shown.value
    elif shown.settled:
        ok = exact == shown.value
    else:
        ok = exact >= shown.value and shown.label.startswith("at least")
    if not ok:
        raise AssertionError(f"{case.name}: the page showed “{shown.label}” but exactly {exact:,} match")


def measure_shown_count(
    db: Database, case: Case, known: int, exact: int, runs: int, budget: float, warmup: int = 2
) -> tuple[Stats, str]:
    """The count as the page gets it: ``BackgroundCounts.for_page`` within its budget (``known``
    rows on the first page: the count itself when they are fewer than a page, else the lower
    bound), each run for new data (a new version), so no run is served an earlier run's count.  Only the wait the page makes is timed; then the run waits,
    untimed, for the exact figure, checks both against the naive exact count, and notes how long
    that took to arrive."""
    counts = BackgroundCounts()
    waited: list[float] = []
    arrived: list[float] = []
    labels: Counter[str] = Counter()
    started = time.perf_counter()
    for run in range(warmup + runs):
        t0 = time.perf_counter()
        shown = counts.for_page(db, case.actor, case.filter, run, page=1, page_size=PAGE_ROWS, rows=known)
        t1 = time.perf_counter()
        final = counts.wait(db, case.actor, case.filter) or shown
        t2 = time.perf_counter()
        check_shown(case, shown, exact)
        check_shown(case, final, exact)
        if run >= warmup:
            waited.append((t1 - t0) * 1000)
            arrived.append((t2 - t0) * 1000)
            labels[shown.label] += 1
        if len(waited) >= 5 and time.perf_counter() - started > budget:
            break
    said = ", ".join(f"“{label}” {n}×" for label, n in labels.most_common())
    note = f"shows {said}"
    if any(not label[:1].isdigit() for label in labels):
        ordered = sorted(arrived)
        note += f" at once, the exact figure after median {statistics.median(ordered):,.0f} ms"
        note += f" (p95 {ordered[math.ceil(0.95 * len(ordered)) - 1]:,.0f} ms)"
    return Stats(tuple(waited)), note


def _result(group: str, item: str, note: str, ours: Stats, naive: Stats) -> Result:
    return Result(group, item, ours, naive, note=note)


def apply_targets(results: list[Result], rows: int) -> None:
    """Every overview query and the count: p95 ≤ 30 ms at 1M rows, ≤ 60 ms at 10M."""
    limit = 30 if rows <= 1_000_000 else 60
    for result in results:
        result.target = f"p95 ≤ {limit} ms"
        result.met = check_max(result.ours, limit)
