"""Evaluating every alert rule of all 50 org units, as the worker does each minute.

Ours is ``sms_core.read_models.alert_figures.measure`` as ``evaluate_alerts`` calls it (the rules
of the issue's defaults for every unit, the gateway answering): one statement per rule over the
last minutes, grouped by unit, through the unit indexes.  The naive baseline asks the same of
each unit on its own — one query per rule and unit — on the copy without secondary indexes.
Both answers are compared.  The incidents' own writes are left out: they are a row per change,
not a cost that grows with the messages, and the bench database is reused between runs.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from bench.timing import Result, check_max, measure
from sms_core.domain.alert_rules import DEFAULT_RULES
from sms_core.read_models.alert_figures import measure as measure_figures
from sms_core.storage.database import Database
from sms_core.storage.models import OrgUnit

TARGET_MS = 50  # the figure at ten million messages, applied at every size


def our_figures(db: Database, units: list[int], now: datetime) -> dict:
    with db.session() as session:
        return measure_figures(session, {unit: DEFAULT_RULES for unit in units}, None, now)


def naive_figures(db: Database, units: list[int], now: datetime) -> dict:
    found = {}
    with db.session() as session:
        for unit in units:
            for kind, rule in DEFAULT_RULES.items():
                found.update(measure_figures(session, {unit: {kind: rule}}, None, now))
    return found


def measure_alerts(db: Database, naive: Database, now: datetime, runs: int, budget: float) -> list[Result]:
    with db.session() as session:
        units = sorted(session.scalars(select(OrgUnit.id)))
    ours, theirs = our_figures(db, units, now), naive_figures(naive, units, now)
    if ours != theirs:
        raise AssertionError(f"alert figures differ from the per-unit queries:\n{ours}\n{theirs}")
    result = Result(
        "alerts",
        f"evaluating all rules for {len(units)} units",
        measure(lambda: our_figures(db, units, now), runs=runs, budget=budget),
        measure(lambda: naive_figures(naive, units, now), runs=runs, budget=budget),
        target=f"p95 ≤ {TARGET_MS} ms",
        note=f"{sum(f.messages for f in ours.values()):,} messages in the rules' windows",
    )
    result.met = check_max(result.ours, TARGET_MS)
    return [result]
