"""The qualification state machine, table-driven over (state, action, actor)."""

import itertools

import pytest
from peewee import IntegrityError

import models
from helpers import attach_all
from models import Actor, ConflictError, DomainError, PermissionDenied, QualificationRequest
from models import qualification as quals

TEHRAN = "دانشگاه علوم پزشکی تهران"
ISFAHAN = "دانشگاه علوم پزشکی اصفهان"


@pytest.fixture
def setting(make_officer, make_staff, dbc):
    """An officer in Tehran, reviewers of Tehran (two) and Isfahan, and the directorate."""
    officer = make_officer()
    other_officer = make_officer()
    rev_a = make_staff("university", TEHRAN)
    rev_a2 = make_staff("university", TEHRAN)
    rev_b = make_staff("university", ISFAHAN)
    director = make_staff("directorate")
    actors = {
        "owner": officer.as_actor(),
        "other_officer": other_officer.as_actor(),
        "reviewer": rev_a.as_actor(),
        "second_reviewer": rev_a2.as_actor(),
        "other_university": rev_b.as_actor(),
        "directorate": director.as_actor(),
        "distributor": Actor(kind="distributor", id=1),
    }
    return officer, actors


def request_in_state(officer, actors, state, bound_to=None):
    """Drive a request to ``state`` through the real operations."""
    owner = actors["owner"]
    request = quals.start_request(officer, owner)
    attach_all(request, owner, folder="aa")
    if state == "draft":
        return request
    request.apply("submit", owner)
    reviewer = actors[bound_to or "reviewer"]
    if state == "submitted":
        return request
    if state == "deficient":
        return request.apply("deficiency", reviewer, note="عکس واضح نیست")
    if state == "resubmitted":
        request.apply("deficiency", reviewer, note="عکس واضح نیست")
        return request.apply("resubmit", owner, note="اصلاح شد")
    if state == "approved":
        return request.apply("approve", reviewer)
    if state == "rejected":
        return request.apply("reject", reviewer, note="استان اشتباه")
    if state == "withdrawn":
        return request.apply("withdraw", owner)
    raise AssertionError(state)


STATES = ("draft", "submitted", "deficient", "resubmitted", "approved", "rejected", "withdrawn")
ACTIONS = ("submit", "approve", "reject", "deficiency", "resubmit", "withdraw")
ACTORS = ("owner", "other_officer", "reviewer", "second_reviewer", "other_university", "directorate", "distributor")

# Everything not listed is refused. "resubmitted" is a submitted request bound to
# the reviewer who declared the deficiency: a second reviewer of the same university
# can no longer decide it.
ALLOWED = {
    ("draft", "submit", "owner"): "submitted",
    ("submitted", "approve", "reviewer"): "approved",
    ("submitted", "approve", "second_reviewer"): "approved",
    ("submitted", "reject", "reviewer"): "rejected",
    ("submitted", "reject", "second_reviewer"): "rejected",
    ("submitted", "deficiency", "reviewer"): "deficient",
    ("submitted", "deficiency", "second_reviewer"): "deficient",
    ("deficient", "resubmit", "owner"): "submitted",
    ("resubmitted", "approve", "reviewer"): "approved",
    ("resubmitted", "reject", "reviewer"): "rejected",
    ("resubmitted", "deficiency", "reviewer"): "deficient",
    # The applicant takes the request back while it is under review (issue 14).
    ("submitted", "withdraw", "owner"): "withdrawn",
    ("deficient", "withdraw", "owner"): "withdrawn",
    ("resubmitted", "withdraw", "owner"): "withdrawn",
}


@pytest.mark.parametrize("state, action, actor", list(itertools.product(STATES, ACTIONS, ACTORS)))
def test_transition_table(setting, state, action, actor):
    officer, actors = setting
    request = request_in_state(officer, actors, state)
    before = QualificationRequest.get_by_id(request.id).status
    expected = ALLOWED.get((state, action, actor))
    if expected is None:
        with pytest.raises((PermissionDenied, ConflictError)):
            request.apply(action, actors[actor], note="یادداشت")
        assert QualificationRequest.get_by_id(request.id).status == before
        assert action not in request.allowed_actions(actors[actor])
    else:
        assert action in request.allowed_actions(actors[actor])
        request.apply(action, actors[actor], note="یادداشت")
        assert QualificationRequest.get_by_id(request.id).status == expected


