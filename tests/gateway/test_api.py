"""The HTTP API /api/v1 against the served routes, on SQLite and PostgreSQL: every endpoint and
every refusal as a calling system meets them, and the message each call leaves in the overview."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import func, select

from sms_core.delivery.http import MAX_BODY
from sms_core.delivery.worker import Worker
from sms_core.domain.setting_definitions import API_REQUESTS_PER_MINUTE
from sms_core.read_models.message_detail import get_message_detail
from sms_core.storage.models import SmsConsent, SmsMessage
from sms_core.use_cases.accounts import unit_id_by_code
from sms_core.use_cases.api_keys import create_api_key, revoke_api_key
from sms_core.use_cases.settings import change_setting

NUMBER = "+4741555123"


def send(api, text="Hei fra booking", **body):
    return api.call("POST", "/api/v1/sms", {"to": NUMBER, "text": text, **body})


def contact_with_consent(api, external_id="patient-7", consent=True):
    status, contact, _ = api.call(
        "PUT", f"/api/v1/contacts/{external_id}", {"name": "Kari Nordmann", "numbers": [{"number": "415 55 777"}]}
    )
    assert status == 201, contact
    if consent:
        status, contact, _ = api.call(
            "PUT",
            f"/api/v1/contacts/{external_id}/consent",
            {"number": "+4741555777", "consent": True, "source": "Booking form"},
        )
        assert status == 200 and contact["numbers"][0]["consent"] is True
    return contact


def test_send_answers_201_at_once_and_the_worker_hands_it_to_the_gateway(api):
    status, message, headers = send(api, reference="booking-1")
    assert status == 201, message
    assert message["status"] == "unknown" and message["reference"] == "booking-1" and message["segments"] == 1
    assert headers["Location"] == f"/api/v1/sms/{message['id']}" == message["links"]["self"]
    assert api.gateway.submitted == []  # the request did not wait for the gateway

    Worker(api.db, api.gateway).run_once()
    status, shown, _ = api.call("GET", f"/api/v1/sms/{message['id']}")
    assert status == 200 and shown["status"] == "accepted" and shown["text"] == "Hei fra booking"
    assert [h["status"] for h in shown["history"]] == ["unknown", "accepted"]
    assert [sms.message_id for sms in api.gateway.submitted] == [message["id"]]
    detail = get_message_detail(api.db, api.admin, message["id"])
    assert detail.sent_by == "API key Booking system"  # what the overview's detail panel says


def test_a_message_refused_by_a_pre_send_check_is_recorded_and_answered_with_its_status(api):
    contact_with_consent(api, consent=False)
    status, message, _ = api.call("POST", "/api/v1/sms", {"contact": {"external_id": "patient-7"}, "text": "Time"})
    assert status == 201 and message["status"] == "consent_not_registered"
    assert message["status_label"] == "Consent is not registered" and message["to"] == "+4741555777"
    Worker(api.db, api.gateway).run_once()
    assert api.gateway.submitted == []

    api.call(
        "PUT", "/api/v1/contacts/patient-7/consent", {"number": "+47 415 55 777", "consent": True, "source": "Call"}
    )
    status, message, _ = api.call("POST", "/api/v1/sms", {"contact": {"external_id": "patient-7"}, "text": "Time"})
    assert status == 201 and message["status"] == "unknown"


def test_contacts_are_created_updated_and_their_consent_withdrawn_with_the_source(api):
    contact_with_consent(api)
    status, contact, _ = api.call(
        "PUT",
        "/api/v1/contacts/patient-7",
        {
            "name": "Kari Nordmann",
            "email": "kari@example.org",
            "numbers": [{"number": "+4741555777"}, {"number": "+4741555888", "label": "Work"}],
        },
    )
    assert status == 200 and contact["email"] == "kari@example.org"
    assert [(n["number"], n["label"], n["consent"]) for n in contact["numbers"]] == [
        ("+4741555777", "Mobile", True),  # kept, with its consent
        ("+4741555888", "Work", False),
    ]
    status, contact, _ = api.call(
        "PUT",
        "/api/v1/contacts/patient-7/consent",
        {"number": "+4741555777", "consent": False, "source": "Patient portal"},
    )
    assert status == 200 and contact["numbers"][0]["consent"] is False
    with api.db.session() as s:
        withdrawn = select(SmsConsent.withdrawn_source).where(SmsConsent.source == "Booking form")
        assert s.scalar(withdrawn) == "Patient portal"
    status, problem, _ = api.call(
        "PUT", "/api/v1/contacts/patient-7/consent", {"number": "+4799999999", "consent": True, "source": "x"}
    )
    assert status == 422 and problem["field"] == "number"
    status, problem, _ = api.call(
        "PUT", "/api/v1/contacts/nobody/consent", {"number": NUMBER, "consent": True, "source": "x"}
    )
    assert status == 404


def test_twenty_concurrent_repeats_of_one_idempotency_key_create_one_message(api):
    headers = {"Idempotency-Key": "booking-42-reminder"}
    body = {"to": NUMBER, "text": "Påminnelse", "reference": "booking-42"}
    with ThreadPoolExecutor(20) as pool:
        answers = list(pool.map(lambda _: api.call("POST", "/api/v1/sms", body, headers=headers), range(20)))
    assert {status for status, _, _ in answers} == {201}
    assert len({answer["id"] for _, answer, _ in answers}) == 1
    assert sum(h.get("Idempotent-Replayed") == "true" for _, _, h in answers) == 19
    with api.db.session() as s:
        assert s.scalar(select(func.count()).select_from(SmsMessage).where(SmsMessage.reference == "booking-42")) == 1

    status, problem, _ = api.call("POST", "/api/v1/sms", {**body, "text": "Another text"}, headers=headers)
    assert status == 422 and problem["field"] == "Idempotency-Key" and "different request body" in problem["detail"]
    # Another key's same Idempotency-Key is simply another key.
    other = create_api_key(api.db, api.admin, org_unit_id=api.unit_id, name="Billing").secret
    status, answer, _ = api.call("POST", "/api/v1/sms", body, key=other, headers=headers)
    assert status == 201 and answer["id"] != answers[0][1]["id"]


def test_another_units_message_is_not_found_exactly_like_a_missing_one(api):
    bergen = create_api_key(api.db, api.admin, org_unit_id=unit_id_by_code(api.db, "BGN"), name="Bergen").secret
    _, theirs, _ = api.call("POST", "/api/v1/sms", {"to": NUMBER, "text": "Bergen"}, key=bergen)
    for path in (f"/api/v1/sms/{theirs['id']}", f"/api/v1/sms/{theirs['id'] + 1000}"):
        status, problem, headers = api.call("GET", path)
        assert status == 404 and headers["Content-Type"] == "application/problem+json"
        assert problem["title"] == "Not found" and "that you can see" in problem["detail"]
    status, problem, _ = api.call("POST", f"/api/v1/sms/{theirs['id']}/resend")
    assert status == 404
    _, page, _ = api.call("GET", "/api/v1/sms")
    assert theirs["id"] not in [m["id"] for m in page["data"]]


def test_missing_malformed_and_revoked_keys_are_refused_with_401(api):
    assert send(api)[0] == 201
    for key in (None, "nonsense", api.key[:-1] + ("A" if api.key[-1] != "A" else "B")):
        status, problem, headers = api.call("GET", "/api/v1/sms", key=key)
        assert status == 401 and problem["status"] == 401 and headers["WWW-Authenticate"].startswith("Bearer")
    revoke_api_key(api.db, api.admin, api.key_id)
    status, problem, _ = send(api)
    assert status == 401 and "unrevoked" in problem["detail"]


def test_oversized_bodies_long_urls_and_wrong_media_types_are_refused(api):
    status, problem, _ = api.call("POST", "/api/v1/sms", raw=b'{"text": "' + b"x" * MAX_BODY + b'"}')
    assert status == 413 and problem["title"] == "Content too large"
    status, problem, _ = api.call("GET", "/api/v1/sms?reference=" + "r" * 9000)
    assert status == 414
    status, problem, _ = api.call(
        "POST", "/api/v1/sms", raw=b"to=1", headers={"Content-Type": "application/x-www-form-urlencoded"}
    )
    assert status == 415
    status, problem, _ = api.call("POST", "/api/v1/sms", raw=b"{not json")
    assert status == 422 and problem["detail"] == "The body is not valid JSON."
    assert send(api)[0] == 201  # and the server goes on serving


def test_invalid_input_names_the_field(api):
    cases = [
        ({"text": "Hei"}, None, "either to"),
        ({"to": NUMBER, "contact": {"external_id": "x"}, "text": "Hei"}, None, "not both"),
        ({"to": NUMBER, "text": "   "}, "text", ""),
        ({"to": "12", "text": "Hei"}, "phone", ""),
        ({"to": NUMBER, "text": "Hei", "colour": "red"}, "colour", ""),
        ({"contact": {"external_id": "nobody"}, "text": "Hei"}, "contact.external_id", ""),
    ]
    for body, field, words in cases:
        status, problem, _ = api.call("POST", "/api/v1/sms", body)
        assert status == 422, (body, problem)
        assert problem.get("field") == field and words in problem["detail"], (body, problem)


def test_past_the_rate_limit_the_key_gets_429_with_retry_after(api):
    change_setting(api.db, api.admin, API_REQUESTS_PER_MINUTE, 3)
    answers = [api.call("GET", "/api/v1/sms")[0] for _ in range(3)]
    status, problem, headers = api.call("GET", "/api/v1/sms")
    assert answers == [200, 200, 200] and status == 429
    assert 1 <= int(headers["Retry-After"]) <= 60 and "requests this minute" in problem["detail"]
    other = create_api_key(api.db, api.admin, org_unit_id=api.unit_id, name="Billing").secret
    assert api.call("GET", "/api/v1/sms", key=other)[0] == 200  # per key


def test_the_list_pages_newest_first_by_cursor_and_filters(api):
    ids = [send(api, text=f"SMS {i}", reference=f"r{i % 2}")[1]["id"] for i in range(5)]
    seen, cursor = [], None
    while True:
        status, page, _ = api.call("GET", "/api/v1/sms?limit=2" + (f"&cursor={cursor}" if cursor else ""))
        assert status == 200
        seen += [m["id"] for m in page["data"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == sorted(ids, reverse=True)
    _, page, _ = api.call("GET", "/api/v1/sms?reference=r1")
    assert [m["id"] for m in page["data"]] == [ids[3], ids[1]]
    _, page, _ = api.call("GET", "/api/v1/sms?status=unknown&phone=41555123")
    assert len(page["data"]) == 5
    _, page, _ = api.call("GET", "/api/v1/sms?status=received")
    assert page["data"] == []
    _, page, _ = api.call("GET", "/api/v1/sms?sent_from=2000-01-01T00:00:00&sent_to=2000-01-02T00:00:00Z")
    assert page["data"] == []
    for query, field in (("status=sent", "status"), ("cursor=%21%21", "cursor"), ("limit=0", "limit")):
        status, problem, _ = api.call("GET", f"/api/v1/sms?{query}")
        assert status == 422 and problem["field"] == field, problem


def test_resend_follows_the_articles_rules(api):
    _, message, _ = send(api)
    status, problem, _ = api.call("POST", f"/api/v1/sms/{message['id']}/resend")
    assert status == 409 and "this one is Unknown" in problem["detail"]
    Worker(api.db, api.gateway).run_once()
    status, resend, headers = api.call("POST", f"/api/v1/sms/{message['id']}/resend")
    assert status == 201 and resend["resent"] is True and resend["original_id"] == message["id"]
    assert headers["Location"] == f"/api/v1/sms/{resend['id']}"
    status, problem, _ = api.call("POST", f"/api/v1/sms/{message['id']}/resend")
    assert status == 409 and "already been resent" in problem["detail"]
    Worker(api.db, api.gateway).run_once()
    assert api.call("GET", f"/api/v1/sms/{resend['id']}")[1]["status"] == "resent"


def test_the_openapi_document_is_3_1_and_describes_every_endpoint(api):
    status, document, _ = api.call("GET", "/api/v1/openapi.json")
    assert status == 200 and document["openapi"].startswith("3.1")
    assert set(document["paths"]) == {
        "/sms",
        "/sms/{message_id}",
        "/sms/{message_id}/resend",
        "/contacts/{external_id}",
        "/contacts/{external_id}/consent",
    }
    assert document["servers"] == [{"url": "/api/v1"}]
    assert "HTTPBearer" in document["components"]["securitySchemes"]


def test_the_openapi_document_needs_a_valid_unrevoked_key_like_every_route(api):
    for key in (None, "nonsense"):
        status, problem, headers = api.call("GET", "/api/v1/openapi.json", key=key)
        assert status == 401 and problem["status"] == 401 and "unrevoked" in problem["detail"]
        assert headers["Content-Type"] == "application/problem+json"
        assert headers["WWW-Authenticate"].startswith("Bearer")
    assert api.call("GET", "/api/v1/openapi.json")[0] == 200
    revoke_api_key(api.db, api.admin, api.key_id)
    status, problem, _ = api.call("GET", "/api/v1/openapi.json")
    assert status == 401 and problem["status"] == 401 and "unrevoked" in problem["detail"]


def test_sends_arriving_together_are_recorded_together_and_a_refused_one_fails_alone(api):
    """Thirty systems' requests at once share the group commit: each valid one is answered with a
    message of its own, and a contact number that is not registered refuses only its own request."""
    contact_with_consent(api, "patient-9")
    good = {"to": NUMBER, "text": "Påminnelse"}
    bad = {"contact": {"external_id": "patient-9", "number": "+4741555999"}, "text": "Påminnelse"}
    bodies = [{**(bad if i % 5 == 0 else good), "reference": f"burst-{i}"} for i in range(30)]
    with ThreadPoolExecutor(30) as pool:
        answers = list(pool.map(lambda body: api.call("POST", "/api/v1/sms", body), bodies))
    refused = [answer for i, (status, answer, _) in enumerate(answers) if i % 5 == 0 and status == 422]
    recorded = [answer for i, (status, answer, _) in enumerate(answers) if i % 5 and status == 201]
    assert len(refused) == 6 and all(p["field"] == "phone" and "not registered" in p["detail"] for p in refused)
    assert len(recorded) == 24 and len({m["id"] for m in recorded}) == 24
    assert {m["reference"] for m in recorded} == {f"burst-{i}" for i in range(30) if i % 5}
    with api.db.session() as s:
        stored = s.scalars(select(SmsMessage.reference).where(SmsMessage.reference.like("burst-%"))).all()
    assert sorted(stored) == sorted(m["reference"] for m in recorded)
