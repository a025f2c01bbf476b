"""Review integrity (issue 14): what is approved is exactly what was reviewed.

Frozen fields while a qualification request is under review, the applicant's withdrawal,
decisions bound to the version of the page, approvals bound to the snapshot, edit
requests that never undo newer changes, eligibility at submission and approval, and the
reproductions of the review's attack scripts (t_toctou, t_docs, t_coop, t_coop_race).
"""

from __future__ import annotations

import itertools
import re
import threading

import pytest

import models
from helpers import documents_payload, staff_client_for
from models import Action, ConflictError, DomainError, EditRequest, Officer, QualificationRequest, State
from models import cooperation as coops
from models import edit_requests as edits
from models import qualification as quals
from storage import StoredFile

TEHRAN = "دانشگاه علوم پزشکی تهران"
ISFAHAN = "دانشگاه علوم پزشکی اصفهان"


def attach_all(request, actor):
    for i, kind in enumerate(("degree", "national_card", "id_booklet", "photo")):
        quals.attach_document(
            request,
            actor,
            kind,
            StoredFile(
                storage_name=f"ri/{(request.id * 10 + i):032x}.pdf",
                display_name=f"{kind}.pdf",
                content_type="application/pdf",
                size=10,
                sha256="0" * 64,
            ),
        )


def request_in_state(officer, reviewer, state):
    """An officer's qualification request driven to ``state`` by the real operations."""
    owner = officer.as_actor()
    request = quals.start_request(officer, owner)
    if state == "draft":
        return request
    attach_all(request, owner)
    request.apply(Action.SUBMIT, owner)
    if state == "submitted":
        return request
    if state == "deficient":
        return request.apply(Action.DEFICIENCY, reviewer, note="عکس واضح نیست")
    if state == "withdrawn":
        return request.apply(Action.WITHDRAW, owner)
    if state == "rejected":
        return request.apply(Action.REJECT, reviewer, note="مدارک نامعتبر")
    raise AssertionError(state)


def isfahan_place() -> dict:
    city = models.City.get(models.City.name == "اصفهان")
    return {"province": str(city.province_id), "city": str(city.id)}


def other_field_and_degree() -> dict:
    field = (
        models.FieldOfStudy.select()
        .where(models.FieldOfStudy.eligible == True)
        .order_by(  # noqa: E712
            models.FieldOfStudy.id.desc()
        )
    )
    degree = models.DegreeLevel.select().order_by(models.DegreeLevel.id.desc())
    return {"field_of_study": str(field.first().id), "degree_level": str(degree.first().id)}


def reviewed_values(officer) -> tuple:
    officer = Officer.get_by_id(officer.id)
    return (
        officer.first_name,
        officer.last_name,
        officer.province_id,
        officer.city_id,
        officer.field_of_study_id,
        officer.degree_level_id,
    )


# ------------------------------------------------------------ frozen under review

# What the officer tries to change before the first approval, by each route.
CHANGES = {
    "name": lambda: {"first_name": "نرگس", "last_name": "صالحی"},
    "place": isfahan_place,
    "field_and_degree": other_field_and_degree,
}
ROUTES = ("profile", "place_correction")
REQUEST_STATES = ("none", "draft", "submitted", "deficient", "withdrawn", "rejected")
FROZEN_IN = ("submitted", "deficient")


@pytest.mark.parametrize(
    "state, change, route",
    [
        (s, c, r)
        for s, c, r in itertools.product(REQUEST_STATES, CHANGES, ROUTES)
        if r == "profile" or c == "place"  # the place correction carries only the place
    ],
)
def test_reviewed_fields_are_frozen_while_a_request_is_under_review(
    make_officer, make_staff, dbc, state, change, route
):
    officer = make_officer()
    reviewer = make_staff("university", TEHRAN).as_actor()
    if state != "none":
        request_in_state(officer, reviewer, state)
    officer = Officer.get_by_id(officer.id)
    before = reviewed_values(officer)
    data = CHANGES[change]()
    operation = {
        "profile": lambda: models.update_profile(officer, data, officer.as_actor()),
        "place_correction": lambda: models.update_place_before_qualification(officer, data, officer.as_actor()),
    }[route]
    if state in FROZEN_IN:
        assert models.reviewed_fields_frozen(officer)
        with pytest.raises(DomainError) as refused:
            operation()
        assert refused.value.code == "frozen_under_review"
        assert reviewed_values(officer) == before
    else:
        assert not models.reviewed_fields_frozen(officer)
        operation()
        assert reviewed_values(officer) != before


