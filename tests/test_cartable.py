"""The cartable as a work queue (issue 20): tabs and their counts come from the same
``visible_to`` predicate as the review pages; the decision form reports every mistake at
once and keeps what the reviewer chose; after a decision, the next request of the tab."""

import datetime

import pytest

import models
from helpers import staff_client_for
from models import QualificationRequest
from models import cartable as queue
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
                storage_name=f"cb/{(request.id * 10 + i):032x}.pdf",
                display_name=f"{kind}.pdf",
                content_type="application/pdf",
                size=10,
                sha256="0" * 64,
            ),
        )


def drive(officer, reviewer, state):
    owner = officer.as_actor()
    request = quals.start_request(officer, owner)
    attach_all(request, owner)
    if state == "draft":
        return request
    request = request.apply("submit", owner)
    if state == "submitted":
        return request
    request = request.apply("deficiency", reviewer, note="عکس واضح نیست", reason="photo")
    if state == "deficient":
        return request
    request = request.apply("resubmit", owner, note="اصلاح شد")
    if state == "resubmitted":
        return request
    if state == "approved":
        return request.apply("approve", reviewer)
    raise AssertionError(state)


@pytest.fixture
def queue_setting(make_officer, make_staff, dbc):
    """One request in each state in Tehran, one overdue, one in Isfahan; two Tehran
    reviewers (the first declared every deficiency), Isfahan's, the directorate."""
    rev = make_staff("university", TEHRAN)
    rev2 = make_staff("university", TEHRAN)
    rev_isfahan = make_staff("university", ISFAHAN)
    director = make_staff("directorate")
    requests = {}
    for state in ("draft", "submitted", "deficient", "resubmitted", "approved"):
        requests[state] = drive(make_officer(), rev.as_actor(), state)
    requests["overdue"] = drive(make_officer(), rev.as_actor(), "submitted")
    QualificationRequest.update(due_on=models.utcnow().date() - datetime.timedelta(days=3)).where(
        QualificationRequest.id == requests["overdue"].id
    ).execute()
    requests["isfahan"] = drive(make_officer(city="اصفهان"), rev_isfahan.as_actor(), "submitted")
    actors = {
        "reviewer": rev.as_actor(),
        "second_reviewer": rev2.as_actor(),
        "isfahan": rev_isfahan.as_actor(),
        "directorate": director.as_actor(),
    }
    return requests, actors, {"reviewer": rev, "directorate": director}


# (actor, tab) -> the requests of the tab. "resubmitted" is bound to the first reviewer:
# it needs their decision, not the second reviewer's. Nobody's tab holds a draft.
EXPECTED = {
    ("reviewer", "mine"): {"submitted", "resubmitted", "overdue"},
    ("reviewer", "applicant"): {"deficient"},
    ("reviewer", "overdue"): {"overdue"},
    ("reviewer", "decided"): {"approved"},
    ("reviewer", "all"): {"submitted", "deficient", "resubmitted", "approved", "overdue"},
    ("second_reviewer", "mine"): {"submitted", "overdue"},
    ("second_reviewer", "applicant"): {"deficient"},
    ("second_reviewer", "overdue"): {"overdue"},
    ("second_reviewer", "decided"): {"approved"},
    ("second_reviewer", "all"): {"submitted", "deficient", "resubmitted", "approved", "overdue"},
    ("isfahan", "mine"): {"isfahan"},
    ("isfahan", "applicant"): set(),
    ("isfahan", "overdue"): set(),
    ("isfahan", "decided"): set(),
    ("isfahan", "all"): {"isfahan"},
    ("directorate", "mine"): {"submitted", "resubmitted", "overdue", "isfahan"},
    ("directorate", "applicant"): {"deficient"},
    ("directorate", "overdue"): {"overdue"},
    ("directorate", "decided"): {"approved"},
    ("directorate", "all"): {"submitted", "deficient", "resubmitted", "approved", "overdue", "isfahan"},
}


@pytest.mark.parametrize("actor, tab", list(EXPECTED))
def test_tab_rows_and_counts(queue_setting, actor, tab):
    requests, actors, _staff = queue_setting
    by_id = {r.id: name for name, r in requests.items()}
    rows = {by_id[r.id] for r in queue.tab_query(QualificationRequest, actors[actor], tab)}
    assert rows == EXPECTED[(actor, tab)]
    assert queue.tab_counts(QualificationRequest, actors[actor])[tab] == len(EXPECTED[(actor, tab)])


