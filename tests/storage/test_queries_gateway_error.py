"""The overview's gateway-error filter on SQLite and PostgreSQL: exactly the messages with that
error, of the reader's units only, in the table, the count and the export alike — and on
PostgreSQL read from the failure-reasons indexes, as the Delivery rates page's counts are."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from sms_core.demo.seed import seed_demo
from sms_core.domain.statuses import SmsStatus as S
from sms_core.read_models.delivery_rates import LONG_ERROR_BYTES
from sms_core.read_models.overview import (
    OverviewFilter,
    Sort,
    count_messages,
    count_statement,
    export_csv,
    list_messages,
    page_statement,
)
from sms_core.storage.models import SmsMessage
from sms_core.use_cases.accounts import load_actor, unit_id_by_code

T0 = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)
ABSENT = "Absent subscriber"


class Messages:
    """The demo's units and users with messages of our own; ``add`` returns the new one's id."""

    def __init__(self, db):
        self.db = db
        self.staff, self.kari = load_actor(db, "staff"), load_actor(db, "kari")  # Oslo + Bergen; Trondheim
        self.added = 0

    def add(self, error: str | None, status=S.SENDING_FAILED, unit="OSL") -> int:
        self.added += 1
        with self.db.session() as s:
            message = SmsMessage(
                text=f"Message {self.added}",
                phone="+4791234567",
                org_unit_id=unit_id_by_code(self.db, unit),
                sent_on=T0 + timedelta(minutes=self.added),
                status=status,
                gateway_error=error,
            )
            s.add(message)
            s.flush()
            return message.id

    def found(self, actor=None, **filters) -> dict[str, set[int]]:
        """What the table, the count and the export each say match (the export by message text)."""
        actor, f = actor or self.staff, OverviewFilter(**filters)
        rows = list_messages(self.db, actor, f, page_size=100)
        exported = [line.split(",")[0] for line in "".join(export_csv(self.db, actor, f)).splitlines()[1:]]
        assert count_messages(self.db, actor, f).value == len(rows) == len(exported), filters
        assert sorted(exported) == sorted(r.text for r in rows), filters
        return {r.id for r in rows}


@pytest.fixture
def messages(demo_base_db):
    return Messages(demo_base_db)


def test_exactly_the_messages_with_that_error_in_my_units(messages):
    failed = messages.add(ABSENT)
    rejected = messages.add(ABSENT, S.REJECTED, unit="BGN")
    delivered_late = messages.add(ABSENT, S.RECEIVED)  # a late "delivered" keeps the error it had
    trondheim = messages.add(ABSENT, unit="TRD")  # not staff's unit
    for other in ("absent subscriber", "Absent subscriber (27)", " Absent subscriber", None):
        messages.add(other)
    assert messages.found(gateway_error=ABSENT) == {failed, rejected, delivered_late}
    assert messages.found(gateway_error=ABSENT, statuses={S.SENDING_FAILED}) == {failed}
    assert messages.found(gateway_error=ABSENT, statuses={S.SENDING_FAILED, S.REJECTED}) == {failed, rejected}
    assert messages.found(gateway_error=ABSENT, org_unit_ids={unit_id_by_code(messages.db, "TRD")}) == set()
    assert messages.found(messages.kari, gateway_error=ABSENT) == {trondheim}
    assert messages.found(gateway_error=ABSENT, statuses={S.SENDING_FAILED}, sort=Sort.STATUS_DESC) == {failed}


def test_the_error_is_compared_exactly_not_as_a_pattern(messages):
    percent = messages.add("Quota 100% used_up")
    messages.add("Quota 100X usedXup")
    assert messages.found(gateway_error="Quota 100% used_up") == {percent}
    assert messages.found(gateway_error="Quota 100%") == set()
    assert messages.found(gateway_error="a\x00b") == set()  # PostgreSQL cannot even be asked for a NUL


@pytest.mark.parametrize("characters", [LONG_ERROR_BYTES // 2, LONG_ERROR_BYTES // 2 + 1])
def test_errors_on_both_sides_of_the_long_error_index_are_found(messages, characters):
    """Errors longer than LONG_ERROR_BYTES (here "ø", two bytes each) have an index of their own."""
    error = "ø" * characters
    mine = messages.add(error)
    messages.add(error + "!")
    messages.add(error[:-1])
    assert messages.found(gateway_error=error, statuses={S.SENDING_FAILED}) == {mine}
    assert messages.found(gateway_error=error) == {mine}


@pytest.mark.parametrize("error, index", [(ABSENT, "failure_errors"), ("x" * 2001, "failure_long_errors")])
def test_postgres_reads_a_failure_reasons_messages_from_its_partial_index(pg_db, error, index):
    """With the table and the other indexes priced out, the planner can still answer the page and
    its count from the partial index (migration 0004): proof that the filter implies its predicate."""
    seed_demo(pg_db, messages=0)
    messages = Messages(pg_db)
    for n in range(200):
        messages.add(error if n % 20 == 0 else f"Error {n % 7}", S.SENDING_FAILED if n % 2 else S.RECEIVED)
    f = OverviewFilter(gateway_error=error, statuses={S.SENDING_FAILED})
    with pg_db.engine.connect() as conn:
        conn.execute(text("ANALYZE sms_messages"))
        conn.execute(text("SET enable_seqscan = off"))
        for statement in (page_statement(messages.staff, f), count_statement(messages.staff, f)):
            compiled = str(statement.compile(pg_db.engine, compile_kwargs={"literal_binds": True}))
            plan = "\n".join(conn.exec_driver_sql(f"EXPLAIN {compiled}").scalars())
            assert f"ix_sms_messages_{index}" in plan, plan
