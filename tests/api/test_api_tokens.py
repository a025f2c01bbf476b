"""API tokens: issued by the directorate in the back office, shown once, stored hashed,
scoped, revocable, rate-limited; and ``Idempotency-Key`` on POST. The attacks: a revoked
or unknown token, a wrong scope, a replayed key with another body, a flood."""

from __future__ import annotations

import hashlib
import re

import models
from helpers import staff_client_for
from models import ApiClient, ApiIdempotency, Cooperation, api_clients

PROBLEM = "application/problem+json"


def issue_in_the_back_office(staff_client, **fields):
    answer = staff_client.post("/admin/apiclient/new/", data=fields)
    match = re.search(r'id="api-token"[^>]*>([^<]+)<', answer.get_data(as_text=True))
    return answer, (match.group(1).strip() if match else None)


def test_the_directorate_issues_a_token_shown_once_and_stored_hashed(app, world, call, dbc):
    staff = staff_client_for(app, world.directorate)
    assert staff.get("/admin/apiclient/new/").status_code == 200
    answer, token = issue_in_the_back_office(staff, name="نرم‌افزار انبار", holder_kind="distributor", holder="pakhsh")
    assert answer.status_code == 200 and token and token.startswith("otr_")
    client = ApiClient.get()
    assert client.distributor_id == world.pakhsh.id and client.holder_kind == "distributor"
    assert client.scope_list == sorted(api_clients.scopes_for("distributor"))
    # Only the hash is kept: the clear token is in no column of any row written.
    assert client.token_hash == hashlib.sha256(token.encode()).hexdigest()
    for row in ApiClient.select().dicts():
        assert token not in " ".join(map(str, row.values()))
    for row in models.AuditLog.select().dicts():
        assert token not in " ".join(map(str, row.values()))
    # Never shown again: not on the list, not on the details page.
    listing = staff.get("/admin/apiclient/").get_data(as_text=True)
    details = staff.get(f"/admin/apiclient/details/?id={client.id}").get_data(as_text=True)
    assert token not in listing and token not in details and client.token_hint in listing
    exported = staff.get("/admin/apiclient/export/csv/").get_data(as_text=True)
    assert client.token_hint in exported and client.token_hash not in exported and token not in exported
    assert client.token_hash not in details
    # It works, as the distributor, and its last use is shown.
    assert call("GET", "/api/v1/branches", token).status_code == 200
    assert ApiClient.get_by_id(client.id).last_used_at is not None


def test_issuing_refuses_an_unknown_holder_and_a_scope_of_another_kind(app, world, dbc):
    staff = staff_client_for(app, world.directorate)
    answer, token = issue_in_the_back_office(staff, name="x", holder_kind="distributor", holder="nobody")
    page = answer.get_data(as_text=True)
    assert token is None and 'role="alert"' in page and 'class="form-control is-invalid" id="holder"' in page
    answer, token = issue_in_the_back_office(
        staff, name="x", holder_kind="university", holder="دانشگاه علوم پزشکی تهران", scopes="branches:read"
    )
    assert token is None
    assert not ApiClient.select().exists()


def test_a_university_token_names_the_university_by_its_persian_name(app, world, call, dbc):
    staff = staff_client_for(app, world.directorate)
    _, token = issue_in_the_back_office(
        staff, name="اتوماسیون", holder_kind="university", holder="دانشگاه علوم پزشکی تهران"
    )
    assert token
    listed = call("GET", "/api/v1/requests?type=qualification", token).get_json()["items"]
    assert [item["id"] for item in listed] == [world.tehran_request.id]


def test_only_the_directorate_reaches_the_token_screens(app, world, make_staff, dbc):
    reviewer = staff_client_for(app, make_staff("university"))
    assert reviewer.get("/admin/apiclient/").status_code == 403
    assert reviewer.post("/admin/apiclient/new/", data={"name": "x", "holder_kind": "directorate"}).status_code == 403
    assert app.test_client().get("/admin/apiclient/").status_code == 302
    assert not ApiClient.select().exists()
    try:
        api_clients.issue_client(make_staff("university").as_actor(), "x", "directorate", "")
    except models.PermissionDenied:
        pass
    else:
        raise AssertionError("a reviewer issued a token")


def test_the_issuing_form_needs_its_csrf_token(app, world, dbc):
    staff = staff_client_for(app, world.directorate)
    app.config["WTF_CSRF_ENABLED"] = True
    answer = staff.post("/admin/apiclient/new/", data={"name": "x", "holder_kind": "directorate", "holder": ""})
    assert answer.status_code == 400
    assert not ApiClient.select().exists()


def test_a_revoked_token_answers_401(app, world, tokens, call, dbc):
    assert call("GET", "/api/v1/branches", tokens["pakhsh"]).status_code == 200
    client = ApiClient.get(ApiClient.token_hash == api_clients.token_digest(tokens["pakhsh"]))
    staff = staff_client_for(app, world.directorate)
    answer = staff.post("/admin/apiclient/action/", data={"action": "revoke", "rowid": str(client.id)})
    assert answer.status_code == 302
    assert ApiClient.get_by_id(client.id).revoked_at is not None
    refused = call("GET", "/api/v1/branches", tokens["pakhsh"])
    assert refused.status_code == 401 and refused.mimetype == PROBLEM
    assert refused.headers["WWW-Authenticate"].startswith("Bearer")
    # The other tokens still work.
    assert call("GET", "/api/v1/branches", tokens["other"]).status_code == 200