def test_a_tab_never_shows_more_than_visible_to(queue_setting):
    _requests, actors, _staff = queue_setting
    for actor in actors.values():
        visible = {r.id for r in QualificationRequest.visible_to(actor)}
        for tab in queue.TAB_CODES:
            assert {r.id for r in queue.tab_query(QualificationRequest, actor, tab)} <= visible


def test_resubmitted_is_marked(queue_setting):
    requests, _actors, _staff = queue_setting
    assert queue.is_resubmitted(QualificationRequest.get_by_id(requests["resubmitted"].id))
    assert not queue.is_resubmitted(QualificationRequest.get_by_id(requests["submitted"].id))


def test_next_request_follows_the_queue_order(queue_setting):
    requests, actors, _staff = queue_setting
    # The overdue request is due first.
    following = queue.next_request(QualificationRequest, actors["reviewer"], "mine", requests["submitted"].id)
    assert following.id == requests["overdue"].id
    assert queue.next_request(QualificationRequest, actors["isfahan"], "mine", requests["isfahan"].id) is None


def test_unknown_tab_is_the_default():
    assert queue.tab_code("../../etc") == "mine" and queue.tab_code(None) == "mine"


def test_cooperation_has_reasons_of_its_own():
    assert queue.reasons_for(models.Cooperation, "reject") != queue.reasons_for(QualificationRequest, "reject")
    assert "branch_invalid" in dict(queue.reasons_for(models.Cooperation, "reject"))
    assert models.vocabulary.reject_reason_code("branch_invalid") == "branch_invalid"


# ------------------------------------------------------------------ the pages


def test_the_list_opens_on_needs_my_decision_with_counts(app, queue_setting):
    requests, _actors, staff = queue_setting
    client = staff_client_for(app, staff["reviewer"])
    page = client.get("/admin/qualification/").get_data(as_text=True)
    assert 'data-tab="mine" aria-current="page"' in page
    assert 'data-count="3"' in page  # needs my decision
    assert f'data-id="{requests["submitted"].id}"' in page
    assert f'data-id="{requests["approved"].id}"' not in page  # decided: another tab
    assert 'data-resubmitted="1"' in page
    decided = client.get("/admin/qualification/?tab=decided").get_data(as_text=True)
    assert f'data-id="{requests["approved"].id}"' in decided
    assert f'data-id="{requests["submitted"].id}"' not in decided
    # Sortable by days waiting and due date.
    for column in ("waiting", "due_on"):
        header = page.split(f"col-{column}", 1)[1].split("</th>", 1)[0]
        assert "sort=" in header, column


def test_directorate_sees_the_university_and_no_draft(app, queue_setting):
    requests, _actors, staff = queue_setting
    client = staff_client_for(app, staff["directorate"])
    page = client.get("/admin/qualification/?tab=all").get_data(as_text=True)
    assert f'data-id="{requests["draft"].id}"' not in page
    assert f'data-id="{requests["isfahan"].id}"' in page
    assert 'class="col-university"' in page and ISFAHAN in page
    reviewer_page = staff_client_for(app, staff["reviewer"]).get("/admin/qualification/").get_data(as_text=True)
    assert 'class="col-university"' not in reviewer_page


def test_a_search_looks_through_every_tab(app, queue_setting):
    requests, _actors, staff = queue_setting
    client = staff_client_for(app, staff["reviewer"])
    code = QualificationRequest.get_by_id(requests["approved"].id).officer.national_code
    page = client.get(f"/admin/qualification/?search={code}").get_data(as_text=True)
    assert f'data-id="{requests["approved"].id}"' in page


