"""RELIABILITY.md, written from what the reliability tests saw in this run.

A test takes the ``reliability`` fixture and records its figures once it has checked them
(``reliability.record("Worker crashes", kills=112, messages=474, duplicates=0, lost=0)``).  At
the end of a run that passed and recorded anything, RELIABILITY.md at the project root is
rewritten: one section per area, the figures of each test, and how the run was made.  A failing
run leaves the file alone, so it never shows figures from a run that did not pass; so does a run
without the reliability tier (``make check``), whose few figures would not be a report.  Set
``RELIABILITY_OUT`` to write elsewhere (``make soak`` writes its own file).
"""

from __future__ import annotations

import os
import platform
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pytest

from sms_core.config import PROJECT_ROOT

INTRO = """# Reliability

Written by the test run itself (`tests/reliability_log.py`) from the figures each reliability test
checked; a run with a failure leaves the file alone.  Quick versions run in `make test` (CI);
`make soak` runs the long ones and writes `RELIABILITY-soak.md`.
"""


@dataclass
class ReliabilityLog:
    sections: dict[str, list[tuple[str, dict]]] = field(default_factory=lambda: defaultdict(list))
    current_test: str = ""

    def record(self, area: str, **figures) -> None:
        """Figures a test has asserted (counts, rates); the test's name says what was proved."""
        self.sections[area].append((self.current_test, figures))


_log = ReliabilityLog()


@pytest.fixture
def reliability(request) -> ReliabilityLog:
    _log.current_test = request.node.nodeid
    return _log


@pytest.fixture
def tally(reliability):
    """Counts for the bad-input tests: the cases hypothesis really ran (they vary with its database
    and shrinking), recorded after the last one; a failing run writes no RELIABILITY.md, so only
    passed cases are reported."""
    counts = Counter()
    yield counts
    reliability.record("Bad input", **counts)


def _total(values: list) -> object:
    numbers = [v for v in values if isinstance(v, (int, float)) and not isinstance(v, bool)]
    return sum(numbers) if len(numbers) == len(values) else ""


def render(log: ReliabilityLog, seconds: float) -> str:
    lines = [
        INTRO,
        f"- **Run:** {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {seconds:.0f} s, "
        f"CI={os.environ.get('CI', 'false')}, Python {platform.python_version()}, {os.cpu_count()} CPUs",
        "",
    ]
    totals: dict[str, list] = defaultdict(list)
    for area in sorted(log.sections):
        lines += [f"## {area}", ""]
        for test, figures in log.sections[area]:
            shown = ", ".join(
                f"{k.replace('_', ' ')} **{v:,}**" if isinstance(v, int) else f"{k.replace('_', ' ')} **{v}**"
                for k, v in figures.items()
            )
            lines.append(f"- `{test}`: {shown}")
            for key in ("faults_injected", "cases", "messages_checked", "duplicates", "lost"):
                if key in figures:
                    totals[key].append(figures[key])
        lines.append("")
    summary = [f"{k.replace('_', ' ')}: **{_total(v):,}**" for k, v in totals.items() if _total(v) != ""]
    if summary:
        lines[2:2] = ["- **Totals:** " + ", ".join(summary)]
    return "\n".join(lines).rstrip() + "\n"


_started = datetime.now(UTC)


def pytest_sessionfinish(session, exitstatus):
    if exitstatus != 0 or not _log.sections:
        return
    if not any(item.get_closest_marker("reliability") for item in session.items):
        return
    out = Path(os.environ.get("RELIABILITY_OUT") or PROJECT_ROOT / "RELIABILITY.md")
    out.write_text(render(_log, (datetime.now(UTC) - _started).total_seconds()))
