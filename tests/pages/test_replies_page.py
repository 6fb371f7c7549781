"""Replies with AppTest: the Replies page lists the replies of the user's units with the
overview's filters, the selected message's detail on the overview shows its replies, and the
delivery rates count the opt-outs."""

from __future__ import annotations

from sqlalchemy import select
from support import accepting, consented_number
from test_app_shell import open_page, run_as
from test_overview_page import overview, select_row, table

from sms_core.gateways.base import IncomingMessage
from sms_core.storage.models import SmsMessage, utcnow
from sms_core.use_cases.accounts import load_actor, unit_id_by_code
from sms_core.use_cases.replies import receive_reply
from sms_core.use_cases.sending import send_sms


def newest_sent(db, unit: str = "OSL") -> SmsMessage:
    """The newest demo message of the unit that went to the gateway: what a reply answers."""
    with db.session() as s:
        return s.scalar(
            select(SmsMessage)
            .where(SmsMessage.org_unit_id == unit_id_by_code(db, unit), SmsMessage.dlr_token.is_not(None))
            .order_by(SmsMessage.sent_on.desc(), SmsMessage.id.desc())
            .limit(1)
        )


def answer(db, text: str, unit: str = "OSL", gateway_id: str | None = None) -> SmsMessage:
    message = newest_sent(db, unit)
    sms = IncomingMessage(message.phone, text, None, gateway_id or text, utcnow())
    assert receive_reply(db, "simulated", sms).text == "received"
    return message


def open_replies(username: str = "staff"):
    return open_page(run_as(username), "sms-replies")


def test_the_replies_of_my_units_with_the_message_they_answer(app_env):
    message = answer(app_env, "Kan vi flytte timen?")
    answer(app_env, "STOPP", gateway_id="stop")
    at = open_replies()
    assert at.title[0].value == "Replies"
    rows = at.dataframe[0].value[:2]  # the newest; the demo history has older replies below
    assert list(rows["Text"]) == ["STOPP", "Kan vi flytte timen?"]
    assert list(rows["Consent"]) == ["Opt-out", ""]
    assert set(rows["Answers"]) == {message.text}
    assert all(link.startswith("/sms-messages?phone=") for link in rows["SMS"])
    at.text_input(key="rp_text").set_value("flytte timen").run()
    assert "1 reply matches." in [c.value for c in at.caption]


def test_another_units_user_sees_none_of_them(app_env):
    answer(app_env, "Takk for sist, Oslo")
    at = open_replies("kari")
    at.text_input(key="rp_text").set_value("Oslo").run()
    assert at.dataframe[0].value.empty
    assert "No replies match the filters." in [i.value for i in at.info]


def test_the_filters_narrow_the_list(app_env):
    answer(app_env, "Takk skal du ha")
    answer(app_env, "Hvem sendte dette, lurer jeg på?")
    at = open_replies()
    at.text_input(key="rp_text").set_value("LURER jeg").run()
    assert list(at.dataframe[0].value["Text"]) == ["Hvem sendte dette, lurer jeg på?"]
    at.text_input(key="rp_text").set_value("").run()
    at.text_input(key="rp_phone").set_value("+47 000 00 000").run()
    assert at.dataframe[0].value.empty


def test_a_new_reply_shows_on_the_next_run_without_a_click(app_env):
    at = open_replies()
    assert "Kommer litt senere" not in list(at.dataframe[0].value["Text"])
    answer(app_env, "Kommer litt senere")
    at.run()
    assert at.dataframe[0].value["Text"][0] == "Kommer litt senere"


def test_the_selected_messages_detail_shows_its_replies(app_env):
    contact_id, number = consented_number(app_env)
    staff = load_actor(app_env, "staff")
    send_sms(app_env, staff, text="Svar meg", phone=number, contact_id=contact_id, gateway=accepting())
    answer(app_env, "Ja, det passer")
    at = overview()
    assert table(at)["Text"][0] == "Svar meg"
    at = select_row(at, 0)
    table_, history, replies = (d.value for d in at.dataframe)  # AppTest gives a dataframe no key
    assert list(replies["Reply"]) == ["Ja, det passer"]
    assert any("1 reply" in c.value for c in at.caption)


def test_delivery_rates_count_the_opt_outs(app_env):
    answer(app_env, "STOP")
    at = open_page(run_as("lead"), "sms-delivery-rates")
    assert next(m.value for m in at.metric if m.label == "Opt-outs by SMS reply") == "1"
