"""``make bench``: seed PostgreSQL with BENCH_ROWS messages, measure the issue's list beside a
naive baseline, print the table and write it into BENCHMARKS.md.

Environment:
  BENCH_ROWS       messages to seed (default 1,000,000); a database already seeded with as many
                   is reused, so a second run only measures
  BENCH_RESEED=1   seed again even so
  BENCH_ONLY       comma-separated parts to run: overview, rates, alerts, retention, export, page, reports,
                   replies, live, import, api (default all; a partial run prints its table but leaves
                   BENCHMARKS.md alone unless BENCH_UPDATE=1; api alone needs no seeded database: it makes
                   and drops one of its own)
  BENCH_UPDATE=1   with BENCH_ONLY: put the partial run's rows in place of the same rows of the
                   section for BENCH_ROWS, and add a line saying when, at which commit and which parts
  BENCH_ADMIN_URL  a PostgreSQL database to create the bench databases from
                   (default postgresql+psycopg://postgres@127.0.0.1:5432/postgres)
"""

from __future__ import annotations

import os

# The page part imports Streamlit; outside `streamlit run` it warns on every call, in every worker
# process too.  Set before Streamlit is imported, and inherited by the processes started later.
os.environ.setdefault("STREAMLIT_LOGGER_LEVEL", "error")
import sys
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import select, text

from bench import alerts, api, contact_import, delivery_breakdowns, delivery_rates, live, overview, replies, worker
from bench.database import ADMIN_URL, ADMIN_USER, BENCH_USER, BenchDatabases, message_count, prepare
from bench.report import current_commit, machine, machine_cpu, markdown, print_table, update_rows, write_benchmarks
from bench.timing import Result
from sms_core.domain.permissions import Actor
from sms_core.storage.database import Database
from sms_core.storage.models import OrgUnit, SmsMessage
from sms_core.storage.rollup_daily import ALL_MESSAGES
from sms_core.storage.rollup_daily import TABLE as DAILY_COUNTS
from sms_core.use_cases.accounts import load_actor

PARTS = ("overview", "rates", "alerts", "retention", "export", "page", "reports", "replies", "live", "import", "api")
WORD = "prescription"  # in about one message in ten: common enough that the count reaches its cap
RUNS, BUDGET = 30, 20.0  # per measurement: up to 30 timed runs, or 20 s for a slow naive query


@dataclass(frozen=True)
class Scene:
    """Who looks at what: the people, the largest unit, and where the seeded history ends."""

    lead: Actor  # team lead in 10 units
    admin: Actor  # administrator in all 50
    unit_id: int  # the largest unit: the most rows behind every filter
    unit_name: str
    newest: datetime  # the newest seeded message
    digits: str  # four digits of a phone number that messages of the unit went to

    @property
    def last_day(self) -> date:
        return self.newest.date()


def scene(db: Database) -> Scene:
    with db.session() as session:
        unit_id, name = session.execute(
            select(OrgUnit.id, OrgUnit.name).where(OrgUnit.code == "OSL")  # weighted heaviest by the demo seed
        ).one()
        newest = session.scalar(select(SmsMessage.sent_on).order_by(SmsMessage.sent_on.desc()).limit(1))
        phone = session.scalar(
            select(SmsMessage.phone)
            .where(SmsMessage.org_unit_id == unit_id, SmsMessage.phone.is_not(None))
            .order_by(SmsMessage.sent_on.desc())
            .limit(1)
        )
    return Scene(load_actor(db, BENCH_USER), load_actor(db, ADMIN_USER), unit_id, name, newest, phone[-4:])


