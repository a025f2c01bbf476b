"""The identity adapters against a local server speaking the contract's JSON
(pytest-httpserver): the civil registry and Shahkar answers, the failures that must refuse
with "try again later", and registration through the form with the ``http`` backend
(red-team H3: national-code squatting)."""

from __future__ import annotations

import json
import time

import pytest
from werkzeug import Response

import models
from helpers import register_through_the_form, registration_data
from models.identity import (
    CIVIL_REGISTRY_PATH,
    SHAHKAR_PATH,
    HttpIdentity,
    IdentityRefused,
    IdentityUnavailable,
    NoIdentityCheck,
    check_identity,
    identity_from_settings,
)

TOKEN = "integrator-token-123"
BIRTH = __import__("datetime").date(1991, 8, 12)  # 1370/05/21, registration_data's birth date


def person(first="مریم", last="احمدی", alive=True):
    return {"found": True, "first_name": first, "last_name": last, "alive": alive}


def civil_registry(httpserver, answer, status=200):
    httpserver.expect_request(CIVIL_REGISTRY_PATH, method="POST").respond_with_json(answer, status=status)


def shahkar(httpserver, match):
    httpserver.expect_request(SHAHKAR_PATH, method="POST").respond_with_json({"match": match})


@pytest.fixture
def adapter(httpserver):
    return HttpIdentity(httpserver.url_for(""), TOKEN, timeout=1)


# ------------------------------------------------------------ the adapter itself


def test_a_match_passes_and_the_requests_carry_the_contract_json_and_the_token(httpserver, adapter):
    civil_registry(httpserver, person())
    shahkar(httpserver, True)
    check_identity(adapter, "0499370899", BIRTH, "مریم", "احمدی", "09121234567")
    (registry, _), (mobile, _) = httpserver.log
    assert json.loads(registry.data) == {"national_code": "0499370899", "birth_date": "1991-08-12"}
    assert json.loads(mobile.data) == {"national_code": "0499370899", "mobile": "09121234567"}
    assert registry.headers["Authorization"] == f"Bearer {TOKEN}"
    assert mobile.headers["Authorization"] == f"Bearer {TOKEN}"


@pytest.mark.parametrize(
    "typed_first, typed_last, registry_first, registry_last",
    [
        ("علی", "کریمی", "علي", "كريمي"),  # Arabic yeh and kaf in the registry
        ("محمدعلی", "رضایی", "محمد\u200cعلی", "رضایی"),  # ZWNJ
        ("محمد علی", "رضایی", "محمدعلی", " رضایی "),  # spaces
    ],
)
def test_names_are_compared_after_persian_normalisation(
    httpserver, adapter, typed_first, typed_last, registry_first, registry_last
):
    civil_registry(httpserver, person(registry_first, registry_last))
    adapter.check_person("0499370899", BIRTH, typed_first, typed_last)


@pytest.mark.parametrize(
    "answer, code, field",
    [
        (person(first="زهرا"), "identity_names_differ", "first_name"),
        (person(last="محمدی"), "identity_names_differ", "last_name"),
        ({"found": False}, "identity_not_found", "national_code"),
        (person(alive=False), "identity_not_alive", "national_code"),
    ],
)
def test_the_civil_registry_refuses_with_a_field_error(httpserver, adapter, answer, code, field):
    civil_registry(httpserver, answer)
    with pytest.raises(IdentityRefused) as refused:
        adapter.check_person("0499370899", BIRTH, "مریم", "احمدی")
    assert refused.value.code == code and refused.value.field == field


def test_a_mobile_that_is_not_the_holders_is_refused_on_the_mobile_field(httpserver, adapter):
    shahkar(httpserver, False)
    with pytest.raises(IdentityRefused) as refused:
        adapter.check_mobile("0499370899", "09390000001")
    assert refused.value.field == "mobile" and refused.value.code == "mobile_not_holders"


def slow(_request):
    time.sleep(2)
    return Response(json.dumps(person()), content_type="application/json")


@pytest.mark.parametrize(
    "respond",
    [
        pytest.param(lambda h: h.respond_with_handler(slow), id="time-out"),
        pytest.param(lambda h: h.respond_with_json({"error": "down"}, status=500), id="500"),
        pytest.param(lambda h: h.respond_with_json({"error": "down"}, status=503), id="503"),
        pytest.param(lambda h: h.respond_with_data("<html>bus error</html>", status=200), id="not-json"),
        pytest.param(lambda h: h.respond_with_data('{"found": tru', status=200), id="truncated-json"),
        pytest.param(lambda h: h.respond_with_json(["found", True]), id="json-not-an-object"),
        pytest.param(lambda h: h.respond_with_json({"found": "yes"}), id="found-not-a-boolean"),
        pytest.param(lambda h: h.respond_with_json({"found": True, "first_name": "مریم"}), id="fields-missing"),
        pytest.param(lambda h: h.respond_with_json(person(), status=401), id="token-refused"),
    ],
)
def test_the_civil_registry_failing_is_unavailable_never_a_pass(httpserver, adapter, respond):
    respond(httpserver.expect_request(CIVIL_REGISTRY_PATH, method="POST"))
    with pytest.raises(IdentityUnavailable) as unavailable:
        adapter.check_person("0499370899", BIRTH, "مریم", "احمدی")
    assert unavailable.value.code == "identity_unavailable"


@pytest.mark.parametrize("answer", [{"match": "true"}, {}, {"match": None}])
def test_a_malformed_shahkar_answer_is_unavailable(httpserver, adapter, answer):
    httpserver.expect_request(SHAHKAR_PATH, method="POST").respond_with_json(answer)
    with pytest.raises(IdentityUnavailable):
        adapter.check_mobile("0499370899", "09121234567")


