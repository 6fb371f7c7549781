"""The result table: printed to the terminal and written into BENCHMARKS.md.

BENCHMARKS.md is partly written by hand (method, explanations of misses); each run replaces only
its own section, between ``<!-- bench:ROWS -->`` markers, so a run at 1M does not erase the one
at 10M and the prose around them stays.
"""

from __future__ import annotations

import os
import platform
import re
import subprocess
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import text

from bench.timing import Result, Stats
from sms_core.config import PROJECT_ROOT
from sms_core.storage.database import Database

BENCHMARKS = PROJECT_ROOT / "BENCHMARKS.md"
SETTINGS = (
    "shared_buffers",
    "work_mem",
    "effective_cache_size",
    "random_page_cost",
    "plan_cache_mode",
    "max_parallel_workers_per_gather",
)


def machine_cpu() -> str:
    cpuinfo = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
    model = re.search(r"model name\s*:\s*(.+)", cpuinfo)
    return f"{os.cpu_count()} × {model.group(1).strip() if model else platform.processor()}"


def machine(db: Database) -> dict[str, str]:
    """What the figures were measured on."""
    meminfo = Path("/proc/meminfo").read_text() if Path("/proc/meminfo").exists() else ""
    total = re.search(r"MemTotal:\s+(\d+) kB", meminfo)
    with db.engine.connect() as conn:
        version = conn.scalar(text("SHOW server_version"))
        settings = {name: conn.scalar(text(f"SHOW {name}")) for name in SETTINGS}
        size = conn.scalar(text("SELECT pg_size_pretty(pg_database_size(current_database()))"))
        table = conn.scalar(text("SELECT pg_size_pretty(pg_total_relation_size('sms_messages'))"))
    return {
        "CPU": machine_cpu(),
        "Memory": f"{int(total.group(1)) / 1024 / 1024:.0f} GB" if total else "unknown",
        "PostgreSQL": f"{version} on the same machine; " + ", ".join(f"{k} {v}" for k, v in settings.items()),
        "Python": platform.python_version(),
        "Database": f"{size} (sms_messages with its indexes: {table})",
        "Load average at start": " ".join(f"{x:.1f}" for x in os.getloadavg()),
        "Commit": current_commit(),
    }


def current_commit() -> str:
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=PROJECT_ROOT, capture_output=True, text=True)
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", ".", ":!BENCHMARKS.md"],
            cwd=PROJECT_ROOT,
            capture_output=True,
            text=True,
        )  # the file being written is no change
        return head.stdout.strip() + (" with uncommitted changes" if dirty.stdout.strip() else "")
    except OSError:
        return "unknown"


def figure(stats: Stats | None, which: str) -> str:
    if stats is None:
        return "–"
    value = getattr(stats, which)
    if stats.unit == "ms":
        return f"{value:,.1f} ms" if value < 100 else f"{value:,.0f} ms"
    return f"{value:,.0f} {stats.unit}"


def ratio(result: Result) -> str:
    if result.ratio is None:
        if result.naive is not None and not result.ours.median and result.naive.median:
            return "∞ (0 vs some)"
        return "–"
    return f"{result.ratio:,.1f}×"


def verdict(result: Result) -> str:
    return {True: "met", False: "**missed**", None: ""}[result.met]


HEADER = ("What", "Ours median", "Ours p95", "Naive median", "Naive p95", "Ratio", "Target", "", "Note")


def rows(results: list[Result]) -> list[tuple[str, ...]]:
    return [
        (
            f"{r.group}: {r.item}",
            figure(r.ours, "median"),
            figure(r.ours, "p95"),
            figure(r.naive, "median"),
            figure(r.naive, "p95"),
            ratio(r),
            r.target,
            verdict(r),
            r.note,
        )
        for r in results
    ]


def print_table(results: list[Result]) -> None:
    table = [HEADER, *rows(results)]
    widths = [min(max(len(row[i]) for row in table), 60) for i in range(len(HEADER))]
    for row in table:
        print("  ".join(cell[:60].ljust(width) for cell, width in zip(row, widths, strict=False)).rstrip())


def markdown(rows_seeded: int, info: dict[str, str], results: list[Result], context: list[str]) -> str:
    lines = [f"### {rows_seeded:,} messages — {datetime.now(UTC):%Y-%m-%d %H:%M} UTC", ""]
    lines += [f"- **{key}:** {value}" for key, value in info.items()]
    lines += [f"- {line}" for line in context]
    lines += ["", "| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]
    lines += ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in rows(results)]
    return "\n".join(lines) + "\n"


def write_benchmarks(rows_seeded: int, section: str, path: Path = BENCHMARKS) -> None:
    """Replace this row count's section of BENCHMARKS.md (or add it at the end)."""
    start, end = f"<!-- bench:{rows_seeded}:start -->", f"<!-- bench:{rows_seeded}:end -->"
    block = f"{start}\n{section}{end}"
    current = path.read_text() if path.exists() else "# Benchmarks\n"
    if start in current and end in current:
        before, rest = current.split(start, 1)
        updated = before + block + rest.split(end, 1)[1]
    else:
        updated = current.rstrip("\n") + "\n\n" + block + "\n"
    path.write_text(updated)


def update_rows(rows_seeded: int, results: list[Result], remeasured: str, path: Path = BENCHMARKS) -> None:
    """Put a partial run's rows into this row count's section in place of the same rows, and say
    so in the section's list (``remeasured``): the other rows keep the full run's figures and date.

    A full run at 10M takes most of an hour; re-measuring the figures a change touched should not.
    """
    start, end = f"<!-- bench:{rows_seeded}:start -->", f"<!-- bench:{rows_seeded}:end -->"
    current = path.read_text()
    if start not in current or end not in current:
        raise SystemExit(f"BENCHMARKS.md has no section for {rows_seeded:,} messages: run the whole bench first")
    before, rest = current.split(start, 1)
    section, after = rest.split(end, 1)
    lines = section.split("\n")
    fresh = {row[0]: "| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in rows(results)}
    for i, line in enumerate(lines):
        what = line[2:].split(" | ", 1)[0] if line.startswith("| ") else None
        if what in fresh:
            lines[i] = fresh.pop(what)
    table_end = max(i for i, line in enumerate(lines) if line.startswith("|")) + 1
    lines[table_end:table_end] = list(fresh.values())  # rows the full run did not have yet
    header = lines.index(next(line for line in lines if line.startswith("| What")))
    lines.insert(header - 1, f"- {remeasured}")
    path.write_text(before + start + "\n".join(lines) + end + after)