def run_parts(dbs: BenchDatabases, s: Scene, parts: set[str], log) -> list[Result]:
    db, naive = dbs.db, dbs.naive
    results: list[Result] = []
    if "overview" in parts:
        log("overview queries…")
        found = []
        for case in overview.cases(s.lead, s.unit_id, s.last_day, WORD, s.digits):
            measured = overview.measure_case(db, naive, case, RUNS, BUDGET)
            log(
                f"  {case.name}: "
                + "; ".join(f"{r.group} p95 {r.ours.p95:.1f} ms (naive {r.naive.p95:,.0f})" for r in measured)
            )
            found += measured
        overview.apply_targets(found, dbs.rows)
        results += found
    if "rates" in parts:
        log("delivery rates…")
        found = delivery_rates.measure_reports(db, naive, s.admin, s.unit_id, s.last_day, s.newest, RUNS, BUDGET)
        delivery_rates.apply_targets(found, dbs.rows)
        newer = delivery_breakdowns.measure_figures(db, naive, s.admin, s.last_day, RUNS, BUDGET)
        delivery_breakdowns.apply_targets(newer)
        results += found + newer
    if "alerts" in parts:
        log("alert rules…")
        results += alerts.measure_alerts(db, naive, s.newest, RUNS, BUDGET)
    if "retention" in parts:  # on a copy, made while nothing else holds a connection to the database
        log("retention (on a copy of the database)…")
        from bench.retention import measure_retention

        admin_url = os.environ.get("BENCH_ADMIN_URL") or ADMIN_URL
        results += measure_retention(db, s.lead, s.unit_id, s.last_day, dbs.rows, log, admin_url)
    if "export" in parts:
        log("export CSV of every message…")
        from bench.export import measure_export

        results += measure_export(db, naive, s.unit_id, message_count(db), log)
    if "page" in parts:
        log("overview page render (AppTest)…")
        from bench import page  # Streamlit only here: the worker part's spawned processes re-import this module

        results.append(page.measure_page(db, naive, BENCH_USER, dbs.rows, runs=20, budget=60))
    if "reports" in parts:
        log("delivery reports applied per second…")
        results += worker.measure_throughput(
            db, list(s.admin.org_unit_ids), s.newest, rounds=5, per_round=4000, log=log
        )
    if "replies" in parts:
        log("incoming SMS handled per second…")
        results += replies.measure_replies(db, s.unit_id, s.newest, rounds=5, per_round=4000, log=log)
    if "live" in parts:
        log("live updates (about 3 minutes)…")
        results += live.measure_live(db, s.lead, s.unit_id, s.newest, samples=30, idle_seconds=60, log=log)
    if "import" in parts:
        log("contact import (10,000 rows)…")
        results += contact_import.measure_import(db, s.admin)
    if "api" in parts:
        log("HTTP API: sends and callbacks per second…")
        results += api.measure_api(_admin_url(), log=log)
    return results


def _update(rows: int, parts: set[str], results: list[Result], commit: str, log) -> None:
    if os.environ.get("BENCH_UPDATE") != "1":
        return
    when = f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC"
    cpu = machine_cpu()
    loads = " ".join(f"{x:.1f}" for x in os.getloadavg())
    update_rows(
        rows,
        results,
        f"**Re-measured {when}** on {cpu}, at commit {commit} (BENCH_ONLY={','.join(sorted(parts))}, load average at the end "
        f"{loads}): the rows of {', '.join(sorted(parts))}; the other rows are from the run above",
    )
    log(f"\nrows of {', '.join(sorted(parts))} updated in BENCHMARKS.md (section for {rows:,} messages)")


def _admin_url() -> str:
    return os.environ.get("BENCH_ADMIN_URL") or ADMIN_URL


def main() -> None:
    rows = int(os.environ.get("BENCH_ROWS", "").replace("_", "") or 1_000_000)
    parts = set(filter(None, os.environ.get("BENCH_ONLY", "").split(","))) or set(PARTS)
    if parts - set(PARTS):
        sys.exit(f"BENCH_ONLY: unknown parts {', '.join(sorted(parts - set(PARTS)))}; choose from {', '.join(PARTS)}")
    log = lambda line: print(line, flush=True)  # noqa: E731
    started = time.monotonic()
    if parts == {"api"}:  # a database of its own: the seeded one is not needed
        results = api.measure_api(_admin_url(), log=log)
        print_table(results)
        _update(rows, parts, results, current_commit(), log)
        return
    dbs = prepare(
        rows, os.environ.get("BENCH_ADMIN_URL") or ADMIN_URL, reseed=os.environ.get("BENCH_RESEED") == "1", log=log
    )
    info = machine(dbs.db)
    s = scene(dbs.db)
    context = [
        f"{message_count(dbs.db):,} messages over 50 org units, {s.newest:%Y-%m-%d} back two years; "
        f"the default view is {s.unit_name} ({_unit_share(dbs.db, s.unit_id):.1%} of the messages)",
        f"text filter “{WORD}”, phone filter “{s.digits}”; the user in 10 units is {BENCH_USER}",
        (f"seeded in {dbs.seconds_to_seed:.0f} s" if dbs.seconds_to_seed else "database reused from an earlier run"),
    ]
    results = run_parts(dbs, s, parts, log)
    context.append(
        f"load average at the end: {' '.join(f'{x:.1f}' for x in os.getloadavg())}; "
        f"whole run {time.monotonic() - started:.0f} s"
    )
    print()
    print_table(results)
    if parts == set(PARTS):
        write_benchmarks(rows, markdown(rows, info, results, context))
        log(f"\nwritten to BENCHMARKS.md (section for {rows:,} messages)")
    else:
        _update(rows, parts, results, info["Commit"], log)
    for database in (dbs.db, dbs.naive):
        database.dispose()


def _unit_share(db: Database, unit_id: int) -> float:
    """The unit's share of all messages, from the daily roll-up (a count of the table would take seconds)."""
    with db.engine.connect() as conn:
        unit, total = conn.execute(
            text(
                f"SELECT sum({ALL_MESSAGES}) FILTER (WHERE org_unit_id = :u), sum({ALL_MESSAGES}) FROM {DAILY_COUNTS}"
            ),
            {"u": unit_id},
        ).one()
    return unit / total if total else 0.0


if __name__ == "__main__":
    main()
