"""Review integrity, who sees what (issue 14): a nomination that never reached a
university never shows there (M5), a reviewer reads only the documents the review page
shows (H2), and two approvals of one officer at once answer 409, never 500 (L9).
The attack scripts t_coop, t_docs and t_coop_race as tests."""

from __future__ import annotations

import io
import re
import threading

import pytest

import models
from helpers import MINIMAL_PDF, staff_client_for
from models import Action, EditRequest, Officer, State
from models import cooperation as coops

TEHRAN = "دانشگاه علوم پزشکی تهران"
ISFAHAN = "دانشگاه علوم پزشکی اصفهان"


def isfahan_place() -> dict:
    city = models.City.get(models.City.name == "اصفهان")
    return {"province": str(city.province_id), "city": str(city.id)}


# ------------------------------------------------------------ attack scripts: t_coop, t_docs, t_coop_race


def test_a_declined_nomination_never_shows_at_the_branchs_university_m5(app, make_officer, make_staff, dbc):
    """t_coop.py: an Isfahan branch nominates a Tehran officer, who declines."""
    officer = make_officer(qualified=True)
    distributor = models.create_distributor("pakhsh-m5", "Kh0sh-Amad-2024", "شرکت م", "company", "09120000005")
    isfahan = models.City.get(models.City.name == "اصفهان")
    branch = coops.create_branch(
        distributor.as_actor(), "شعبه اصفهان یک", isfahan.province, isfahan, "اصفهان خیابان چهارباغ پلاک ۵"
    )
    cooperation = coops.nominate(branch, distributor.as_actor(), officer.national_code)
    cooperation.apply(Action.OFFICER_REJECT, officer.as_actor())
    staff = staff_client_for(app, make_staff("university", ISFAHAN))
    assert staff.get(f"/admin/cooperation/review/?id={cooperation.id}").status_code == 404
    listing = staff.get(f"/admin/cooperation/?search={officer.national_code}").get_data(as_text=True)
    assert not re.search(rf"review/\?id={cooperation.id}\b", listing)
    export = staff.get("/admin/cooperation/export/csv/").get_data(as_text=True)
    assert officer.national_code not in export
    # One the university itself rejected, it does see.
    other = make_officer(qualified=True)
    rejected = coops.nominate(branch, distributor.as_actor(), other.national_code)
    rejected.apply(Action.OFFICER_APPROVE, other.as_actor())
    rejected.apply(Action.REJECT, staff.staff.as_actor(), note="مدارک ناقص")
    assert staff.get(f"/admin/cooperation/review/?id={rejected.id}").status_code == 200


@pytest.mark.parametrize("ending", ["withdraw", "cancel"])
@pytest.mark.parametrize("reached", [False, True], ids=["before-the-officer", "at-the-university"])
def test_a_nomination_ended_before_the_officer_answered_never_shows_there(
    app, make_officer, make_staff, dbc, ending, reached
):
    """Issue 15's endings (the distributor withdraws, the directorate cancels) of a
    nomination still waiting on the officer: it never reached the university (M5). Ended
    once it waited on the university, the university sees it."""
    officer = make_officer(qualified=True)
    distributor = models.create_distributor("pakhsh-m5w", "Kh0sh-Amad-2024", "شرکت م", "company", "09120000015")
    isfahan = models.City.get(models.City.name == "اصفهان")
    branch = coops.create_branch(
        distributor.as_actor(), "شعبه اصفهان دو", isfahan.province, isfahan, "اصفهان خیابان چهارباغ پلاک ۷"
    )
    cooperation = coops.nominate(branch, distributor.as_actor(), officer.national_code)
    if reached:
        cooperation.apply(Action.OFFICER_APPROVE, officer.as_actor())
    if ending == "withdraw":
        cooperation.apply(Action.WITHDRAW, distributor.as_actor())
    else:
        cooperation.apply(Action.CANCEL, make_staff("directorate").as_actor(), note="معرفی تکراری")
    reviewer = make_staff("university", ISFAHAN)
    ended = models.Cooperation.get_by_id(cooperation.id)
    assert ended.can_see(reviewer.as_actor()) is reached
    seen = {c.id for c in models.Cooperation.visible_to(reviewer.as_actor())}
    assert (cooperation.id in seen) is reached
    staff = staff_client_for(app, reviewer)
    assert staff.get(f"/admin/cooperation/review/?id={cooperation.id}").status_code == (200 if reached else 404)


