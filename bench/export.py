"""Export CSV of every message (all 50 units, the administrator): time and peak memory.

Each export runs in a process of its own (spawned, so it starts with nothing but the imports),
which does what the served app does for a download: a ticket made as the page's click makes one,
redeemed, and the app route's chunk generator (``use_cases.export_tickets.export_bytes``) written
to a file chunk by chunk, as the browser writes what it receives; it reports its peak resident
memory, so the figure is the served path's.  "Flat" means the peak for every message
is about the peak for one unit's tenth of them: memory follows the page of rows, not the rows.
The naive baseline reads every row at once (``.all()``) and then writes them, as the obvious code
would.  The file's size is noted: it is what the browser downloads, and what Streamlit's own
download button would have held in the app's memory.
"""

from __future__ import annotations

import csv
import io
import multiprocessing
import resource
import tempfile
import time

from bench.timing import Result, Stats
from sms_core.storage.database import Database

ADMIN = "admin"


def _export(url: str, unit_ids: list[int] | None, naive: bool, answers) -> None:
    """In the child: export, and answer (seconds, rows, bytes, peak RSS in MB)."""
    from sms_core.read_models.overview import OverviewFilter, rows_statement
    from sms_core.read_models.overview_export import _csv_row
    from sms_core.use_cases.accounts import load_actor
    from sms_core.use_cases.export_tickets import ExportTickets, export_bytes

    db = Database(url)
    actor = load_actor(db, ADMIN)
    f = OverviewFilter(org_unit_ids=unit_ids, time_zone="Europe/Oslo")
    with tempfile.TemporaryFile("w+b") as received:
        started = time.perf_counter()
        if naive:
            with db.session() as session:
                rows = session.execute(rows_statement(actor, f)).all()
            text = io.TextIOWrapper(received, encoding="utf-8-sig", newline="", write_through=True)
            csv.writer(text, lineterminator="\r\n").writerows(_csv_row(row, f.zone) for row in rows)
            text.flush()
            count = len(rows)
        else:
            tickets = ExportTickets()
            link = tickets.issue(db, actor.id, f)
            ticket = tickets.redeem(link.url.partition("ticket=")[2])
            for chunk in export_bytes(db, ticket):  # what the route sends, chunk by chunk
                received.write(chunk)
            count = link.progress.rows
        seconds = time.perf_counter() - started
        size = received.tell()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    db.dispose()
    answers.put((seconds, count, size, peak))


def run_export(url: str, unit_ids: list[int] | None = None, naive: bool = False) -> tuple[float, int, int, float]:
    context = multiprocessing.get_context("spawn")
    answers = context.Queue()
    child = context.Process(target=_export, args=(url, unit_ids, naive, answers))
    child.start()
    answer = answers.get(timeout=1800)
    child.join()
    return answer


def measure_export(db: Database, naive: Database, unit_id: int, rows: int, log, runs: int = 2) -> list[Result]:
    url = db.url.render_as_string(hide_password=False)
    naive_url = naive.url.render_as_string(hide_password=False)
    one_unit = run_export(url, [unit_id])
    ours = [run_export(url) for _ in range(runs)]
    log(f"  ours: {ours[0][1]:,} rows in {ours[0][0]:.1f} s, peak {ours[0][3]:.0f} MB (one unit: {one_unit[3]:.0f} MB)")
    theirs = [run_export(naive_url, naive=True)]
    log(f"  naive: {theirs[0][1]:,} rows in {theirs[0][0]:.1f} s, peak {theirs[0][3]:.0f} MB")
    counted = {answer[1] for answer in ours + theirs}
    if counted != {rows}:
        raise AssertionError(f"export wrote {counted} rows, not the {rows:,} messages")
    peak, unit_peak = max(a[3] for a in ours), one_unit[3]
    flat = peak <= unit_peak * 1.25 + 20
    rate = Result(
        "export CSV",
        f"every message ({rows:,} rows, all 50 units)",
        Stats(tuple(a[0] * 1000 for a in ours)),
        Stats(tuple(a[0] * 1000 for a in theirs)),
        target="peak memory flat",
        met=flat,
        note=(
            f"peak memory of the exporting process {peak:.0f} MB (one unit's {one_unit[1]:,} rows: {unit_peak:.0f} MB); "
            f"naive {theirs[0][3]:,.0f} MB; file {ours[0][2] / 1e6:,.0f} MB; "
            f"{rows / (sum(a[0] for a in ours) / len(ours)):,.0f} rows/s"
        ),
        extra={"peak_mb": peak, "one_unit_peak_mb": unit_peak, "naive_peak_mb": theirs[0][3]},
    )
    return [rate]
