"""Send and resend as a user would meet them, on SQLite and PostgreSQL.

The gateway is the simulated one (our own real component): ``gateway.submitted`` is what went
out, so "no gateway call" is checked on the gateway's side.
"""

import pytest
from sqlalchemy import func, select, update
from support import accepting, refusing

from sms_core.domain.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from sms_core.domain.statuses import SmsStatus as S
from sms_core.read_models.message_detail import get_message_detail
from sms_core.storage.models import ContactPhone, OrgUnit, SmsConsent, SmsMessage, StatusEvent
from sms_core.use_cases.accounts import load_actor
from sms_core.use_cases.consent import withdraw_consent
from sms_core.use_cases.sending import resend_sms, send_sms
from sms_core.use_cases.settings import REQUIRE_CONSENT_FOR_UNKNOWN, SENDING_ENABLED, change_setting

UNKNOWN_NUMBER = "+47 415 55 123"


def consented_phone(db, consent=True):
    """A contact number with (or without) active consent."""
    with db.session() as s:
        active = select(SmsConsent.phone_id).where(SmsConsent.withdrawn_at.is_(None))
        condition = ContactPhone.id.in_(active) if consent else ContactPhone.id.not_in(active)
        return s.scalars(
            select(ContactPhone).where(condition, ContactPhone.number.like("+474%") | ContactPhone.number.like("+479%"))
        ).first()


def test_accepted_send_is_recorded_before_and_after_the_gateway(demo_db, staff):
    gateway = accepting()
    result = send_sms(demo_db, staff, text="Hei! Timen din er i morgen.", phone=UNKNOWN_NUMBER, gateway=gateway)
    assert result.created and result.ok and result.message.status is S.ACCEPTED
    assert "accepted by the SMS gateway" in result.summary
    assert [sms.to for sms in gateway.submitted] == ["+4741555123"]
    assert gateway.submitted[0].sender == "OsloHelse" and "token=" in gateway.submitted[0].callback_url
    history = get_message_detail(demo_db, staff, result.message.id).history
    assert [h.status for h in history] == [S.UNKNOWN, S.ACCEPTED]


def test_contact_number_with_consent_is_sent_and_linked_to_the_contact(demo_db, staff):
    phone = consented_phone(demo_db)
    result = send_sms(
        demo_db, staff, text="Hello", contact_id=phone.contact_id, phone=phone.number, gateway=accepting()
    )
    assert result.message.status is S.ACCEPTED and result.message.contact_id == phone.contact_id


@pytest.mark.parametrize("outcome, status", [(refusing(1, 0), S.REJECTED), (refusing(0, 1), S.SENDING_FAILED)])
def test_gateway_refusal_and_failure(demo_db, staff, outcome, status):
    result = send_sms(demo_db, staff, text="Hello", phone=UNKNOWN_NUMBER, gateway=outcome)
    assert result.message.status is status and result.message.gateway_error
    assert not result.ok and "not sent" in result.summary


def test_pre_send_checks_in_order_record_a_message_and_call_no_gateway(demo_db, staff):
    gateway = accepting()
    admin = load_actor(demo_db, "admin")
    no_consent = consented_phone(demo_db, consent=False)
    # 4. no consent for this contact and number
    r4 = send_sms(demo_db, staff, text="a", contact_id=no_consent.contact_id, phone=no_consent.number, gateway=gateway)
    # 3. no phone number entered
    r3 = send_sms(demo_db, staff, text="b", phone="", gateway=gateway)
    # 2. the unit's representative has an invalid sender (takes precedence over a missing phone)
    with demo_db.session() as s:
        s.execute(
            update(OrgUnit).where(OrgUnit.id == staff.current_org_unit_id).values(sms_sender="Far too long a sender")
        )
    r2 = send_sms(demo_db, staff, text="c", phone="", gateway=gateway)
    # 1. sending switched off (takes precedence over everything)
    change_setting(demo_db, admin, SENDING_ENABLED, False)
    r1 = send_sms(demo_db, staff, text="d", phone="", gateway=gateway)
    assert [r.message.status for r in (r1, r2, r3, r4)] == [
        S.SENDING_NOT_ALLOWED,
        S.INVALID_REPRESENTATIVE,
        S.PHONE_NOT_ENTERED,
        S.CONSENT_NOT_REGISTERED,
    ]
    assert gateway.submitted == []
    assert all(not r.ok for r in (r1, r2, r3, r4))
    assert "11 characters" in get_message_detail(demo_db, staff, r2.message.id).history[0].detail