def test_documents_are_read_only_in_the_scope_of_the_review_page_h2(app, qualified, make_staff):
    """t_docs.py: Tehran approves a move to Isfahan; a new edit request is filed at Isfahan
    with a new degree; Tehran must not read it through its old request."""
    officer, client, tehran = qualified
    response = client.post(
        "/officer/edit-requests/new", data={**isfahan_place(), "action": "submit"}, content_type="multipart/form-data"
    )
    assert response.status_code == 302
    first = EditRequest.get(EditRequest.officer == officer.id)
    staff = staff_client_for(app, tehran)
    assert staff.post(f"/admin/editrequest/review/?id={first.id}", data={"decision": "approve"}).status_code == 302
    assert Officer.get_by_id(officer.id).university.name == ISFAHAN
    secret = b"%PDF-1.4\n% SECRET NEW DEGREE FOR ISFAHAN ONLY\n" + MINIMAL_PDF[9:]
    response = client.post(
        "/officer/edit-requests/new",
        data={"first_name": "محمد", "action": "submit", "doc_degree": (io.BytesIO(secret), "new-degree.pdf")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    second = EditRequest.select().order_by(EditRequest.id.desc()).get()
    assert second.university.name == ISFAHAN
    document = models.Document.get(
        (models.Document.request_type == "editrequest") & (models.Document.request_id == second.id)
    )
    assert staff.get(f"/admin/editrequest/review/?id={second.id}").status_code == 404
    assert staff.get(f"/admin/editrequest/document/?doc={document.id}").status_code == 404
    stolen = staff.get(f"/admin/editrequest/officer-document/?id={first.id}&doc={document.id}")
    assert stolen.status_code == 404 and b"SECRET" not in stolen.data
    # Isfahan, who holds the request, reads it.
    isfahan = staff_client_for(app, make_staff("university", ISFAHAN))
    assert isfahan.get(f"/admin/editrequest/document/?doc={document.id}").status_code == 200


def test_concurrent_approvals_of_two_branches_answer_409_not_500_l9(app, make_officer, make_staff, dbc):
    """t_coop_race.py: an officer accepted a Tehran and an Isfahan branch; both
    reviewers approve at once. One wins, the other gets a 409 page."""
    officer = make_officer(qualified=True)
    cooperations, clients = [], []
    # Two distributors: one distributor may have one open nomination per officer (L2).
    for n, (city, university) in enumerate((("تهران", TEHRAN), ("اصفهان", ISFAHAN))):
        distributor = models.create_distributor(
            f"pakhsh-l9-{n}", "Kh0sh-Amad-2024", f"شرکت ل{n}", "company", f"0912000001{n}"
        )
        place = models.City.get(models.City.name == city)
        branch = coops.create_branch(
            distributor.as_actor(),
            f"شعبه {city}",
            place.province,
            place,
            "نشانی کامل شعبه پلاک ۱۲",
            district="17" if city == "تهران" else "",
        )
        cooperation = coops.nominate(branch, distributor.as_actor(), officer.national_code)
        cooperations.append(cooperation.apply(Action.OFFICER_APPROVE, officer.as_actor()))
        clients.append(staff_client_for(app, make_staff("university", university)))
    barrier = threading.Barrier(2)
    statuses = []

    def approve(client, cooperation):
        barrier.wait()
        statuses.append(
            client.post(f"/admin/cooperation/review/?id={cooperation.id}", data={"decision": "approve"}).status_code
        )

    threads = [threading.Thread(target=approve, args=pair) for pair in zip(clients, cooperations, strict=True)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [302, 409]
    active = models.Cooperation.select().where(
        (models.Cooperation.officer == officer.id) & (models.Cooperation.status == State.ACTIVE)
    )
    assert active.count() == 1
