"""Every service call that reads or touches messages, as a user outside the message's org unit:
nothing is seen, counted, exported, resent or learned — whatever ids or filters are asked for.
And a user without a permission is refused by the service itself, not by a hidden button."""

import threading

import pytest
from sqlalchemy import func, select
from support import accepting, refusing

from sms_core.domain.errors import NotFound, PermissionDenied
from sms_core.domain.statuses import SmsStatus
from sms_core.read_models.delivery_rates import Period, delivery_report
from sms_core.read_models.message_detail import get_message, get_message_detail
from sms_core.read_models.overview import OverviewFilter, count_messages, export_csv, list_messages
from sms_core.storage.models import RolePermission, SettingChange
from sms_core.use_cases.accounts import load_actor
from sms_core.use_cases.sending import resend_sms, send_sms
from sms_core.use_cases.settings import SENDING_ENABLED, change_setting, get_settings


@pytest.fixture
def oslo_secret(demo_db):
    """A failed (so resendable) message of Oslo Sentrum with a text nobody else should see."""
    staff = load_actor(demo_db, "staff")
    failing = refusing(0, 1)
    return send_sms(
        demo_db,
        staff,
        text="Oslo secret 4711",
        phone="+4741555123",
        org_unit_id=staff.current_org_unit_id,
        gateway=failing,
    ).message


def test_outsider_cannot_see_count_export_resend_or_learn_of_a_message(demo_db, oslo_secret, reliability):
    kari = load_actor(demo_db, "kari")  # Trondheim only
    assert oslo_secret.org_unit_id not in kari.org_unit_ids
    asking_for_oslo = OverviewFilter(text="Oslo secret", org_unit_ids=frozenset({oslo_secret.org_unit_id}))
    everything = OverviewFilter(org_unit_ids=None, statuses=frozenset(SmsStatus))
    for f in (asking_for_oslo, everything):
        assert all(row.id != oslo_secret.id for row in list_messages(demo_db, kari, f, page_size=1000))
        assert "Oslo secret" not in "".join(export_csv(demo_db, kari, f))
    assert count_messages(demo_db, kari, asking_for_oslo).value == 0
    refused = 0
    for look in (get_message, get_message_detail):
        with pytest.raises(NotFound) as hidden:
            look(demo_db, kari, oslo_secret.id)
        with pytest.raises(NotFound) as missing:
            look(demo_db, kari, 987_654_321)
        assert hidden.value.message.replace(str(oslo_secret.id), "N") == missing.value.message.replace("987654321", "N")
        refused += 1
    with pytest.raises(NotFound):
        resend_sms(demo_db, kari, oslo_secret.id, gateway=accepting())
    refused += 1
    report = delivery_report(demo_db, load_actor(demo_db, "admin"), Period.preset("7 days"), [oslo_secret.org_unit_id])
    assert report.current.attempts >= 1  # the admin, who belongs to Oslo, does count it
    reliability.record("Access control", service_calls_refused=refused)


def test_permissions_are_enforced_by_the_services(demo_db, oslo_secret, reliability):
    with demo_db.session() as s:
        s.query(RolePermission).filter_by(role="staff").delete()
    staff = load_actor(demo_db, "staff")  # still in Oslo, but with no permission at all
    calls = {
        "list": lambda: list_messages(demo_db, staff, OverviewFilter()),
        "count": lambda: count_messages(demo_db, staff, OverviewFilter()),
        "export": lambda: "".join(export_csv(demo_db, staff, OverviewFilter())),
        "detail": lambda: get_message_detail(demo_db, staff, oslo_secret.id),
        "send": lambda: send_sms(demo_db, staff, text="x", phone="+4741555123"),
        "resend": lambda: resend_sms(demo_db, staff, oslo_secret.id),
        "delivery rates": lambda: delivery_report(demo_db, staff, Period.preset("7 days")),
        "settings": lambda: change_setting(demo_db, staff, SENDING_ENABLED, False),
    }
    refused = 0
    for _name, call in calls.items():
        with pytest.raises(PermissionDenied):
            call()
        refused += 1
    assert get_settings(demo_db).sending_enabled
    reliability.record("Access control", service_calls_refused=refused)


def test_two_tabs_changing_a_setting_last_write_wins_with_an_audit_trail(demo_db, reliability):
    admin = load_actor(demo_db, "admin")
    barrier = threading.Barrier(2)

    def tab(value):
        barrier.wait()
        change_setting(demo_db, admin, SENDING_ENABLED, value)

    threads = [threading.Thread(target=tab, args=(v,)) for v in (False, True)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with demo_db.session() as s:
        trail = s.scalars(
            select(SettingChange).where(SettingChange.key == SENDING_ENABLED).order_by(SettingChange.id)
        ).all()
        assert s.scalar(select(func.count()).select_from(SettingChange)) == 2
    assert len(trail) == 2 and {t.new_value for t in trail} == {"true", "false"}
    assert get_settings(demo_db).sending_enabled == (trail[-1].new_value == "true")
    assert trail[-1].old_value == trail[0].new_value  # each write saw the one before it
    reliability.record("Concurrency", concurrent_setting_changes=len(threads), settings_audit_entries=len(trail))


def test_send_without_view_cannot_resend_or_learn_of_a_message(demo_db, oslo_secret):
    """A resend would hand back the original's text, number and status: it needs view too, and
    without it a message of one's own unit looks exactly as one that does not exist."""
    from sms_core.domain.permissions import Permission
    from sms_core.domain.statuses import SmsStatus as S
    from sms_core.storage.models import SmsMessage
    from sms_core.use_cases.resend_rules import resend_problem

    with demo_db.session() as s:
        s.query(RolePermission).filter_by(role="staff", permission="view_sms").delete()
    sender = load_actor(demo_db, "staff")  # in Oslo, may send, may not view
    assert sender.can(Permission.SEND_SMS) and not sender.can(Permission.VIEW_SMS)
    with demo_db.session() as s:
        before = s.scalar(select(func.count()).select_from(SmsMessage))
        delivered = s.scalar(
            select(SmsMessage.id).where(
                SmsMessage.status == S.RECEIVED, SmsMessage.org_unit_id.in_(sender.org_unit_ids)
            )
        )
    assert delivered is not None
    answers = []
    for message_id in (oslo_secret.id, delivered, 987_654_321):
        with pytest.raises(NotFound) as refused:
            resend_sms(demo_db, sender, message_id, gateway=accepting())
        answers.append(refused.value.message.replace(str(message_id), "N"))
    assert len(set(answers)) == 1 and "Oslo secret" not in answers[0] and "Received" not in answers[0]
    with demo_db.session() as s:
        assert s.scalar(select(func.count()).select_from(SmsMessage)) == before
    assert "view" in resend_problem(sender, oslo_secret)
