"""The HTTP API: ``POST /api/v1/sms`` accepted per second and its p95 latency with 50 concurrent
clients, beside the dialog's own send path measured in the same run; and status callbacks
delivered per second.

The rate is measured with every client sending its next request as soon as the last is answered
(the most the API takes); the latency with the 50 clients offering 500 requests a second together
(the rate the target names).  With 50 clients that never pause, each request waits for the 49
before it, so the latency there is 50 ÷ the rate by arithmetic (Little's law), not a property of
the API; at a given load it is what a calling system meets.

The API runs as the stand-alone worker serves it — uvicorn in a process of its own, the routes of
``sms_core.delivery.http`` with the API mounted — and the clients are threads of this process,
each on one keep-alive connection, as an organisation's system would call it.  The dialog's path
is ``send_sms`` as Send SMS calls it (the simulated gateway answering at once), from 50 threads of
one process.  Both write to a database of their own (``sms_bench_api``: the demo's units, users and
contacts, no history), made and dropped by this part, so the shared bench database and its
migrations are left alone: sending is inserts, whose cost does not grow with the table.

The callbacks are those of messages recorded by a key with a callback URL, delivered by the
worker's own loop (``deliver_callbacks``) to a local receiver that answers 200 at once.
"""

from __future__ import annotations

import http.client
import json
import multiprocessing
import random
import threading
import time

from sqlalchemy import text
from sqlalchemy.engine import make_url

from bench.database import admin_engine
from bench.timing import Result, Stats, check_max, check_min
from sms_core.config import DEFAULTS
from sms_core.demo.seed import seed_demo
from sms_core.domain.setting_definitions import API_REQUESTS_PER_MINUTE
from sms_core.storage.database import Database
from sms_core.storage.migrate import migrate
from sms_core.use_cases.accounts import load_actor, unit_id_by_code
from sms_core.use_cases.api_keys import create_api_key, key_actor
from sms_core.use_cases.sending import send_sms
from sms_core.use_cases.settings import change_setting

NAME = "sms_bench_api"
CLIENTS = 50
PER_ROUND = 2500  # requests a round, over the 50 clients
OFFERED = 500  # requests a second the latency is measured at: the throughput target, over the 50 clients
CALLBACKS = 2000


def _serve_api(url: str, port: int, ready) -> None:
    import uvicorn

    from sms_core.delivery.api.app import build_api
    from sms_core.delivery.http import http_app
    from sms_core.delivery.reports import ReportBatcher
    from sms_core.gateways.simulated import OutcomeMix, SimulatedGateway

    db = Database(url, pool_size=20, max_overflow=20)
    app = http_app(SimulatedGateway(OutcomeMix(0, 0, 0, 0), latency=0), ReportBatcher(db), api=build_api(db, DEFAULTS))
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)
    server = uvicorn.Server(config)
    threading.Thread(target=lambda: (_wait_started(server), ready.set()), daemon=True).start()
    server.run()


def _wait_started(server) -> None:
    while not server.started:
        time.sleep(0.05)


def _receive_callbacks(port: int, ready) -> None:
    import uvicorn
    from starlette.applications import Starlette
    from starlette.responses import PlainTextResponse
    from starlette.routing import Route

    async def take(request):
        await request.body()
        return PlainTextResponse("ok")

    server = uvicorn.Server(
        uvicorn.Config(Starlette(routes=[Route("/cb", take, methods=["POST"])]), port=port, log_level="warning")
    )
    threading.Thread(target=lambda: (_wait_started(server), ready.set()), daemon=True).start()
    server.run()


