"""The API's group commit (``record_sends``) without a savepoint per send: a send that repeats an
idempotency key or names no contact is answered on its own, and every other send is recorded."""

import time

from sqlalchemy import func, select

from sms_core.config import DEFAULTS
from sms_core.delivery.api.sends import SendBatcher
from sms_core.domain.errors import NotFound
from sms_core.storage.models import SmsMessage, StatusEvent
from sms_core.use_cases.recording import prepare_send, record_prepared, record_sends

NUMBER = "+4741555123"


def prepared(actor, key=None, contact_id=None):
    return prepare_send(
        actor,
        text="Batch test",
        phone=NUMBER if contact_id is None else None,
        contact_id=contact_id,
        org_unit_id=None,
        idempotency_key=key,
        submit=False,
        config=DEFAULTS,
        reference=None,
        standard_text_id=None,
    )


def test_a_batch_with_a_repeated_key_and_a_missing_contact_records_the_others(demo_db, staff):
    (earlier,) = record_sends(demo_db, [prepared(staff, key="booking-1")])
    batch = [
        prepared(staff, key="booking-2"),
        prepared(staff, key="booking-2"),  # the same key again, in the same batch
        prepared(staff, contact_id=10**9),  # no such contact
        prepared(staff),
        prepared(staff, key="booking-1"),  # taken by the earlier batch
    ]
    first, repeat, missing, plain, again = record_sends(demo_db, batch)
    assert isinstance(missing, NotFound)
    assert repeat.id == first.id and again.id == earlier.id
    assert len({earlier.id, first.id, plain.id}) == 3
    with demo_db.session() as s:
        texts = s.scalar(select(func.count()).select_from(SmsMessage).where(SmsMessage.text == "Batch test"))
        events = s.scalars(
            select(StatusEvent.message_id).where(StatusEvent.message_id.in_([earlier.id, first.id, plain.id]))
        ).all()
    assert texts == 3 and sorted(events) == sorted([earlier.id, first.id, plain.id])


def test_a_key_taken_by_a_concurrent_transaction_fails_the_batch_which_is_recorded_send_by_send(demo_db, staff):
    """PostgreSQL: the batch read the taken keys before; a key taken meanwhile makes its one insert
    fail, and SendBatcher records the sends again one by one (SQLite's single writer makes the
    batch wait until the other commits).  Either way the repeat gets the other's message."""
    race, plain = prepared(staff, key="booking-race"), prepared(staff)
    batcher = SendBatcher(demo_db)
    try:
        with demo_db.session() as other:  # a send of another process, not yet committed
            theirs = record_prepared(other, race)
            futures = [batcher.submit(race), batcher.submit(plain)]
            time.sleep(1.0)  # the batch has read the keys and waits on the one it inserts
        answered, recorded = (future.result(timeout=30) for future in futures)
    finally:
        batcher.close()
    assert answered["id"] == theirs.id
    assert recorded["id"] != theirs.id and recorded["status"] == "unknown"
