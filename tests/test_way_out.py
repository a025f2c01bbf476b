"""Every open request has a way out (issue 15): the state machines of the three reviewed
types, table-driven: every (state, action, actor) -> outcome, against the hand-written
tables below, on whichever database the suite runs on.

Each case runs in a transaction that is rolled back, so one request per type serves them
all; the request is put in the case's state with an UPDATE (its reviewer unbound)."""

from __future__ import annotations

import pytest

import models
from models import Action, ConflictError, PermissionDenied, State, db
from models import cooperation as coops
from models import edit_requests as edits
from models import qualification as quals
from storage import StoredFile

TEHRAN = "دانشگاه علوم پزشکی تهران"
S, A = State, Action

ACTORS = (
    "officer",
    "other_officer",
    "distributor",
    "other_distributor",
    "reviewer",
    "other_reviewer",
    "directorate",
    "system",
)

# (state, action) -> (the one actor who may, the state it leads to). Anything else is
# refused: PermissionDenied for the wrong actor, ConflictError for an action the state has not.
COOPERATION = {
    (S.PENDING_OFFICER, A.OFFICER_APPROVE): ("officer", S.PENDING_UNIVERSITY),
    (S.PENDING_OFFICER, A.OFFICER_REJECT): ("officer", S.REJECTED),
    (S.PENDING_OFFICER, A.WITHDRAW): ("distributor", S.WITHDRAWN),
    (S.PENDING_OFFICER, A.EXPIRE): ("system", S.EXPIRED),
    (S.PENDING_OFFICER, A.CANCEL): ("directorate", S.CANCELLED),
    (S.PENDING_UNIVERSITY, A.APPROVE): ("reviewer", S.ACTIVE),
    (S.PENDING_UNIVERSITY, A.REJECT): ("reviewer", S.REJECTED),
    (S.PENDING_UNIVERSITY, A.WITHDRAW): ("distributor", S.WITHDRAWN),
    (S.PENDING_UNIVERSITY, A.CANCEL): ("directorate", S.CANCELLED),
    (S.ACTIVE, A.RELEASE): ("distributor", S.ENDED),
    (S.ACTIVE, A.TERMINATE): ("officer", S.ENDED),
    (S.ACTIVE, A.DIRECTORATE_END): ("directorate", S.ENDED),
}
QUALIFICATION = {
    (S.DRAFT, A.SUBMIT): ("officer", S.SUBMITTED),
    (S.SUBMITTED, A.APPROVE): ("reviewer", S.APPROVED),
    (S.SUBMITTED, A.REJECT): ("reviewer", S.REJECTED),
    (S.SUBMITTED, A.DEFICIENCY): ("reviewer", S.DEFICIENT),
    (S.SUBMITTED, A.CANCEL): ("directorate", S.CANCELLED),
    (S.SUBMITTED, A.WITHDRAW): ("officer", S.WITHDRAWN),  # issue 14: the officer takes it back
    (S.DEFICIENT, A.RESUBMIT): ("officer", S.SUBMITTED),
    (S.DEFICIENT, A.CANCEL): ("directorate", S.CANCELLED),
    (S.DEFICIENT, A.WITHDRAW): ("officer", S.WITHDRAWN),
}
EDIT = {key: value for key, value in QUALIFICATION.items() if key[0] != S.DRAFT}
TABLES = {"cooperation": COOPERATION, "qualification": QUALIFICATION, "editrequest": EDIT}


@pytest.mark.parametrize("kind", list(TABLES))
def test_the_flows_tables_are_the_specification(kind):
    flow = models.reviewed_type(kind).FLOW
    table = {key: (t.target) for key, t in flow.transitions.items() if key[0] != ""}
    assert table == {key: target for key, (_who, target) in TABLES[kind].items()}


def _document(request, i):
    return StoredFile(
        storage_name=f"wo/{(request.id * 10 + i):032x}.pdf",
        display_name="x.pdf",
        content_type="application/pdf",
        size=1,
        sha256="0" * 64,
    )