def test_no_token_an_unknown_token_a_cookie_all_answer_401(app, world, call, client, dbc):
    assert call("GET", "/api/v1/branches").status_code == 401
    assert call("GET", "/api/v1/branches", "otr_" + "A" * 43).status_code == 401
    assert call("GET", "/api/v1/branches", headers={"Authorization": "Basic cGFraHNoOng="}).status_code == 401
    # A logged-in distributor's session cookie is not an API credential.
    assert (
        client.post("/distributor/login", data={"username": "pakhsh", "password": "Kh0sh-Amad-2024"}).status_code == 302
    )
    assert client.get("/api/v1/branches").status_code == 401


def test_a_deactivated_distributors_token_stops_working(world, tokens, call, dbc):
    models.Distributor.update(is_active=False).where(models.Distributor.id == world.pakhsh.id).execute()
    assert call("GET", "/api/v1/branches", tokens["pakhsh"]).status_code == 401


def test_a_scope_not_given_answers_403(issue, call, world, dbc):
    read_only = issue("distributor", "pakhsh", scopes=["branches:read"])
    assert call("GET", "/api/v1/branches", read_only).status_code == 200
    refused = call(
        "POST",
        f"/api/v1/branches/{world.branch.id}/nominations",
        read_only,
        json={"national_code": world.free_officer.national_code},
    )
    assert refused.status_code == 403 and refused.mimetype == PROBLEM
    assert not Cooperation.select().exists()


def test_the_rate_per_token_answers_429_with_retry_after(issue, call, world, dbc):
    slow = issue("distributor", "pakhsh", rate=3)
    other = issue("distributor", "pakhsh", rate=3)
    for _ in range(3):
        assert call("GET", "/api/v1/branches", slow).status_code == 200
    refused = call("GET", "/api/v1/branches", slow)
    assert refused.status_code == 429 and refused.mimetype == PROBLEM
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    # Per token: another token of the same holder has its own budget.
    assert call("GET", "/api/v1/branches", other).status_code == 200


# ------------------------------------------------------------------ Idempotency-Key


def _nominate(call, token, branch, national_code, key):
    return call(
        "POST",
        f"/api/v1/branches/{branch.id}/nominations",
        token,
        json={"national_code": national_code},
        headers={"Idempotency-Key": key},
    )


def test_a_repeated_key_replays_the_first_answer_and_nominates_once(world, tokens, call, dbc):
    code = world.free_officer.national_code
    first = _nominate(call, tokens["pakhsh"], world.branch, code, "k-1")
    assert first.status_code == 201
    again = _nominate(call, tokens["pakhsh"], world.branch, code, "k-1")
    assert again.status_code == 201 and again.get_json() == first.get_json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert Cooperation.select().count() == 1
    # Without the key the same request is a new one, and the domain refuses it.
    assert (
        call(
            "POST", f"/api/v1/branches/{world.branch.id}/nominations", tokens["pakhsh"], json={"national_code": code}
        ).status_code
        == 422
    )


def test_the_same_key_with_another_body_is_refused(world, tokens, call, make_officer, dbc):
    assert _nominate(call, tokens["pakhsh"], world.branch, world.free_officer.national_code, "k-2").status_code == 201
    other = make_officer(qualified=True)
    refused = _nominate(call, tokens["pakhsh"], world.branch, other.national_code, "k-2")
    assert refused.status_code == 422 and refused.mimetype == PROBLEM
    assert "Idempotency-Key" in refused.get_json()["errors"]
    assert Cooperation.select().count() == 1


def test_a_key_is_the_clients_own(world, tokens, issue, call, dbc):
    code = world.free_officer.national_code
    assert _nominate(call, tokens["pakhsh"], world.branch, code, "shared").status_code == 201
    # Another client's identical key is not a replay of the first client's answer.
    second = issue("distributor", "pakhsh")
    answer = _nominate(call, second, world.branch, code, "shared")
    assert answer.status_code == 422 and "Idempotent-Replayed" not in answer.headers


def test_a_refusal_is_replayed_too_and_a_running_key_is_a_conflict(world, tokens, call, make_officer, dbc):
    unqualified = make_officer()
    first = _nominate(call, tokens["pakhsh"], world.branch, unqualified.national_code, "k-3")
    again = _nominate(call, tokens["pakhsh"], world.branch, unqualified.national_code, "k-3")
    assert first.status_code == again.status_code == 422 and again.headers["Idempotent-Replayed"] == "true"
    client = ApiClient.get(ApiClient.token_hash == api_clients.token_digest(tokens["pakhsh"]))
    body = b'{"national_code": "%s"}' % world.free_officer.national_code.encode()
    path = f"/api/v1/branches/{world.branch.id}/nominations"
    ApiIdempotency.create(client=client, key="k-4", fingerprint=api_clients.fingerprint("POST", path, body))
    running = call(
        "POST", path, tokens["pakhsh"], data=body, content_type="application/json", headers={"Idempotency-Key": "k-4"}
    )
    assert running.status_code == 409 and not Cooperation.select().exists()


def test_a_bad_key_is_refused_and_old_keys_are_purged(world, tokens, call, dbc):
    code = world.free_officer.national_code
    assert _nominate(call, tokens["pakhsh"], world.branch, code, "x" * 201).status_code == 400
    assert _nominate(call, tokens["pakhsh"], world.branch, code, "k-5").status_code == 201
    later = models.utcnow() + api_clients_day()
    assert api_clients.purge_idempotency(later) == 1
    assert "api_idempotency_purge" in models.tick.JOBS


def api_clients_day():
    import datetime

    return datetime.timedelta(days=api_clients.IDEMPOTENCY_DAYS, minutes=1)