def test_typed_number_of_a_contact_cannot_bypass_withdrawn_consent(demo_db, staff):
    phone = consented_phone(demo_db)
    withdraw_consent(demo_db, staff, phone.id)
    gateway = accepting()
    result = send_sms(demo_db, staff, text="sneaky", phone=phone.number, gateway=gateway)
    assert result.message.status is S.CONSENT_NOT_REGISTERED and result.message.contact_id == phone.contact_id
    assert gateway.submitted == []


def test_unknown_numbers_need_consent_only_when_the_setting_says_so(demo_db, staff):
    change_setting(demo_db, load_actor(demo_db, "admin"), REQUIRE_CONSENT_FOR_UNKNOWN, True)
    result = send_sms(demo_db, staff, text="hi", phone=UNKNOWN_NUMBER, gateway=accepting())
    assert result.message.status is S.CONSENT_NOT_REGISTERED and result.message.contact_id is None


@pytest.mark.parametrize(
    "text, phone, field, words",
    [
        ("", UNKNOWN_NUMBER, "text", "Write the SMS text"),
        ("   \n ", UNKNOWN_NUMBER, "text", "Write the SMS text"),
        ("x" * 1001, UNKNOWN_NUMBER, "text", "at most 1000"),
        ("ok", "12", "phone", "too short"),
        ("ok", "not a number", "phone", "not a phone number"),
        ("a\x00b", UNKNOWN_NUMBER, "text", "U+0000"),
    ],
)
def test_bad_input_is_refused_at_its_field_and_nothing_is_recorded(demo_db, staff, text, phone, field, words):
    with demo_db.session() as s:
        before = s.scalar(select(func.count()).select_from(SmsMessage))
    with pytest.raises(InvalidInput) as caught:
        send_sms(demo_db, staff, text=text, phone=phone, gateway=accepting())
    assert caught.value.field == field and words in caught.value.message
    with demo_db.session() as s:
        assert s.scalar(select(func.count()).select_from(SmsMessage)) == before


def test_1000_characters_are_allowed(demo_db, staff):
    result = send_sms(demo_db, staff, text="y" * 1000, phone=UNKNOWN_NUMBER, gateway=accepting())
    assert result.message.segments == 7


def test_stored_segments_count_emoji_twice_as_the_network_bills_them(demo_db, staff):
    """1000 emoji are 1000 characters (allowed) but 2000 UTF-16 code units: 30 Unicode SMS."""
    gateway = accepting()
    emoji = send_sms(demo_db, staff, text="😊" * 1000, phone=UNKNOWN_NUMBER, gateway=gateway)
    assert emoji.message.segments == 30 and gateway.submitted[-1].unicode
    assert send_sms(demo_db, staff, text="😊" * 67, phone=UNKNOWN_NUMBER, gateway=gateway).message.segments == 2


def test_idempotency_key_makes_a_double_click_send_once(demo_db, staff):
    gateway = accepting()
    first = send_sms(demo_db, staff, text="once", phone=UNKNOWN_NUMBER, idempotency_key="k-1", gateway=gateway)
    second = send_sms(demo_db, staff, text="once", phone=UNKNOWN_NUMBER, idempotency_key="k-1", gateway=gateway)
    assert first.created and not second.created and first.message.id == second.message.id
    assert len(gateway.submitted) == 1


def test_sending_outside_ones_units_or_without_permission_is_refused(demo_db, staff):
    kari = load_actor(demo_db, "kari")
    with pytest.raises(PermissionDenied):
        send_sms(demo_db, kari, text="x", phone=UNKNOWN_NUMBER, org_unit_id=staff.current_org_unit_id)
    with demo_db.session() as s:
        from sms_core.storage.models import RolePermission

        s.query(RolePermission).filter_by(role="staff", permission="send_sms").delete()
    with pytest.raises(PermissionDenied, match="send and resend"):
        send_sms(demo_db, load_actor(demo_db, "staff"), text="x", phone=UNKNOWN_NUMBER)