def test_a_deficiency_without_note_or_kind_keeps_the_choice_and_marks_both(app, queue_setting):
    requests, _actors, staff = queue_setting
    client = staff_client_for(app, staff["reviewer"])
    target = requests["submitted"].id
    response = client.post(
        f"/admin/qualification/review/?id={target}&tab=mine",
        data={"decision": "deficiency", "deficiency_reason": "", "reason": "", "note": ""},
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'id="decision-deficiency" value="deficiency" required checked' in page
    assert 'id="note-error"' in page and 'id="deficiency_reason-error"' in page
    assert 'role="alert"' in page
    assert QualificationRequest.get_by_id(target).status == "submitted"


def test_no_reason_is_preselected(app, queue_setting):
    requests, _actors, staff = queue_setting
    client = staff_client_for(app, staff["reviewer"])
    page = client.get(f"/admin/qualification/review/?id={requests['submitted'].id}").get_data(as_text=True)
    assert '<option value="">' in page and " selected" not in page.split('id="decision-form"')[1].split("</form>")[0]


def test_after_a_decision_the_next_request_of_the_tab(app, queue_setting):
    requests, _actors, staff = queue_setting
    client = staff_client_for(app, staff["reviewer"])
    target = requests["submitted"].id
    response = client.post(
        f"/admin/qualification/review/?id={target}&tab=mine",
        data={"decision": "deficiency", "deficiency_reason": "photo", "note": "عکس تار است"},
    )
    assert response.status_code == 302 and "tab=mine" in response.location
    page = client.get(response.location).get_data(as_text=True)
    assert 'id="next-request"' in page
    assert f"id={requests['overdue'].id}" in page.split('id="next-request"')[0].rsplit("href=", 1)[1]
    event = (
        models.RequestEvent.select()
        .where(models.RequestEvent.request_id == target)
        .order_by(models.RequestEvent.id.desc())
    )
    assert event.first().reason == "photo"


def test_approving_names_the_qualification_number(app, queue_setting):
    requests, _actors, staff = queue_setting
    client = staff_client_for(app, staff["reviewer"])
    target = requests["submitted"].id
    response = client.post(f"/admin/qualification/review/?id={target}", data={"decision": "approve", "note": ""})
    page = client.get(response.location).get_data(as_text=True)
    number = QualificationRequest.get_by_id(target).officer.qualification_number
    assert number and number in page


def test_the_review_page_lists_the_applicants_other_requests(app, queue_setting, make_officer):
    requests, actors, staff = queue_setting
    officer = QualificationRequest.get_by_id(requests["submitted"].id).officer
    # An older, rejected request of the same officer.
    QualificationRequest.update(status="rejected").where(QualificationRequest.id == requests["submitted"].id).execute()
    newer = quals.start_request(officer, officer.as_actor())
    attach_all(newer, officer.as_actor())
    newer = newer.apply("submit", officer.as_actor())
    client = staff_client_for(app, staff["reviewer"])
    page = client.get(f"/admin/qualification/review/?id={newer.id}").get_data(as_text=True)
    earlier = page.split('id="earlier-requests"')[1].split("</ul>")[0]
    assert f"id={requests['submitted'].id}" in earlier


def test_the_dashboard_weeks_are_jalali(app, queue_setting):
    _requests, _actors, staff = queue_setting
    from backoffice.dashboard import dashboard_numbers

    weeks = [week for week, _n in dashboard_numbers(staff["directorate"])["per_week"]]
    assert weeks and all(week.startswith("14") and "/" in week for week in weeks), weeks


def test_details_pages_show_jalali_times(app, queue_setting):
    requests, _actors, staff = queue_setting
    client = staff_client_for(app, staff["directorate"])
    page = client.get(f"/admin/qualification/details/?id={requests['submitted'].id}").get_data(as_text=True)
    submitted = QualificationRequest.get_by_id(requests["submitted"].id).submitted_at
    assert submitted.isoformat(sep=" ")[:16] not in page
    assert "1405/" in page or "1404/" in page or "1406/" in page


def test_capped_counts_stop_at_the_cap(queue_setting):
    _requests, actors, _staff = queue_setting
    exact = queue.tab_counts(QualificationRequest, actors["directorate"])
    assert queue.tab_counts(QualificationRequest, actors["directorate"], cap=100) == exact
    capped = queue.tab_counts(QualificationRequest, actors["directorate"], cap=2)
    assert capped["all"] == 3 and capped["overdue"] == 1  # "2+" for a tab of 6


def test_an_edit_request_decision_with_a_mistake_is_drawn_again(app, make_officer, make_staff, dbc):
    """Every cartable's review page redraws a refused decision (the edit requests' page
    has a context of its own)."""
    officer = make_officer(qualified=True)
    edit = models.edit_requests.file_edit_request(officer, officer.as_actor(), {"first_name": "مرجان"}, {})
    client = staff_client_for(app, make_staff("university", TEHRAN))
    response = client.post(
        f"/admin/editrequest/review/?id={edit.id}", data={"decision": "reject", "reason": "", "note": ""}
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'id="note-error"' in page and 'id="reason-error"' in page
