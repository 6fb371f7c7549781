"""A flood of delivery reports over HTTP, shuffled, replayed, forged and out of order: every
message ends in the state its first final report gives, forgeries change nothing, no crash."""

import os
import random
import time
import urllib.error
import urllib.request
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlencode

from sqlalchemy import select
from support import ReportServer, accepted_messages

from sms_core.demo.seed import seed_demo
from sms_core.domain.statuses import SmsStatus as S
from sms_core.gateways.simulated import SimulatedGateway
from sms_core.storage.models import SmsMessage, StatusEvent

MESSAGES = int(os.environ.get("RELIABILITY_FLOOD_MESSAGES", "2300"))  # about 4.5 reports each
FINAL = {"delivered": S.RECEIVED, "undelivered": S.SENDING_FAILED, "rejected": S.REJECTED}


def test_ten_thousand_shuffled_reports(pg_db, reliability):
    seed_demo(pg_db, messages=0)
    messages = accepted_messages(pg_db, MESSAGES, text="flood")
    rng = random.Random(11)
    reports, expected = [], {}
    for message_id, token in messages:
        finals = rng.sample(list(FINAL), k=rng.choice([1, 2]))  # sometimes two contradicting finals
        sequence = [("buffered", token)] + [(kind, token) for kind in finals] + [(finals[0], token)]  # + a replay
        sequence.append(("delivered", "forged-" + token))
        reports += [(message_id, kind, tok, position) for position, (kind, tok) in enumerate(sequence)]
        expected[message_id] = finals[0]  # the first final report that arrives wins…
    rng.shuffle(reports)
    arrival = {}
    for message_id, kind, token, _ in reports:  # …in the order they arrive, which is the shuffled one
        if kind in FINAL and not token.startswith("forged-"):
            arrival.setdefault(message_id, kind)
    server = ReportServer(pg_db, SimulatedGateway())  # the worker's HTTP app; reports name their kind
    base = server.url

    def post(report):
        message_id, kind, token, _ = report
        try:
            with urllib.request.urlopen(
                f"{base}?{urlencode({'id': message_id, 'token': token, 'type': kind})}", timeout=30
            ) as r:
                return r.status
        except urllib.error.HTTPError as exc:
            return exc.code

    started = time.perf_counter()
    try:
        with ThreadPoolExecutor(16) as pool:  # reports are posted in arrival order, 16 at a time
            answers = Counter(pool.map(post, reports))
    finally:
        server.close()
    elapsed = time.perf_counter() - started
    assert len(reports) >= 10_000
    forged = sum(1 for r in reports if r[2].startswith("forged-"))
    assert answers[403] == forged and answers[200] == len(reports) - forged and set(answers) == {200, 403}
    with pg_db.session() as s:
        final = dict(s.execute(select(SmsMessage.id, SmsMessage.status).where(SmsMessage.text == "flood")).all())
        events = s.execute(select(StatusEvent.message_id, StatusEvent.status)).all()
    finals_applied = Counter(m for m, status in events if status.final)
    all_events = Counter(m for m, _ in events)
    # With 16 reports in flight at once, two finals for one message may race; either way exactly
    # one final status is applied and it is one of the message's own final reports.
    for message_id, _ in messages:
        assert final[message_id] in FINAL.values()
        assert finals_applied[message_id] == 1  # replays, contradictions and forgeries added nothing
        assert all_events[message_id] <= 2  # plus "buffered" when it came before the final word
    agreed = sum(final[m] is FINAL[arrival[m]] for m, _ in messages)
    reliability.record(
        "Webhook flood",
        reports=len(reports),
        messages_checked=len(messages),
        forgeries_refused=answers[403],
        reports_per_second=round(len(reports) / elapsed),
        duplicates=sum(n > 1 for n in finals_applied.values()),
        lost=sum(final[m] not in FINAL.values() for m, _ in messages),
    )
    print(
        f"\nreports={len(reports)} forged={forged} per_second={len(reports) / elapsed:.0f} "
        f"first_arrival_won={agreed}/{len(messages)}"
    )