def test_resend_makes_a_linked_copy_shown_as_resent(demo_db, staff):
    failed = send_sms(demo_db, staff, text="try me", phone=UNKNOWN_NUMBER, gateway=refusing(0, 1)).message
    gateway = accepting()
    result = resend_sms(demo_db, staff, failed.id, gateway=gateway)
    resend = result.message
    assert resend.status is S.RESENT and resend.resent and resend.original_id == failed.id
    assert (resend.text, resend.phone, resend.org_unit_id) == (failed.text, failed.phone, failed.org_unit_id)
    assert resend.sent_on > failed.sent_on and len(gateway.submitted) == 1
    assert get_message_detail(demo_db, staff, failed.id).resend_id == resend.id
    with pytest.raises(Conflict, match="already been resent"):
        resend_sms(demo_db, staff, failed.id, gateway=gateway)
    assert len(gateway.submitted) == 1


def test_only_accepted_timeout_and_failed_can_be_resent(demo_db, staff):
    rejected = send_sms(demo_db, staff, text="no", phone=UNKNOWN_NUMBER, gateway=refusing(1, 0)).message
    with pytest.raises(Conflict, match="this one is Rejected"):
        resend_sms(demo_db, staff, rejected.id, gateway=accepting())
    accepted = send_sms(demo_db, staff, text="yes", phone=UNKNOWN_NUMBER, gateway=accepting()).message
    assert resend_sms(demo_db, staff, accepted.id, gateway=accepting()).message.status is S.RESENT


def test_resend_runs_the_pre_send_checks_again(demo_db, staff):
    phone = consented_phone(demo_db)
    failed = send_sms(
        demo_db, staff, text="x", contact_id=phone.contact_id, phone=phone.number, gateway=refusing(0, 1)
    ).message
    withdraw_consent(demo_db, staff, phone.id)
    gateway = accepting()
    resend = resend_sms(demo_db, staff, failed.id, gateway=gateway).message
    assert resend.status is S.CONSENT_NOT_REGISTERED and resend.resent and gateway.submitted == []


def test_messages_of_other_units_look_like_missing_ones(demo_db, staff):
    message = send_sms(demo_db, staff, text="private", phone=UNKNOWN_NUMBER, gateway=refusing(0, 1)).message
    kari = load_actor(demo_db, "kari")
    for action in (
        lambda: get_message_detail(demo_db, kari, message.id),
        lambda: resend_sms(demo_db, kari, message.id),
    ):
        with pytest.raises(NotFound, match="that you can see"):
            action()
    with demo_db.session() as s:
        assert s.scalar(select(func.count()).select_from(SmsMessage).where(SmsMessage.original_id == message.id)) == 0
        assert s.scalar(select(func.count()).select_from(StatusEvent).where(StatusEvent.message_id == message.id)) == 2


def test_idempotency_keys_are_scoped_to_the_user_who_sends(demo_db, staff):
    """Another user's key — of another unit or the same one — is a different key: their SMS is
    sent, not answered with "already been recorded" or with the first user's message."""
    gateway = accepting()
    first = send_sms(demo_db, staff, text="mine", phone=UNKNOWN_NUMBER, idempotency_key="click-1", gateway=gateway)
    for username in ("kari", "admin"):  # Trondheim only; and one who shares Oslo with staff
        other = load_actor(demo_db, username)
        theirs = send_sms(
            demo_db, other, text="theirs", phone=UNKNOWN_NUMBER, idempotency_key="click-1", gateway=gateway
        )
        assert theirs.created and theirs.message.id != first.message.id and theirs.message.text == "theirs"
    again = send_sms(demo_db, staff, text="mine", phone=UNKNOWN_NUMBER, idempotency_key="click-1", gateway=gateway)
    assert not again.created and again.message.id == first.message.id
    with pytest.raises(InvalidInput) as too_long:
        send_sms(demo_db, staff, text="x", phone=UNKNOWN_NUMBER, idempotency_key="k" * 81, gateway=gateway)
    assert too_long.value.field == "idempotency_key" and "at most 80 characters" in too_long.value.message
