"""The API's endpoints call the same operations and visibility predicates as the pages:
a token sees exactly what its holder sees, another holder's object answers 404."""

from __future__ import annotations

import models
from models import Action, Cooperation, State

PROBLEM = "application/problem+json"


def ids(response):
    assert response.status_code == 200, response.get_data(as_text=True)
    return [item["id"] for item in response.get_json()["items"]]


# ------------------------------------------------------------------ verification


def test_verify_answers_as_the_page_does(call, client, make_officer, dbc):
    officer = make_officer(qualified=True)
    answer = call("GET", f"/api/v1/verify?q={officer.qualification_number}")
    assert answer.status_code == 200
    body = answer.get_json()
    assert body["valid"] is True and body["kind"] == "number"
    assert body["name"] == officer.full_name
    page = client.get(f"/verify?q={officer.qualification_number}").get_data(as_text=True)
    assert officer.full_name in page
    # A national code answers qualified or not, nothing more: no name.
    by_code = call("GET", f"/api/v1/verify?q={officer.national_code}").get_json()
    assert by_code["valid"] is True and by_code["kind"] == "national_code" and not by_code.get("name")
    # Persian digits are read as the page reads them.
    persian = officer.qualification_number.translate(str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹"))
    assert call("GET", f"/api/v1/verify?q={persian}").get_json()["name"] == officer.full_name


def test_verify_shares_the_domain_limit_of_the_page(call, client, make_officer, dbc):
    officer = make_officer(qualified=True)
    number = officer.qualification_number
    limit = models.verification.LOOKUPS_PER_QUERY_PER_HOUR
    for n in range(limit):
        door = client.get(f"/verify?q={number}") if n % 2 else call("GET", f"/api/v1/verify?q={number}")
        assert door.status_code == 200
    refused = call("GET", f"/api/v1/verify?q={number}")
    assert refused.status_code == 429 and refused.mimetype == PROBLEM
    assert refused.get_json()["code"] == "throttled"
    assert client.get(f"/verify?q={number}").status_code == 429


def test_verify_needs_a_query(call):
    answer = call("GET", "/api/v1/verify")
    assert answer.status_code == 422 and answer.mimetype == PROBLEM
    assert "q" in answer.get_json()["errors"]


# ------------------------------------------------------------------ distributors


def test_a_distributor_lists_its_own_branches_only(call, tokens, world):
    assert ids(call("GET", "/api/v1/branches", tokens["pakhsh"])) == [world.branch.id]
    assert ids(call("GET", "/api/v1/branches", tokens["other"])) == [world.other_branch.id]


def test_nominating_through_the_api_is_the_pages_nomination(call, tokens, world):
    answer = call(
        "POST",
        f"/api/v1/branches/{world.branch.id}/nominations",
        tokens["pakhsh"],
        json={"national_code": world.free_officer.national_code},
    )
    assert answer.status_code == 201, answer.get_data(as_text=True)
    body = answer.get_json()
    assert body["status"] == State.PENDING_OFFICER and body["branch_id"] == world.branch.id
    cooperation = Cooperation.get_by_id(body["id"])
    assert cooperation.officer_id == world.free_officer.id and cooperation.distributor_id == world.pakhsh.id
    # The same history as a nomination from the page: one event, by the distributor.
    (event,) = cooperation.history()
    assert event.action == Action.NOMINATE and event.actor_kind == "distributor"
    assert ids(call("GET", "/api/v1/cooperations", tokens["pakhsh"])) == [cooperation.id]
    assert ids(call("GET", "/api/v1/cooperations", tokens["other"])) == []


def test_the_domains_refusal_is_a_problem_on_the_field(call, tokens, world, make_officer):
    unqualified = make_officer()
    answer = call(
        "POST",
        f"/api/v1/branches/{world.branch.id}/nominations",
        tokens["pakhsh"],
        json={"national_code": unqualified.national_code},
    )
    assert answer.status_code == 422 and answer.mimetype == PROBLEM
    body = answer.get_json()
    assert body["code"] == "cannot_nominate" and body["errors"]["national_code"]
    assert not Cooperation.select().exists()


def test_another_distributors_branch_answers_404_and_changes_nothing(call, tokens, world):
    answer = call(
        "POST",
        f"/api/v1/branches/{world.other_branch.id}/nominations",
        tokens["pakhsh"],
        json={"national_code": world.free_officer.national_code},
    )
    assert answer.status_code == 404 and answer.mimetype == PROBLEM
    assert not Cooperation.select().exists()
    assert models.AuditLog.select().where(models.AuditLog.action == "access_denied").count() == 1


def test_withdraw_own_nomination_and_not_anothers(call, tokens, world):
    cooperation = models.cooperation.nominate(world.branch, world.pakhsh.as_actor(), world.free_officer.national_code)
    path = f"/api/v1/cooperations/{cooperation.id}/withdraw"
    assert call("POST", path, tokens["other"]).status_code == 404
    assert Cooperation.get_by_id(cooperation.id).status == State.PENDING_OFFICER
    answer = call("POST", path, tokens["pakhsh"])
    assert answer.status_code == 200 and answer.get_json()["status"] == State.WITHDRAWN
    again = call("POST", path, tokens["pakhsh"])
    assert again.status_code in (403, 409, 422) and again.mimetype == PROBLEM


def test_unknown_fields_are_refused(call, tokens, world):
    answer = call(
        "POST",
        f"/api/v1/branches/{world.branch.id}/nominations",
        tokens["pakhsh"],
        json={"national_code": world.free_officer.national_code, "status": "active"},
    )
    assert answer.status_code == 422 and "status" in answer.get_json()["errors"]
    assert not Cooperation.select().exists()


# ------------------------------------------------------------------ the cartable


def test_a_university_sees_its_cartable_only(call, tokens, world):
    path = "/api/v1/requests?type=qualification"
    assert ids(call("GET", path, tokens["tehran"])) == [world.tehran_request.id]
    assert ids(call("GET", path, tokens["isfahan"])) == [world.isfahan_request.id]
    assert sorted(ids(call("GET", path, tokens["directorate"]))) == sorted(
        [world.tehran_request.id, world.isfahan_request.id]
    )
    assert ids(call("GET", path + "&status=approved", tokens["directorate"])) == []
    detail = call("GET", f"/api/v1/requests/qualification/{world.isfahan_request.id}", tokens["isfahan"])
    assert detail.status_code == 200 and [e["action"] for e in detail.get_json()["history"]] == ["submit"]
    hidden = call("GET", f"/api/v1/requests/qualification/{world.isfahan_request.id}", tokens["tehran"])
    assert hidden.status_code == 404 and hidden.mimetype == PROBLEM


def test_the_api_list_is_the_cartables_all_tab(call, tokens, world, make_staff, app):
    from helpers import staff_client_for

    reviewer = staff_client_for(app, make_staff("university"))
    page = reviewer.get("/admin/qualification/?tab=all").get_data(as_text=True)
    listed = ids(call("GET", "/api/v1/requests?type=qualification", tokens["tehran"]))
    assert listed == [world.tehran_request.id]
    assert f'data-id="{world.tehran_request.id}"' in page
    assert f'data-id="{world.isfahan_request.id}"' not in page


def test_the_type_must_be_known(call, tokens):
    answer = call("GET", "/api/v1/requests?type=termination", tokens["directorate"])
    assert answer.status_code == 422 and "type" in answer.get_json()["errors"]


# ------------------------------------------------------------------ the directorate


def test_an_officers_record_by_national_code(call, tokens, world):
    code = world.free_officer.national_code
    answer = call("GET", f"/api/v1/officers/{code}", tokens["directorate"])
    assert answer.status_code == 200
    body = answer.get_json()
    assert body["national_code"] == code and body["qualified"] is True and body["branch"] == ""
    assert call("GET", "/api/v1/officers/0000000000", tokens["directorate"]).status_code == 404
    assert call("GET", f"/api/v1/officers/{code}", tokens["tehran"]).status_code == 403


def test_the_event_feed_follows_the_cursor(call, tokens, world, dbc):
    first = call("GET", "/api/v1/events?limit=2", tokens["directorate"]).get_json()
    assert len(first["items"]) == 2 and first["more"] is True
    everything, cursor = list(first["items"]), first["next"]
    while True:
        page = call("GET", f"/api/v1/events?after={cursor}&limit=2", tokens["directorate"]).get_json()
        everything += page["items"]
        cursor = page["next"]
        if not page["more"]:
            break
    types = [event["type"] for event in everything]
    assert types.count("officer_registered") == 3
    assert types.count("qualification_submit") == 2
    assert len({event["id"] for event in everything}) == len(everything)
    # Nothing new: the same cursor comes back, and a new event appears after it.
    assert call("GET", f"/api/v1/events?after={cursor}", tokens["directorate"]).get_json() == {
        "items": [],
        "next": cursor,
        "more": False,
    }
    models.cooperation.nominate(world.branch, world.pakhsh.as_actor(), world.free_officer.national_code)
    (event,) = call("GET", f"/api/v1/events?after={cursor}", tokens["directorate"]).get_json()["items"]
    assert event["type"] == "cooperation_nominate" and event["national_code"] == world.free_officer.national_code
    assert "login" not in types and "access_denied" not in types


def test_a_bad_cursor_is_a_problem(call, tokens):
    answer = call("GET", "/api/v1/events?after=not-a-cursor", tokens["directorate"])
    assert answer.status_code == 422 and "after" in answer.get_json()["errors"]


def test_pages_of_branches_follow_the_cursor(call, issue, world, dbc):
    tehran = models.City.get(models.City.name == "تهران")
    for n in range(4):
        models.cooperation.create_branch(
            world.pakhsh.as_actor(), f"شعبه {n}", tehran.province, tehran, f"تهران، خیابان {n}، پلاک ۱", district="17"
        )
    token = issue("distributor", "pakhsh")
    seen, cursor = [], None
    while True:
        path = "/api/v1/branches?limit=2" + (f"&after={cursor}" if cursor else "")
        body = call("GET", path, token).get_json()
        seen += [item["id"] for item in body["items"]]
        cursor = body["next"]
        if cursor is None:
            break
    assert seen == sorted(seen) and len(seen) == 5


def test_a_branch_defined_through_the_api_is_the_forms_branch(call, tokens, world):
    body = {
        "name": "شعبه تجریش",
        "province": "تهران",
        "city": "تهران",
        "district": "۱",
        "address": "تهران، میدان تجریش، پلاک ۸",
    }
    answer = call("POST", "/api/v1/branches", tokens["pakhsh"], json=body)
    assert answer.status_code == 201, answer.get_data(as_text=True)
    created = models.Branch.get_by_id(answer.get_json()["id"])
    assert created.distributor_id == world.pakhsh.id and created.district == 1 and answer.get_json()["city"] == "تهران"
    # The form's rules: Tehran needs its district; a city outside the province is refused.
    no_district = call("POST", "/api/v1/branches", tokens["pakhsh"], json=dict(body, district=""))
    assert no_district.status_code == 422 and "district" in no_district.get_json()["errors"]
    elsewhere = call("POST", "/api/v1/branches", tokens["pakhsh"], json=dict(body, province="فارس"))
    assert elsewhere.status_code == 422 and "city" in elsewhere.get_json()["errors"]
    assert models.Branch.select().where(models.Branch.distributor == world.pakhsh.id).count() == 2


def test_the_page_and_the_api_share_one_verification_budget_per_address(app, dbc):
    """Flask-Limiter's limit of /verify (30 a minute per address) counts both doors."""
    from app import create_app
    from web.extensions import VERIFY_LIMIT, limiter

    per_minute = int(VERIFY_LIMIT.split()[0])
    keys = ("DATABASE_URL", "SECRET_KEY", "UPLOAD_DIR", "SMS_LOG_FILE", "SMS_DELIVER_IN_BACKGROUND", "SEED_DEMO_DATA")
    limited = create_app({"TESTING": True, "RATELIMIT_ENABLED": True, **{key: app.config[key] for key in keys}})
    client = limited.test_client()
    try:
        for n in range(per_minute):
            path = "/verify?q=" if n % 2 else "/api/v1/verify?q="
            # A different query each time: the domain's own per-query limit stays out of it.
            assert client.get(f"{path}number-{n}").status_code == 200, n
        refused = client.get("/api/v1/verify?q=number-x")
        assert refused.status_code == 429 and refused.mimetype == PROBLEM
        assert client.get("/verify?q=number-y").status_code == 429
    finally:
        limiter.enabled = False  # the limiter is one object: the suite runs with it off