def test_a_service_that_does_not_listen_is_unavailable():
    closed = HttpIdentity("http://127.0.0.1:9", timeout=1)
    with pytest.raises(IdentityUnavailable):
        closed.check_mobile("0499370899", "09121234567")


def test_the_none_adapter_checks_nothing_and_the_settings_choose_the_adapter(httpserver):
    NoIdentityCheck().check_person("0499370899", BIRTH, "هر", "نامی")
    NoIdentityCheck().check_mobile("0499370899", "09121234567")
    assert isinstance(identity_from_settings("none"), NoIdentityCheck)
    assert isinstance(identity_from_settings("http", httpserver.url_for("")), HttpIdentity)
    with pytest.raises(ValueError):
        identity_from_settings("http", "")
    with pytest.raises(ValueError):
        identity_from_settings("sabt")


def test_production_refuses_the_none_adapter_unless_acknowledged(monkeypatch, database_url):
    from app import create_app

    monkeypatch.setenv("APP_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "k" * 32)
    monkeypatch.delenv("IDENTITY_BACKEND", raising=False)
    monkeypatch.delenv("IDENTITY_BACKEND_NONE_ACKNOWLEDGED", raising=False)
    with pytest.raises(RuntimeError, match="IDENTITY_BACKEND"):
        create_app({"DATABASE_URL": database_url})
    monkeypatch.setenv("IDENTITY_BACKEND_NONE_ACKNOWLEDGED", "1")
    assert create_app({"DATABASE_URL": database_url}).extensions["identity"].name == "none"
    monkeypatch.delenv("IDENTITY_BACKEND_NONE_ACKNOWLEDGED")
    monkeypatch.setenv("IDENTITY_BACKEND", "http")
    monkeypatch.setenv("IDENTITY_URL", "http://127.0.0.1:9")
    assert create_app({"DATABASE_URL": database_url}).extensions["identity"].name == "http"


# ------------------------------------------------------------ registration with the http backend


@pytest.fixture
def checked_client(app, httpserver):
    """A client of the app with IDENTITY_BACKEND=http pointed at the local server."""
    app.config["IDENTITY_BACKEND"] = "http"
    app.extensions["identity"] = HttpIdentity(httpserver.url_for(""), TOKEN, timeout=1)
    return app.test_client()


def nothing_stored():
    return (
        models.Officer.select().count() == 0
        and models.MobileVerification.select().count() == 0
        and models.SmsOutbox.select().count() == 0
    )


def test_registration_with_checks_passing_sends_a_code_and_creates_the_account_after_it(
    checked_client, httpserver, dbc
):
    civil_registry(httpserver, person())
    shahkar(httpserver, True)
    response = register_through_the_form(checked_client)
    assert response.status_code == 303
    assert models.Officer.get().national_code == "0499370899"


@pytest.mark.parametrize(
    "answer, field, message",
    [
        (person(first="زهرا"), "first_name", "ثبت احوال"),
        ({"found": False}, "national_code", "ثبت احوال"),
        (person(alive=False), "national_code", "فوت"),
    ],
)
def test_registration_refused_by_the_civil_registry_marks_the_field_and_stores_nothing(
    checked_client, httpserver, dbc, answer, field, message
):
    civil_registry(httpserver, answer)
    response = checked_client.post("/officer/register", data=registration_data())
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and 'role="alert"' in html and message in html
    tag = html[html.index(f'id="{field}"') - 400 : html.index(f'id="{field}"') + 400]
    assert 'aria-invalid="true"' in tag
    assert nothing_stored()
    assert "مریم" in html or field == "first_name"  # what was typed stays


@pytest.mark.parametrize("status", [500, 502])
def test_registration_when_the_service_fails_says_try_again_later_and_stores_nothing(
    checked_client, httpserver, dbc, status
):
    civil_registry(httpserver, {"error": "bus"}, status=status)
    response = checked_client.post("/officer/register", data=registration_data())
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'role="alert"' in html and 'data-code="identity_unavailable"' in html
    assert "بعداً" in html  # "try again later", in Persian
    assert nothing_stored()


def test_squatting_a_national_code_with_another_persons_mobile_is_refused(checked_client, httpserver, dbc):
    """H3 / t_squat.py: the attacker types the victim's national code, birth date and names
    with the attacker's own mobile; Shahkar says the line is not the holder's."""
    victim_code = "0499370899"
    civil_registry(httpserver, person())
    httpserver.expect_request(
        SHAHKAR_PATH, method="POST", json={"national_code": victim_code, "mobile": "09390000001"}
    ).respond_with_json({"match": False})
    httpserver.expect_request(
        SHAHKAR_PATH, method="POST", json={"national_code": victim_code, "mobile": "09121111111"}
    ).respond_with_json({"match": True})
    attacker = checked_client.post("/officer/register", data=registration_data(mobile="09390000001"))
    html = attacker.get_data(as_text=True)
    assert attacker.status_code == 422 and "شاهکار" in html
    tag = html[html.index('id="mobile"') - 400 : html.index('id="mobile"') + 400]
    assert 'aria-invalid="true"' in tag
    assert nothing_stored()
    # The real holder registers with their own line, and recovery goes to it.
    victim = register_through_the_form(checked_client, mobile="09121111111")
    assert victim.status_code == 303
    assert models.Officer.get(models.Officer.national_code == victim_code).mobile == "09121111111"
    assert models.SmsOutbox.select().where(models.SmsOutbox.to == "09390000001").count() == 0