def test_submission_routes_to_the_university_of_the_officers_city(setting):
    officer, actors = setting
    request = request_in_state(officer, actors, "submitted")
    assert request.university.name == TEHRAN
    assert request.city_id == officer.city_id and request.submitted_at is not None


def test_submit_needs_every_required_document(setting):
    officer, actors = setting
    request = quals.start_request(officer, actors["owner"])
    with pytest.raises(DomainError) as error:
        request.apply("submit", actors["owner"])
    assert error.value.code == "missing_documents"
    assert QualificationRequest.get_by_id(request.id).status == "draft"


def test_note_is_required_to_reject_or_declare_deficiency(setting):
    officer, actors = setting
    request = request_in_state(officer, actors, "submitted")
    for action in ("reject", "deficiency"):
        with pytest.raises(DomainError):
            request.apply(action, actors["reviewer"], note="  ")
    assert QualificationRequest.get_by_id(request.id).status == "submitted"


def test_resubmitted_request_returns_to_the_reviewer_who_declared_the_deficiency(setting):
    officer, actors = setting
    request = request_in_state(officer, actors, "resubmitted", bound_to="second_reviewer")
    assert request.reviewer_id == actors["second_reviewer"].id
    assert request.allowed_actions(actors["reviewer"]) == []
    assert "approve" in request.allowed_actions(actors["second_reviewer"])


def test_one_open_request_at_a_time_and_unlimited_after_rejection(setting):
    officer, actors = setting
    first = quals.start_request(officer, actors["owner"])
    assert quals.start_request(officer, actors["owner"]).id == first.id
    with pytest.raises(IntegrityError), models.db.atomic():
        QualificationRequest.create(officer=officer, status="draft")
    for _ in range(3):
        current = request_in_state(officer, actors, "rejected") if _ else None
        if current is None:
            attach_all(first, actors["owner"], folder="aa")
            first.apply("submit", actors["owner"])
            first.apply("reject", actors["reviewer"], note="استان اشتباه", reason="wrong_province")
    assert QualificationRequest.select().where(QualificationRequest.officer == officer.id).count() == 3
    assert QualificationRequest.get_by_id(first.id).reject_reason == "wrong_province"


def test_approval_qualifies_the_officer_and_notifies_in_inbox_and_by_sms(setting):
    officer, actors = setting
    request = request_in_state(officer, actors, "approved")
    fresh = models.Officer.get_by_id(officer.id)
    assert fresh.is_qualified and fresh.qualification_number == request.qualification_number
    assert fresh.university.name == TEHRAN
    notice = models.Notice.get(models.Notice.officer == officer.id, models.Notice.kind == "decision")
    assert request.qualification_number in notice.body
    assert (
        models.SmsOutbox.select().where(models.SmsOutbox.to == officer.mobile).count() == 2
    )  # registration + decision
    with pytest.raises(DomainError):
        quals.start_request(fresh, actors["owner"])


def test_every_decision_is_in_the_history(setting):
    officer, actors = setting
    request = request_in_state(officer, actors, "resubmitted")
    request.apply("approve", actors["reviewer"])
    actions = [e.action for e in request.history()]
    assert actions == ["submit", "deficiency", "resubmit", "approve"]


def test_a_stale_copy_cannot_decide_twice(setting):
    officer, actors = setting
    request = request_in_state(officer, actors, "submitted")
    stale = QualificationRequest.get_by_id(request.id)
    request.apply("approve", actors["reviewer"])
    with pytest.raises(ConflictError):
        stale.apply("reject", actors["second_reviewer"], note="دیر")
    assert QualificationRequest.get_by_id(request.id).status == "approved"


def test_directorate_reassigns_to_another_university(setting, make_staff):
    officer, actors = setting
    request = request_in_state(officer, actors, "submitted")
    isfahan = models.University.get(models.University.name == ISFAHAN)
    with pytest.raises(PermissionDenied):
        models.reassign(request, actors["reviewer"], university=isfahan)
    models.reassign(request, actors["directorate"], university=isfahan)
    assert request.allowed_actions(actors["reviewer"]) == []
    assert "approve" in request.allowed_actions(actors["other_university"])


def test_documents_only_change_in_draft_or_deficient(setting):
    officer, actors = setting
    request = request_in_state(officer, actors, "submitted")
    with pytest.raises(ConflictError):
        attach_all(request, actors["owner"], folder="aa")
