"""The API's group commit (``record_sends``) without a savepoint per send: a send that repeats an
idempotency key or names no contact is answered on its own, and every other send is recorded;
the consents the batch reads at once give each send the verdict it would get alone."""

import time

import pytest
from sqlalchemy import func, select

from sms_core.config import DEFAULTS
from sms_core.delivery.api.sends import SendBatcher
from sms_core.domain.errors import InvalidInput, NotFound
from sms_core.domain.statuses import SmsStatus
from sms_core.storage.models import Contact, ContactPhone, SmsMessage, StatusEvent
from sms_core.use_cases.consent import register_consent, withdraw_consent
from sms_core.use_cases.recording import prepare_send, record_prepared, record_sends

NUMBER = "+4741555123"


def prepared(actor, key=None, contact_id=None, phone=None):
    """A send to ``phone``, to the contact's ``phone``, to the contact alone, or else to NUMBER."""
    return prepare_send(
        actor,
        text="Batch test",
        phone=NUMBER if phone is None and contact_id is None else phone,
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


# Numbers of this test's own contacts (the demo's are random: checked unused below).
KARI_MOBILE, KARI_WORK, OLA_MOBILE, SHARED, UNKNOWN = (
    "+4746100001",
    "+4746100002",
    "+4746100003",
    "+4746100004",
    "+4746100005",
)


@pytest.fixture
def consents(demo_db, staff):
    """Kari: mobile with consent, work number never registered, a number shared with Per with
    consent.  Ola: one number, consent withdrawn.  Per: no consent on the shared number."""
    with demo_db.session() as s:
        numbers = [KARI_MOBILE, KARI_WORK, OLA_MOBILE, SHARED, UNKNOWN]
        assert not s.scalars(select(ContactPhone).where(ContactPhone.number.in_(numbers))).all()
        kari = Contact(name="Kari Batch", phones=[ContactPhone(number=n, label="Mobile") for n in numbers[:2]])
        kari.phones.append(ContactPhone(number=SHARED, label="Shared"))
        ola = Contact(name="Ola Batch", phones=[ContactPhone(number=OLA_MOBILE, label="Mobile")])
        per = Contact(name="Per Batch", phones=[ContactPhone(number=SHARED, label="Shared")])
        s.add_all([kari, ola, per])
        s.flush()
        phones = {(p.contact_id, p.number): p.id for p in [*kari.phones, *ola.phones]}
        ids = kari.id, ola.id
    kari_id, ola_id = ids
    for phone in (KARI_MOBILE, SHARED):
        register_consent(demo_db, staff, phones[(kari_id, phone)], "Signed form")
    register_consent(demo_db, staff, phones[(ola_id, OLA_MOBILE)], "Phone call")
    withdraw_consent(demo_db, staff, phones[(ola_id, OLA_MOBILE)])
    return kari_id, ola_id, phones


def outcome(recorded):
    return InvalidInput if isinstance(recorded, InvalidInput) else (recorded.status, recorded.contact_id)


def recorded_alone(db, send):
    """As the dialog records a send: its own transaction, its own consent queries."""
    try:
        with db.session() as s:
            return outcome(record_prepared(s, send))
    except InvalidInput as refusal:
        return outcome(refusal)


def test_each_send_of_a_batch_gets_its_own_consent_verdict(demo_db, staff, consents):
    """The batch reads the numbers' consents at once; each send still gets what it would alone."""
    kari, ola, _ = consents
    ok, refused = SmsStatus.UNKNOWN, SmsStatus.CONSENT_NOT_REGISTERED
    cases = [
        (prepared(staff, phone=KARI_MOBILE), (ok, kari)),  # typed: recorded on the contact it belongs to
        (prepared(staff, phone=OLA_MOBILE), (refused, ola)),  # typed: withdrawn cannot be bypassed
        (prepared(staff, phone=UNKNOWN), (ok, None)),  # nobody's number
        (prepared(staff, contact_id=kari, phone=KARI_WORK), (refused, kari)),  # the contact's, never registered
        (prepared(staff, contact_id=ola), (refused, ola)),  # the contact's only number, looked up
        (prepared(staff, contact_id=kari, phone=SHARED), (ok, kari)),  # Kari's own consent on a shared number
        (prepared(staff, phone=SHARED), (refused, None)),  # typed: Per never consented on it
        (prepared(staff, contact_id=ola, phone=KARI_MOBILE), InvalidInput),  # not the contact's number
        (prepared(staff, phone=KARI_MOBILE), (ok, kari)),  # the same number again
    ]
    together = [outcome(recorded) for recorded in record_sends(demo_db, [send for send, _ in cases])]
    alone = [recorded_alone(demo_db, send) for send, _ in cases]
    assert together == alone == [expected for _, expected in cases]


def test_consent_withdrawn_between_batches_refuses_the_next(demo_db, staff, consents):
    kari, _, phones = consents
    (before,) = record_sends(demo_db, [prepared(staff, phone=KARI_MOBILE)])
    withdraw_consent(demo_db, staff, phones[(kari, KARI_MOBILE)])
    after, by_contact = record_sends(
        demo_db, [prepared(staff, phone=KARI_MOBILE), prepared(staff, contact_id=kari, phone=KARI_MOBILE)]
    )
    assert before.status == SmsStatus.UNKNOWN
    assert after.status == by_contact.status == SmsStatus.CONSENT_NOT_REGISTERED