@pytest.fixture
def cast(make_officer, make_staff, dbc):
    """The people of every case, and one request of each type."""
    officer = make_officer(qualified=True)
    other_officer = make_officer(qualified=True)
    # The factory numbers qualifications after officer ids, which an approval here could repeat.
    for person in (officer, other_officer):
        models.Officer.update(qualification_number=f"T-{person.id}").where(models.Officer.id == person.id).execute()
    distributor = models.create_distributor("d-own", "Kh0sh-Amad-2024", "شرکت الف", "company", "09120000001")
    other = models.create_distributor("d-other", "Kh0sh-Amad-2024", "شرکت ب", "company", "09120000002")
    city = models.City.get(models.City.name == "تهران")
    branch = models.Branch.create(
        distributor=distributor, name="شعبه یک", province=city.province_id, city=city, address="تهران خیابان یک پلاک ۱"
    )
    cooperation = coops.nominate(branch, distributor.as_actor(), officer.national_code)
    applicant = make_officer()  # not qualified yet: a qualification request
    qualification = quals.start_request(applicant, applicant.as_actor())
    for i, kind in enumerate(("degree", "national_card", "id_booklet", "photo")):
        quals.attach_document(qualification, applicant.as_actor(), kind, _document(qualification, i))
    # Submitted once, so that it holds the snapshot a decision reads; the cases set its state.
    qualification.apply(A.SUBMIT, applicant.as_actor())
    edit = edits.file_edit_request(officer, officer.as_actor(), {"last_name": "کریمیان"}, [])
    actors = {
        "distributor": distributor.as_actor(),
        "other_distributor": other.as_actor(),
        "reviewer": make_staff("university", TEHRAN).as_actor(),
        "other_reviewer": make_staff("university", "دانشگاه علوم پزشکی شیراز").as_actor(),
        "directorate": make_staff("directorate").as_actor(),
        "system": models.SYSTEM,
    }
    owners = {
        "cooperation": officer,
        "qualification": applicant,
        "editrequest": officer,
    }
    requests = {"cooperation": cooperation, "qualification": qualification, "editrequest": edit}
    return {"requests": requests, "owners": owners, "actors": actors, "other_officer": other_officer}


def _actor(cast, kind, name):
    if name == "officer":
        return cast["owners"][kind].as_actor()
    if name == "other_officer":
        return cast["other_officer"].as_actor()
    return cast["actors"][name]


class Rollback(Exception):
    pass


def _outcome(kind, request_id, state, action, actor):
    """What applying ``action`` as ``actor`` to the request put in ``state`` gives: the
    new state, or the refusal's class. Nothing stays in the database."""
    model = models.reviewed_type(kind)
    result = None
    try:
        with db.atomic():
            model.update(status=state.value, reviewer=None).where(model.id == request_id).execute()
            request = model.get_by_id(request_id)
            try:
                request.apply(action, actor, note="دلیل")
            except (PermissionDenied, ConflictError) as error:
                result = type(error)
            else:
                stored = model.get_by_id(request_id).status
                assert stored == request.status
                result = State(stored)
            raise Rollback
    except Rollback:
        pass
    return result


@pytest.mark.parametrize("kind", list(TABLES))
def test_every_state_action_and_actor(kind, cast):
    model = models.reviewed_type(kind)
    request = cast["requests"][kind]
    failures = []
    for state in model.FLOW.states:
        for action in model.FLOW.actions:
            for name in ACTORS:
                expected_actor, target = TABLES[kind].get((state, action), (None, None))
                if expected_actor is None:
                    expected = ConflictError
                elif name == expected_actor:
                    expected = target
                else:
                    expected = PermissionDenied
                got = _outcome(kind, request.id, state, action, _actor(cast, kind, name))
                if got != expected:
                    failures.append((state.value, action.value, name, expected, got))
    assert failures == []


def test_the_cases_left_nothing_behind(cast):
    """The rollback held: the requests are where the fixture left them."""
    for kind, request in cast["requests"].items():
        model = models.reviewed_type(kind)
        assert model.get_by_id(request.id).status == request.status
