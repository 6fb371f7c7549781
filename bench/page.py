"""A whole overview page render through Streamlit's AppTest, as a user opening the page.

Each run is a new AppTest session (a new browser tab, in effect): app.py resolves the user,
builds the menu, and the overview draws its filters, counts and reads its first page.  The time
is the server side only (``AppTest.run``), which also includes compiling app.py and the page
(a real server compiles them once; AppTest does it on every run).  The naive baseline is the same
page pointed at the copy without secondary indexes.
"""

from __future__ import annotations

import os
import time
import tracemalloc

from streamlit.testing.v1 import AppTest

from bench.timing import Result, Stats, check_max
from sms_core import config as config_module
from sms_core.app_server import app_runtime
from sms_core.config import PROJECT_ROOT
from sms_core.storage.database import Database

APP = str(PROJECT_ROOT / "app.py")


def use_database(db: Database) -> None:
    """Point the app (AppTest runs it in this process) at ``db``, as tests/conftest.py does."""
    os.environ["DATABASE_URL"] = db.url.render_as_string(hide_password=False)
    os.environ["SMS_EMBEDDED_WORKER"] = "false"  # no worker thread, no demo traffic: just the page
    os.environ["SMS_DEMO_TRAFFIC"] = "0"
    os.environ["SMS_DEMO_MODE"] = "true"  # the sidebar's user picker, which render() signs in with
    config_module.get_config.cache_clear()
    app_runtime.clear()  # the page's next run builds the process's runtime for this database


def render(username: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    at.session_state["demo_user"] = username
    at.run()
    if at.exception:
        raise AssertionError(f"the overview failed: {at.exception}")
    if not at.dataframe or len(at.dataframe[0].value) == 0:
        raise AssertionError("the overview drew no table rows")
    return at


def time_renders(db: Database, username: str, runs: int, budget: float) -> Stats:
    use_database(db)
    render(username)  # warm: imports, the change watcher, the database pool
    samples: list[float] = []
    started = time.perf_counter()
    while len(samples) < runs and (len(samples) < 5 or time.perf_counter() - started < budget):
        at = AppTest.from_file(APP, default_timeout=120)
        at.session_state["demo_user"] = username
        t0 = time.perf_counter()
        at.run()
        samples.append((time.perf_counter() - t0) * 1000)
        if at.exception:
            raise AssertionError(f"the overview failed: {at.exception}")
    return Stats(tuple(samples))


def peak_memory(db: Database, username: str) -> float:
    """Python memory allocated at the peak of one render (MB, tracemalloc): the page must hold one
    page of rows, never the table, so this must not grow with the number of messages."""
    use_database(db)
    render(username)
    tracemalloc.start()
    try:
        render(username)
        return tracemalloc.get_traced_memory()[1] / 1e6
    finally:
        tracemalloc.stop()


def measure_page(db: Database, naive: Database, username: str, rows: int, runs: int, budget: float) -> Result:
    ours = time_renders(db, username, runs, budget)
    theirs = time_renders(naive, username, runs, budget)
    memory = peak_memory(db, username)
    use_database(db)
    return Result(
        "page render",
        "overview page, new session (AppTest)",
        ours,
        theirs,
        target="≤ 300 ms at 10M",
        met=check_max(ours, 300),
        note=f"peak Python memory during a render: {memory:.1f} MB",
        extra={"peak_memory_mb": memory},
    )
