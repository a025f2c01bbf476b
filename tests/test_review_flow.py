"""What models/review.py owns for every reviewed type: the sets derived from each flow,
the standard effects of the actions, the notices, creation through the flow, the
registry of types; and the dates that mean "today in Tehran"."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from freezegun import freeze_time

import models
from helpers import attach_all
from models import Action, ConflictError, DomainError, State, sla
from models import cooperation as coops
from models import edit_requests as edits
from models import qualification as quals
from models.review import NEW, ReviewedRequest, ReviewFlow, Transition, is_owner
from storage import StoredFile

TEHRAN = "دانشگاه علوم پزشکی تهران"

# The password the make_staff factory gives every account.
PASSWORD = "Kh0sh-Amad-2024"


def signed_in(app, staff):
    """A test client signed in to the back office as ``staff``."""
    client = app.test_client()
    response = client.post("/admin/login", data={"username": staff.username, "password": PASSWORD})
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    return client


S = State

# The specification, written by hand: what each flow's table must give.
EXPECTED_SETS = {
    models.QualificationRequest: {
        "states": (S.DRAFT, S.SUBMITTED, S.DEFICIENT, S.APPROVED, S.REJECTED, S.WITHDRAWN, S.CANCELLED),
        "open_states": (S.DRAFT, S.SUBMITTED, S.DEFICIENT),
        "waiting_states": (S.SUBMITTED,),
        "reviewer_states": (S.SUBMITTED, S.DEFICIENT, S.APPROVED, S.REJECTED, S.WITHDRAWN, S.CANCELLED),
        "reassignable_states": (S.SUBMITTED, S.DEFICIENT),
    },
    models.EditRequest: {
        "states": (S.SUBMITTED, S.DEFICIENT, S.APPROVED, S.REJECTED, S.WITHDRAWN, S.CANCELLED),
        "open_states": (S.SUBMITTED, S.DEFICIENT),
        "waiting_states": (S.SUBMITTED,),
        "reviewer_states": (S.SUBMITTED, S.DEFICIENT, S.APPROVED, S.REJECTED, S.WITHDRAWN, S.CANCELLED),
        "reassignable_states": (S.SUBMITTED, S.DEFICIENT),
    },
    models.Cooperation: {
        "states": (
            S.PENDING_OFFICER,
            S.PENDING_UNIVERSITY,
            S.ACTIVE,
            S.ENDED,
            S.REJECTED,
            S.WITHDRAWN,
            S.EXPIRED,
            S.CANCELLED,
        ),
        "open_states": (S.PENDING_OFFICER, S.PENDING_UNIVERSITY),
        "waiting_states": (S.PENDING_UNIVERSITY,),
        "reviewer_states": (S.PENDING_UNIVERSITY, S.ACTIVE, S.ENDED, S.REJECTED, S.WITHDRAWN, S.CANCELLED),
        "reassignable_states": (S.PENDING_UNIVERSITY,),
    },
}


@pytest.mark.parametrize("model", list(EXPECTED_SETS), ids=lambda m: m.REQUEST_TYPE)
@pytest.mark.parametrize("name", ["states", "open_states", "waiting_states", "reviewer_states", "reassignable_states"])
def test_each_flow_derives_its_sets_from_its_table(model, name):
    assert getattr(model.FLOW, name) == EXPECTED_SETS[model][name]


def test_the_registry_lists_every_reviewed_type_once():
    assert set(models.REVIEWED_TYPES) == set(EXPECTED_SETS)
    assert {m for m in models.ALL_MODELS if issubclass(m, ReviewedRequest)} == set(models.REVIEWED_TYPES)
    codes = [model.REQUEST_TYPE for model in models.REVIEWED_TYPES]
    assert len(set(codes)) == len(codes)
    assert all(
        model.FLOW.model is model and model.FLOW.request_type == model.REQUEST_TYPE for model in models.REVIEWED_TYPES
    )
    assert models.WAITING_STATES == (S.SUBMITTED, S.PENDING_UNIVERSITY)


def test_a_flow_refuses_notices_it_cannot_send():
    class Sample(ReviewedRequest):
        REQUEST_TYPE = "sample"

    table = {(NEW, Action.SUBMIT): Transition(S.SUBMITTED, is_owner)}
    with pytest.raises(ValueError, match="notices for actions"):
        ReviewFlow(Sample, table, messages={Action.APPROVE: ("subject", "body")})
    with pytest.raises(ValueError, match="who receives them"):
        ReviewFlow(Sample, table, texts={Action.SUBMIT: "text"})


def test_every_reviewed_type_has_a_cartable_a_dashboard_table_and_a_history_section(app, make_staff, make_officer, dbc):
    director = signed_in(app, make_staff("directorate"))
    dashboard = director.get("/admin/").get_data(as_text=True)
    officer = make_officer()
    history = director.get(f"/admin/officer/history/?id={officer.id}").get_data(as_text=True)
    for model in models.REVIEWED_TYPES:
        assert director.get(f"/admin/{model.REQUEST_TYPE}/").status_code == 200
        assert f'data-table="{model.REQUEST_TYPE}-by-state"' in dashboard
        assert models.translate(model.TITLE) in history


# ------------------------------------------------------------------ standard effects


def submitted(kind, make_officer):
    """A submitted request of ``kind`` and its officer."""
    if kind == "qualification":
        officer = make_officer()
        request = quals.start_request(officer, officer.as_actor())
        attach_all(request, officer.as_actor(), folder="ef")
        return request.apply(Action.SUBMIT, officer.as_actor()), officer
    officer = make_officer(qualified=True)
    return edits.file_edit_request(officer, officer.as_actor(), {"last_name": "کریمیان"}, []), officer


def inbox_subjects(officer):
    return [n.subject for n in models.inbox(officer)]


@pytest.mark.parametrize("kind", ["qualification", "editrequest"])
def test_deficiency_binds_the_reviewer_and_keeps_the_note(kind, make_officer, make_staff, dbc):
    request, officer = submitted(kind, make_officer)
    reviewer = make_staff("university", TEHRAN)
    request.apply(Action.DEFICIENCY, reviewer.as_actor(), note="  عکس واضح نیست ", reason="photo")
    stored = type(request).get_by_id(request.id)
    assert (stored.status, stored.reviewer_id, stored.decision_note) == (S.DEFICIENT, reviewer.id, "عکس واضح نیست")
    assert stored.decided_at is None and stored.due_on is None
    assert models.RequestEvent.select().where(models.RequestEvent.action == Action.DEFICIENCY).get().reason == "photo"
    assert any("عکس واضح نیست" in n.body for n in models.inbox(officer))
    request.apply(Action.RESUBMIT, officer.as_actor(), note="اصلاح شد")
    stored = type(request).get_by_id(request.id)
    assert (stored.status, stored.applicant_comment, stored.reviewer_id) == (S.SUBMITTED, "اصلاح شد", reviewer.id)
    assert stored.last_submitted_at >= stored.submitted_at and stored.due_on is not None


@pytest.mark.parametrize("kind", ["qualification", "editrequest"])
@pytest.mark.parametrize("action", [Action.APPROVE, Action.REJECT])
def test_a_decision_stamps_its_time_note_and_reviewer_and_tells_the_officer(
    kind, action, make_officer, make_staff, dbc
):
    request, officer = submitted(kind, make_officer)
    reviewer = make_staff("university", TEHRAN)
    before = len(inbox_subjects(officer))
    texts = models.SmsOutbox.select().where(models.SmsOutbox.to == officer.mobile).count()
    with freeze_time(dt.datetime(2025, 11, 24, 9, 30)):
        request.apply(action, reviewer.as_actor(), note="بررسی شد", reason="wrong_province")
    stored = type(request).get_by_id(request.id)
    assert stored.decided_at == dt.datetime(2025, 11, 24, 9, 30)
    assert (stored.decision_note, stored.reviewer_id) == ("بررسی شد", reviewer.id)
    assert stored.reject_reason == ("wrong_province" if action == Action.REJECT else "")
    subject_id, _body = request.FLOW.messages[action]
    subjects = inbox_subjects(officer)
    assert len(subjects) == before + 1 and models.translate(subject_id) in subjects
    assert models.SmsOutbox.select().where(models.SmsOutbox.to == officer.mobile).count() == texts + 1


def test_a_rejection_with_an_unknown_reason_records_other(make_officer, make_staff, dbc):
    request, _officer = submitted("qualification", make_officer)
    request.apply(Action.REJECT, make_staff("university", TEHRAN).as_actor(), note="x", reason="<script>")
    assert models.QualificationRequest.get_by_id(request.id).reject_reason == "other"


def test_a_refused_after_hook_rolls_back_the_database_and_the_object(make_officer, make_staff, dbc):
    request, officer = submitted("qualification", make_officer)
    # The officer was qualified meanwhile (another request, another way): approving must refuse.
    models.Officer.update(qualified_at=models.utcnow(), qualification_number="1404-999999").where(
        models.Officer.id == officer.id
    ).execute()
    events = models.RequestEvent.select().count()
    with pytest.raises(ConflictError):
        request.apply(Action.APPROVE, make_staff("university", TEHRAN).as_actor())
    assert (request.status, request.decided_at, request.qualification_number) == (S.SUBMITTED, None, None)
    stored = models.QualificationRequest.get_by_id(request.id)
    assert (stored.status, stored.decided_at) == (S.SUBMITTED, None)
    assert models.RequestEvent.select().count() == events


# ------------------------------------------------------------------ creation through the flow


def test_an_edit_request_is_filed_through_the_flow(make_officer, dbc):
    models.Setting.create(key="sla_working_days", value="3")
    officer = make_officer(qualified=True)
    stored = StoredFile(
        storage_name=f"ef/{1:032x}.pdf",
        display_name="مدرک.pdf",
        content_type="application/pdf",
        size=10,
        sha256="0" * 64,
    )
    with freeze_time(dt.datetime(2025, 11, 22, 8, 0)):  # a Saturday
        request = edits.file_edit_request(officer, officer.as_actor(), {"last_name": "کریمیان"}, [("degree", stored)])
    assert request.status == S.SUBMITTED and request.university.name == TEHRAN
    assert request.submitted_at == request.last_submitted_at == dt.datetime(2025, 11, 22, 8, 0)
    # The flow's clock: three working days after Saturday is Tuesday.
    assert request.due_on == sla.add_working_days(dt.date(2025, 11, 22), 3) == dt.date(2025, 11, 25)
    (event,) = request.history()
    assert (event.action, event.from_status, event.to_status, event.actor_id) == (
        Action.SUBMIT,
        NEW,
        S.SUBMITTED,
        officer.id,
    )
    assert (
        models.AuditLog.select()
        .where((models.AuditLog.action == "editrequest_submit") & (models.AuditLog.object_id == request.id))
        .count()
        == 1
    )
    assert [d.display_name for d in request.current_documents()] == ["مدرک.pdf"]


def test_a_second_edit_request_of_a_race_is_refused_by_the_flow(make_officer, dbc):
    officer = make_officer(qualified=True)
    first = edits.file_edit_request(officer, officer.as_actor(), {"last_name": "کریمیان"}, [])
    # As if the check ran before the first request committed: the index refuses.
    request = models.EditRequest(
        officer=officer, university=officer.reviewing_university(), changes='{"last_name": "دیگر"}', previous="{}"
    )
    with pytest.raises(ConflictError) as refused:
        edits.FLOW.create(request, Action.SUBMIT, officer.as_actor(), conflict=ConflictError(edits.ALREADY_OPEN))
    assert refused.value.msgid == edits.ALREADY_OPEN
    assert [r.id for r in models.EditRequest.select()] == [first.id]
    assert models.RequestEvent.select().count() == 1


def test_a_nomination_is_created_through_the_flow(make_officer, dbc):
    officer = make_officer(qualified=True)
    distributor = models.create_distributor("pakhsh", "Kh0sh-Amad-2024", "شرکت الف", "company", "09120000001")
    tehran = models.City.get(models.City.name == "تهران")
    branch = coops.create_branch(
        distributor.as_actor(), "شعبه مرکزی", tehran.province, tehran, "تهران، خیابان آزادی، پلاک ۱", district="17"
    )
    cooperation = coops.nominate(branch, distributor.as_actor(), officer.national_code)
    (event,) = cooperation.history()
    assert (event.action, event.from_status, event.to_status) == (Action.NOMINATE, NEW, S.PENDING_OFFICER)
    assert cooperation.submitted_at is not None and cooperation.due_on is None  # the clock waits for the officer
    assert models.translate("A new cooperation request") in inbox_subjects(officer)


def test_the_previous_values_are_held_as_they_are_stored(make_officer, make_staff, dbc):
    request, officer = submitted("editrequest", make_officer)
    request.apply(Action.DEFICIENCY, make_staff("university", TEHRAN).as_actor(), note="نام را کامل بنویسید")
    edits.revise(request, officer.as_actor(), {"first_name": "مریم‌السادات"}, [])
    stored = models.EditRequest.get_by_id(request.id)
    assert (request.changes, request.previous) == (stored.changes, stored.previous)
    assert "مریم" in stored.previous and "\\u" not in stored.previous
    assert json.loads(stored.previous)["first_name"] == officer.first_name


# ------------------------------------------------------------------ Tehran's today


@pytest.mark.parametrize(
    "utc, year",
    [
        (dt.datetime(2025, 3, 20, 20, 0), 1403),  # 23:30 in Tehran on 1403/12/30
        (dt.datetime(2025, 3, 20, 21, 0), 1404),  # 00:30 in Tehran on 1404/01/01, still 20 March in UTC
    ],
)
def test_the_qualification_number_carries_tehrans_jalali_year(make_officer, dbc, utc, year):
    request, _officer = submitted("qualification", make_officer)
    number = quals.qualification_number_for(request, utc)
    # Random digits with a check digit (issue 17), after the year in Tehran's calendar.
    assert number.startswith(f"{year}-") and models.numbers.is_well_formed_qualification_number(number)


@pytest.mark.parametrize(
    "utc, adult",
    [
        (dt.datetime(2025, 3, 20, 20, 0), False),  # Tehran: 2025-03-20, the day before the 18th birthday
        (dt.datetime(2025, 3, 20, 21, 0), True),  # Tehran: 2025-03-21, the birthday (UTC: still the 20th)
    ],
)
def test_the_age_check_counts_in_tehran(monkeypatch, utc, adult):
    monkeypatch.setattr(models.base, "utcnow", lambda: utc)
    clean = models.officer_rules.CLEANERS["birth_date"]
    if adult:
        assert clean("1386/01/01") == dt.date(2007, 3, 21)
    else:
        with pytest.raises(DomainError, match="18 years"):
            clean("1386/01/01")