def test_free_fields_still_change_under_review_and_the_same_value_is_no_change(make_officer, make_staff, dbc):
    officer = make_officer()
    request_in_state(officer, make_staff("university", TEHRAN).as_actor(), "submitted")
    officer = Officer.get_by_id(officer.id)
    same = {"first_name": officer.first_name, "city": str(officer.city_id), "phone": "02188776655"}
    assert models.update_profile(officer, same, officer.as_actor()) == ["phone"]
    assert Officer.get_by_id(officer.id).phone == "02188776655"


def test_a_crafted_post_of_the_profile_is_refused_with_an_alert_t_toctou(app, officer_client, make_staff, dbc):
    """t_toctou.py: the reviewer opens the page, the officer rewrites the reviewed fields
    directly, the reviewer approves from the page already loaded. Now the rewrite is
    refused (role="alert"), and the certificate and /verify show what was reviewed."""
    officer = officer_client.officer
    reviewer = make_staff("university", TEHRAN)
    response = officer_client.post(
        "/officer/qualification/new",
        data={"action": "submit", **documents_payload()},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    request = QualificationRequest.get(QualificationRequest.officer == officer.id)
    staff = staff_client_for(app, reviewer)
    page = staff.get(f"/admin/qualification/review/?id={request.id}").get_data(as_text=True)
    version = re.search(r'name="version" value="(\d+)"', page).group(1)
    assert officer.full_name in page
    form = officer_client.get("/officer/profile/edit").get_data(as_text=True)
    assert 'id="reviewed-frozen"' in form and 'name="first_name"' not in form
    before = reviewed_values(officer)
    crafted = {
        "first_name": "نرگس",
        "last_name": "صالحی",
        **other_field_and_degree(),
        **isfahan_place(),
        "mobile": officer.mobile,
        "father_name": officer.father_name,
        "gender": officer.gender,
        "id_card_number": officer.id_card_number,
        "address": officer.address,
        "postal_code": officer.postal_code,
    }
    answer = officer_client.post("/officer/profile/edit", data=crafted)
    assert answer.status_code == 422
    assert 'role="alert"' in answer.get_data(as_text=True)
    assert "پس بگیرید" in answer.get_data(as_text=True)
    assert reviewed_values(officer) == before
    decided = staff.post(
        f"/admin/qualification/review/?id={request.id}", data={"decision": "approve", "version": version}
    )
    assert decided.status_code == 302
    fresh = Officer.get_by_id(officer.id)
    assert reviewed_values(fresh) == before and fresh.is_qualified
    verify = app.test_client().get(f"/verify?q={fresh.qualification_number}").get_data(as_text=True)
    assert officer.first_name in verify and "نرگس" not in verify
    certificate = officer_client.get("/officer/certificate").get_data(as_text=True)
    assert officer.first_name in certificate and "نرگس" not in certificate


def test_wrong_province_cannot_be_side_stepped_while_deficient_d2(app, officer_client, make_staff, dbc):
    """D2: a deficient request can no longer be moved to another city and resubmitted to
    the wrong university; withdrawn, the place is corrected and a new request goes to the
    right one."""
    officer = officer_client.officer
    reviewer = make_staff("university", TEHRAN).as_actor()
    request = request_in_state(officer, reviewer, "deficient")
    answer = officer_client.post("/officer/qualification/place", data=isfahan_place(), follow_redirects=True)
    assert 'role="alert"' in answer.get_data(as_text=True)
    assert Officer.get_by_id(officer.id).city.name == "تهران"
    # A change by a route that bypasses the rules (a database edit) still cannot be resubmitted.
    Officer.update(city=models.City.get(models.City.name == "اصفهان")).where(Officer.id == officer.id).execute()
    request = QualificationRequest.get_by_id(request.id)
    with pytest.raises(ConflictError):
        request.apply(Action.RESUBMIT, officer.as_actor())
    Officer.update(city=models.City.get(models.City.name == "تهران")).where(Officer.id == officer.id).execute()
    # Withdraw, correct, file anew: the new request goes to Isfahan.
    assert officer_client.post(f"/officer/qualification/{request.id}", data={"action": "withdraw"}).status_code == 302
    assert QualificationRequest.get_by_id(request.id).status == State.WITHDRAWN
    assert officer_client.post("/officer/qualification/place", data=isfahan_place()).status_code == 302
    assert Officer.get_by_id(officer.id).city.name == "اصفهان"
    response = officer_client.post(
        "/officer/qualification/new",
        data={"action": "submit", **documents_payload()},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    new = QualificationRequest.select().order_by(QualificationRequest.id.desc()).first()
    assert new.id != request.id and new.status == State.SUBMITTED and new.university.name == ISFAHAN


# ------------------------------------------------------------ withdraw

WITHDRAW_CASES = {
    # (state, actor) -> may withdraw
    ("draft", "owner"): False,
    ("submitted", "owner"): True,
    ("deficient", "owner"): True,
    ("withdrawn", "owner"): False,
    ("rejected", "owner"): False,
    ("submitted", "reviewer"): False,
    ("submitted", "other_officer"): False,
    ("submitted", "directorate"): False,
    ("deficient", "reviewer"): False,
}


@pytest.mark.parametrize("state, actor", list(WITHDRAW_CASES))
def test_who_may_withdraw_a_qualification_request(make_officer, make_staff, dbc, state, actor):
    officer = make_officer()
    reviewer = make_staff("university", TEHRAN).as_actor()
    actors = {
        "owner": officer.as_actor(),
        "reviewer": reviewer,
        "other_officer": make_officer().as_actor(),
        "directorate": make_staff("directorate").as_actor(),
    }
    request = request_in_state(officer, reviewer, state)
    if WITHDRAW_CASES[(state, actor)]:
        request.apply(Action.WITHDRAW, actors[actor])
        assert QualificationRequest.get_by_id(request.id).status == State.WITHDRAWN
        assert request.due_on is None
        assert not models.reviewed_fields_frozen(Officer.get_by_id(officer.id))
        # A new request may be started at once.
        assert quals.start_request(officer, actors["owner"]).id != request.id
    else:
        before = QualificationRequest.get_by_id(request.id).status
        with pytest.raises((models.PermissionDenied, ConflictError)):
            request.apply(Action.WITHDRAW, actors[actor])
        assert QualificationRequest.get_by_id(request.id).status == before


@pytest.mark.parametrize("state", ["submitted", "deficient"])
def test_the_officer_withdraws_an_edit_request_through_the_page(qualified, state):
    officer, client, reviewer = qualified
    edit = edits.file_edit_request(officer, officer.as_actor(), {"last_name": "کریمیان"}, [])
    if state == "deficient":
        edit.apply(Action.DEFICIENCY, reviewer.as_actor(), note="مدرک لازم است")
    page = client.get(f"/officer/edit-requests/{edit.id}").get_data(as_text=True)
    assert 'id="withdraw"' in page
    assert client.post(f"/officer/edit-requests/{edit.id}", data={"action": "withdraw"}).status_code == 302
    assert EditRequest.get_by_id(edit.id).status == State.WITHDRAWN
    assert Officer.get_by_id(officer.id).last_name != "کریمیان"
    # Withdrawn, it no longer blocks a new one.
    assert edits.open_edit_request(officer) is None
    edits.file_edit_request(officer, officer.as_actor(), {"last_name": "کریمی‌زاده"}, [])
    again = client.post(f"/officer/edit-requests/{edit.id}", data={"action": "withdraw"}, follow_redirects=True)
    assert 'role="alert"' in again.get_data(as_text=True)


# ------------------------------------------------------------ version-bound decisions


def reviewed_request(kind, make_officer, reviewer):
    """A request of each reviewed type, waiting on Tehran's reviewers."""
    if kind == "qualification":
        return request_in_state(make_officer(), reviewer, "submitted")
    if kind == "editrequest":
        officer = make_officer(qualified=True)
        return edits.file_edit_request(officer, officer.as_actor(), {"last_name": "کریمیان"}, [])
    officer = make_officer(qualified=True)
    distributor = models.create_distributor("pakhsh-v", "Kh0sh-Amad-2024", "شرکت و", "company", "09120000009")
    tehran = models.City.get(models.City.name == "تهران")
    branch = coops.create_branch(
        distributor.as_actor(), "شعبه و", tehran.province, tehran, "تهران، خیابان آزادی، پلاک ۹", district="17"
    )
    return coops.nominate(branch, distributor.as_actor(), officer.national_code).apply(
        Action.OFFICER_APPROVE, officer.as_actor()
    )


KINDS = ("qualification", "editrequest", "cooperation")
DECISIONS = {"qualification": ("approve", "reject", "deficiency"), "editrequest": ("approve", "reject", "deficiency")}
DECISIONS["cooperation"] = ("approve", "reject")


@pytest.mark.parametrize("kind, decision", [(k, d) for k in KINDS for d in DECISIONS[k]])
def test_a_decision_on_an_out_of_date_page_changes_nothing(app, make_officer, make_staff, dbc, kind, decision):
    reviewer = make_staff("university", TEHRAN)
    director = make_staff("directorate").as_actor()
    request = reviewed_request(kind, make_officer, reviewer.as_actor())
    staff = staff_client_for(app, reviewer)
    page = staff.get(f"/admin/{kind}/review/?id={request.id}").get_data(as_text=True)
    version = int(re.search(r'name="version" value="(\d+)"', page).group(1))
    assert version == type(request).get_by_id(request.id).version
    # Meanwhile the directorate reassigns it (to the same university's pool): the page is stale.
    models.reassign(type(request).get_by_id(request.id), director, note="بار کاری")
    before = type(request).get_by_id(request.id)
    answer = staff.post(
        f"/admin/{kind}/review/?id={request.id}",
        data={"decision": decision, "note": "یادداشت", "version": str(version)},
    )
    assert answer.status_code == 409
    assert 'role="alert"' in answer.get_data(as_text=True)
    after = type(request).get_by_id(request.id)
    assert (after.status, after.version, after.decision_note) == (before.status, before.version, before.decision_note)
    # The reloaded page carries the new version, and the decision goes through.
    page = staff.get(f"/admin/{kind}/review/?id={request.id}").get_data(as_text=True)
    fresh = re.search(r'name="version" value="(\d+)"', page).group(1)
    assert int(fresh) == after.version
    answer = staff.post(
        f"/admin/{kind}/review/?id={request.id}", data={"decision": decision, "note": "یادداشت", "version": fresh}
    )
    assert answer.status_code == 302


@pytest.mark.parametrize(
    "kind, first, second", [(k, a, b) for k in KINDS for a in DECISIONS[k] for b in ("approve", "reject")]
)
def test_two_decisions_at_once_one_wins_the_other_is_a_conflict(make_officer, make_staff, dbc, kind, first, second):
    """Races answer 409 (a ConflictError) for every decision of every type, on both databases."""
    reviewers = [make_staff("university", TEHRAN).as_actor(), make_staff("university", TEHRAN).as_actor()]
    request = reviewed_request(kind, make_officer, reviewers[0])
    model = type(request)
    barrier = threading.Barrier(2)
    outcomes = []

    def decide(actor, action):
        with models.db.connection_context():
            copy = model.get_by_id(request.id)
            version = copy.version
            barrier.wait()
            try:
                copy.apply(action, actor, note="یادداشت", expected_version=version)
                outcomes.append("done")
            except ConflictError:
                outcomes.append("conflict")

    threads = [
        threading.Thread(target=decide, args=(reviewers[0], first)),
        threading.Thread(target=decide, args=(reviewers[1], second)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["conflict", "done"]
    events = models.RequestEvent.select().where(
        (models.RequestEvent.request_type == model.REQUEST_TYPE)
        & (models.RequestEvent.request_id == request.id)
        & (models.RequestEvent.action.in_(("approve", "reject", "deficiency")))
    )
    assert events.count() == 1


def test_every_transition_bumps_the_version(make_officer, make_staff, dbc):
    reviewer = make_staff("university", TEHRAN).as_actor()
    officer = make_officer()
    request = request_in_state(officer, reviewer, "submitted")
    versions = [QualificationRequest.get_by_id(request.id).version]
    request.apply(Action.DEFICIENCY, reviewer, note="عکس")
    versions.append(QualificationRequest.get_by_id(request.id).version)
    request.apply(Action.RESUBMIT, officer.as_actor())
    versions.append(QualificationRequest.get_by_id(request.id).version)
    assert versions == sorted(set(versions)) and len(versions) == 3
    with pytest.raises(ConflictError) as stale:
        request.apply(Action.APPROVE, reviewer, expected_version=versions[0])
    assert stale.value.code == "stale_page"
    assert QualificationRequest.get_by_id(request.id).status == State.SUBMITTED


# ------------------------------------------------------------ snapshot-bound approval


@pytest.mark.parametrize("changed", [{"first_name": "نرگس"}, {"district": 5}], ids=["name", "district"])
def test_approval_refuses_a_profile_that_is_not_the_snapshot(make_officer, make_staff, dbc, changed):
    """Defence in depth behind the freeze: if the reviewed fields changed by a route that
    bypasses the rules, the approval qualifies nothing."""
    reviewer = make_staff("university", TEHRAN).as_actor()
    officer = make_officer()
    request = request_in_state(officer, reviewer, "submitted")
    assert (request.first_name, request.last_name) == (officer.first_name, officer.last_name)
    assert request.district == officer.district == 17
    Officer.update(**changed).where(Officer.id == officer.id).execute()
    with pytest.raises(ConflictError) as refused:
        QualificationRequest.get_by_id(request.id).apply(Action.APPROVE, reviewer)
    assert refused.value.code == "profile_changed"
    fresh = Officer.get_by_id(officer.id)
    assert not fresh.is_qualified and QualificationRequest.get_by_id(request.id).status == State.SUBMITTED


@pytest.mark.parametrize("switched_off", ["field_of_study", "degree_level"])
@pytest.mark.parametrize("moment", ["submission", "approval", "resubmission"])
def test_eligibility_is_checked_at_submission_and_approval_d8(make_officer, make_staff, dbc, switched_off, moment):
    reviewer = make_staff("university", TEHRAN).as_actor()
    officer = make_officer()
    owner = officer.as_actor()
    request = quals.start_request(officer, owner)
    attach_all(request, owner)
    model = {"field_of_study": models.FieldOfStudy, "degree_level": models.DegreeLevel}[switched_off]
    switch = lambda: model.update(eligible=False).where(model.id == getattr(officer, switched_off + "_id")).execute()  # noqa: E731
    if moment == "submission":
        switch()
        with pytest.raises(DomainError) as refused:
            request.apply(Action.SUBMIT, owner)
        assert QualificationRequest.get_by_id(request.id).status == State.DRAFT
    elif moment == "approval":
        request.apply(Action.SUBMIT, owner)
        switch()
        with pytest.raises(DomainError) as refused:
            request.apply(Action.APPROVE, reviewer)
        assert not Officer.get_by_id(officer.id).is_qualified
    else:
        request.apply(Action.SUBMIT, owner)
        request.apply(Action.DEFICIENCY, reviewer, note="عکس")
        switch()
        with pytest.raises(DomainError) as refused:
            request.apply(Action.RESUBMIT, owner)
    assert refused.value.code == "ineligible_" + switched_off


# ------------------------------------------------------------ edit requests never undo newer changes


def test_an_approved_edit_request_keeps_a_newer_direct_change_d6(qualified):
    officer, client, reviewer = qualified
    edit = edits.file_edit_request(
        officer, officer.as_actor(), {"phone": "02111111111", "address": "تهران، خیابان نو، کوچه دوم، پلاک 3"}, []
    )
    models.update_profile(Officer.get_by_id(officer.id), {"phone": "02122222222"}, officer.as_actor())
    staff = staff_client_for(client.application, reviewer)
    assert staff.post(f"/admin/editrequest/review/?id={edit.id}", data={"decision": "approve"}).status_code == 302
    fresh = Officer.get_by_id(officer.id)
    assert fresh.phone == "02122222222"  # the newer direct change stays
    assert fresh.address == "تهران، خیابان نو، کوچه دوم، پلاک 3"  # the untouched one is applied
    notice = models.Notice.select().where(models.Notice.officer == officer.id).order_by(models.Notice.id.desc()).get()
    applied, skipped = notice.body.split("اعمال نشد")
    assert "نشانی پستی" in applied and "تلفن ثابت" in skipped