def _client(
    port: int, key: str, count: int, latencies: list[float], failures: list[str], interval: float = 0.0
) -> None:
    """``count`` sends one after the other, or one every ``interval`` seconds (from a random
    start within the first), timed from when each was due: a request the client could not send
    on time because the one before was slow counts its wait, so a stall is never hidden."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    due = time.perf_counter() + random.random() * interval
    for i in range(count):
        body = json.dumps({"to": "+4741555123", "text": f"Påminnelse {i}", "reference": f"bench-{i}"})
        if interval:
            time.sleep(max(0.0, due - time.perf_counter()))
        started = due if interval else time.perf_counter()
        due += interval
        connection.request("POST", "/api/v1/sms", body, headers)
        response = connection.getresponse()
        response.read()
        latencies.append((time.perf_counter() - started) * 1000)
        if response.status != 201:
            failures.append(str(response.status))
    connection.close()


def _threads(target, args: tuple, n: int) -> float:
    """``n`` threads running ``target(*args)`` at once; the seconds until the last is done."""
    threads = [threading.Thread(target=target, args=args) for _ in range(n)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - started


def _api_rounds(port: int, key: str, rounds: int, log) -> tuple[list[float], list[float]]:
    """Rates with every client sending as fast as it is answered; latencies at ``OFFERED``."""
    rates, latencies, failures = [], [], []
    _threads(_client, (port, key, 5, [], failures), CLIENTS)  # connect, warm up
    for r in range(rounds):
        got: list[float] = []
        elapsed = _threads(_client, (port, key, PER_ROUND // CLIENTS, got, failures), CLIENTS)
        rates.append(len(got) / elapsed)
        paced: list[float] = []
        _threads(_client, (port, key, PER_ROUND // CLIENTS, paced, failures, CLIENTS / OFFERED), CLIENTS)
        latencies += paced
        log(
            f"  API round {r + 1}: {rates[-1]:,.0f} accepted/s (p95 {Stats(tuple(got)).p95:.1f} ms at full speed); "
            f"p95 {Stats(tuple(paced)).p95:.1f} ms at {OFFERED}/s offered"
        )
    if failures:
        raise AssertionError(f"{len(failures)} API requests were not answered 201: {sorted(set(failures))}")
    return rates, latencies


def _dialog_rounds(db: Database, rounds: int, log) -> tuple[list[float], list[float]]:
    from sms_core.gateways.simulated import OutcomeMix, SimulatedGateway

    staff, gateway = load_actor(db, "staff"), SimulatedGateway(OutcomeMix(0, 0, 0, 0), latency=0)
    rates, latencies = [], []

    def sender(count: int, got: list[float]) -> None:
        for i in range(count):
            started = time.perf_counter()
            send_sms(db, staff, text=f"Hei {i}", phone="+4741555123", gateway=gateway)
            got.append((time.perf_counter() - started) * 1000)

    for r in range(rounds):
        got: list[float] = []
        elapsed = _threads(sender, (PER_ROUND // CLIENTS, got), CLIENTS)
        rates.append(len(got) / elapsed)
        latencies += got
        log(f"  dialog round {r + 1}: {rates[-1]:,.0f} sent/s, p95 {Stats(tuple(got)).p95:.1f} ms")
    return rates, latencies


def _callbacks(db: Database, admin, unit_id: int, port: int, log) -> float:
    from sms_core.delivery.callbacks import deliver_callbacks
    from sms_core.use_cases.api_callbacks import pending_callbacks

    made = create_api_key(db, admin, org_unit_id=unit_id, name="Callbacks", callback_url=f"http://127.0.0.1:{port}/cb")
    actor = key_actor(db, made.secret)
    for i in range(CALLBACKS):
        send_sms(db, actor, text=f"Svar {i}", phone="+4741555124", submit=False)
    started = time.perf_counter()
    while pending_callbacks(db):
        deliver_callbacks(db, limit=200)
    rate = CALLBACKS / (time.perf_counter() - started)
    log(f"  callbacks: {rate:,.0f} delivered/s")
    return rate


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _fresh_database(admin_url: str) -> str:
    engine = admin_engine(admin_url)
    with engine.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{NAME}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{NAME}"'))
    engine.dispose()
    url = make_url(admin_url).set(database=NAME).render_as_string(hide_password=False)
    db = Database(url)
    migrate(db)
    seed_demo(db, messages=0)
    db.dispose()
    return url


def _drop_database(admin_url: str) -> None:
    engine = admin_engine(admin_url)
    with engine.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{NAME}" WITH (FORCE)'))
    engine.dispose()


def _started(target, *args) -> multiprocessing.Process:
    context = multiprocessing.get_context("spawn")
    ready = context.Event()
    process = context.Process(target=target, args=(*args, ready), daemon=True)
    process.start()
    if not ready.wait(60):
        process.kill()
        raise AssertionError(f"{target.__name__} did not start within 60 s")
    return process


def measure_api(admin_url: str, rounds: int = 3, log=print) -> list[Result]:
    """The API's send rate and latency, the dialog's beside it, and callbacks delivered per second."""
    url = _fresh_database(admin_url)
    db = Database(url, pool_size=CLIENTS, max_overflow=10)
    processes = []
    try:
        admin = load_actor(db, "admin")
        change_setting(db, admin, API_REQUESTS_PER_MINUTE, 1_000_000)  # the rate limit is not what is measured
        unit_id = unit_id_by_code(db, "OSL")
        key = create_api_key(db, admin, org_unit_id=unit_id, name="Bench").secret
        port = _free_port()
        processes.append(_started(_serve_api, url, port))
        api_rates, api_times = _api_rounds(port, key, rounds, log)
        dialog_rates, dialog_times = _dialog_rounds(db, rounds, log)
        receiver = _free_port()
        processes.append(_started(_receive_callbacks, receiver))
        callback_rates = [_callbacks(db, admin, unit_id, receiver, log) for _ in range(rounds)]
    finally:
        for process in processes:
            process.kill()
        db.dispose()
        _drop_database(admin_url)
    accepted, latency = Stats(tuple(api_rates), unit="/s"), Stats(tuple(api_times))
    note = f"{CLIENTS} concurrent clients, keep-alive, {PER_ROUND:,} requests a round; one uvicorn process"
    return [
        Result(
            "HTTP API",
            "POST /api/v1/sms accepted per second",
            accepted,
            Stats(tuple(dialog_rates), unit="/s"),
            target="≥ 500/s",
            met=check_min(accepted, 500),
            note=f"{note}; baseline: the dialog's send_sms (gateway answering at once), {CLIENTS} threads",
        ),
        Result(
            "HTTP API",
            f"POST /api/v1/sms latency at {OFFERED}/s",
            latency,
            Stats(tuple(dialog_times)),
            target="p95 ≤ 50 ms",
            met=check_max(latency, 50),
            note=f"{CLIENTS} clients each sending every {CLIENTS / OFFERED:.1f} s, timed from when each "
            "request was due until its 201; baseline: one send_sms call of the dialog at full speed",
        ),
        Result(
            "HTTP API",
            "status callbacks delivered per second",
            Stats(tuple(callback_rates), unit="/s"),
            note=f"{CALLBACKS:,} signed callbacks a round, the worker's deliver_callbacks to a local receiver",
        ),
    ]
