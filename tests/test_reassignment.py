"""Reviewers who leave (finding D5): deactivating a reviewer (the command or the back
office) or moving them to another university returns their requests to the pool,
audited, with a notice; no request can be bound to an inactive account; the directorate
reassigns many at once and cancels with a reason; the distributor withdraws through its
page."""

from __future__ import annotations

import pytest

import models
from helpers import MANAGER_MOBILE, PASSWORD, attach_all, login, nominate_someone, staff_client_for
from models import qualification as quals

TEHRAN = "دانشگاه علوم پزشکی تهران"
SHIRAZ = "دانشگاه علوم پزشکی شیراز"


def bound_request(make_officer, reviewer):
    """A qualification request the reviewer declared deficient and the officer resubmitted:
    bound to that reviewer."""
    officer = make_officer()
    request = quals.start_request(officer, officer.as_actor())
    attach_all(request, officer.as_actor())
    request.apply("submit", officer.as_actor())
    request.apply("deficiency", reviewer.as_actor(), note="عکس")
    request.apply("resubmit", officer.as_actor())
    assert request.reviewer_id == reviewer.id
    return request


def test_deactivate_staff_returns_the_bound_requests_to_the_pool(app, make_officer, make_staff, dbc):
    leaving = make_staff("university", TEHRAN)
    colleague = make_staff("university", TEHRAN)
    request = bound_request(make_officer, leaving)
    # Before: the colleague cannot decide it (finding D5).
    assert request.allowed_actions(colleague.as_actor()) == []
    result = app.test_cli_runner().invoke(
        args=["deactivate-staff", "--username", leaving.username, "--reason", "بازنشستگی"]
    )
    assert result.exit_code == 0, result.output
    assert "1 requests returned" in result.output
    request = models.QualificationRequest.get_by_id(request.id)
    assert request.reviewer_id is None
    assert "approve" in request.allowed_actions(colleague.as_actor())
    assert [e.action for e in request.history()][-1] == "return_to_pool"
    assert not models.StaffUser.get_by_id(leaving.id).is_active
    assert models.AuditLog.select().where(models.AuditLog.action == "staff_deactivated").count() == 1
    [notice] = models.StaffNotice.select()
    assert notice.university_id == request.university_id and f"#{request.id}" in notice.body
    # The account can no longer log in; running the command again changes nothing.
    assert login(app.test_client(), "/admin/login", leaving.username).status_code != 302
    again = app.test_cli_runner().invoke(args=["deactivate-staff", "--username", leaving.username])
    assert again.exit_code == 0 and "0 requests returned" in again.output
    unknown = app.test_cli_runner().invoke(args=["deactivate-staff", "--username", "nobody"])
    assert unknown.exit_code != 0


def test_deactivating_in_the_back_office_returns_the_requests(app, make_officer, make_staff, dbc):
    leaving = make_staff("university", TEHRAN)
    request = bound_request(make_officer, leaving)
    director = staff_client_for(app, make_staff("directorate"))
    response = director.post(
        f"/admin/staff/edit/?id={leaving.id}",
        data={
            "username": leaving.username,
            "full_name": leaving.full_name,
            "mobile": "",
            "role": "university",
            "university": str(leaving.university_id),
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    assert not models.StaffUser.get_by_id(leaving.id).is_active
    assert models.QualificationRequest.get_by_id(request.id).reviewer_id is None


def test_moving_a_reviewer_to_another_university_returns_the_requests(app, make_officer, make_staff, dbc):
    moving = make_staff("university", TEHRAN)
    request = bound_request(make_officer, moving)
    shiraz = models.University.get(models.University.name == SHIRAZ)
    director = staff_client_for(app, make_staff("directorate"))
    response = director.post(
        f"/admin/staff/edit/?id={moving.id}",
        data={
            "username": moving.username,
            "full_name": moving.full_name,
            "mobile": "",
            "role": "university",
            "university": str(shiraz.id),
            "is_active": "y",
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    assert models.StaffUser.get_by_id(moving.id).university_id == shiraz.id
    request = models.QualificationRequest.get_by_id(request.id)
    assert request.reviewer_id is None and request.university_id != shiraz.id
    assert models.AuditLog.select().where(models.AuditLog.action == "staff_requests_returned").count() == 1


def test_no_request_can_be_bound_to_an_inactive_account(make_officer, make_staff, dbc):
    reviewer = make_staff("university", TEHRAN)
    request = bound_request(make_officer, make_staff("university", TEHRAN))
    models.StaffUser.update(is_active=False).where(models.StaffUser.id == reviewer.id).execute()
    inactive = models.StaffUser.get_by_id(reviewer.id)
    director = make_staff("directorate").as_actor()
    with pytest.raises(models.DomainError) as refused:
        models.reassign(request, director, reviewer=inactive)
    assert refused.value.field == "reviewer"
    with pytest.raises(models.DomainError):
        models.bulk_reassign("qualification", [request.id], director, reviewer=inactive)
    assert models.QualificationRequest.get_by_id(request.id).reviewer_id != reviewer.id


def test_bulk_reassignment_to_a_reviewer_and_to_the_pool(app, make_officer, make_staff, dbc):
    first = make_staff("university", TEHRAN)
    second = make_staff("university", TEHRAN)
    requests = [bound_request(make_officer, first) for _ in range(3)]
    decided = bound_request(make_officer, first)
    decided.apply("approve", first.as_actor())
    director = staff_client_for(app, make_staff("directorate"))
    ids = " ".join(str(r.id) for r in requests) + f"، ۹۹۹۹ {decided.id}"
    response = director.post(
        "/admin/qualification/bulk-reassign/", data={"ids": ids, "reviewer": str(second.id), "note": "مرخصی"}
    )
    assert response.status_code == 302
    assert {models.QualificationRequest.get_by_id(r.id).reviewer_id for r in requests} == {second.id}
    page = director.get("/admin/qualification/").get_data(as_text=True)
    assert "9999" in page and str(decided.id) in page  # the skipped ones are named
    # The list's action: back to the pool.
    response = director.post(
        "/admin/qualification/action/",
        data={"action": "return_to_pool", "rowid": [str(r.id) for r in requests]},
    )
    assert response.status_code == 302
    assert {models.QualificationRequest.get_by_id(r.id).reviewer_id for r in requests} == {None}


def test_reviewers_cannot_reassign_in_bulk(app, make_officer, make_staff, dbc):
    reviewer = make_staff("university", TEHRAN)
    request = bound_request(make_officer, reviewer)
    client = staff_client_for(app, make_staff("university", TEHRAN))
    assert client.get("/admin/qualification/bulk-reassign/").status_code == 403
    client.post("/admin/qualification/action/", data={"action": "return_to_pool", "rowid": [str(request.id)]})
    assert models.QualificationRequest.get_by_id(request.id).reviewer_id == reviewer.id


def test_the_directorate_cancels_with_a_reason(app, make_officer, make_staff, dbc):
    request = bound_request(make_officer, make_staff("university", TEHRAN))
    director = staff_client_for(app, make_staff("directorate"))
    page = director.get(f"/admin/qualification/review/?id={request.id}").get_data(as_text=True)
    assert 'id="cancel-form"' in page
    response = director.post(f"/admin/qualification/cancel/?id={request.id}", data={"note": ""}, follow_redirects=True)
    assert 'role="alert"' in response.get_data(as_text=True)
    assert models.QualificationRequest.get_by_id(request.id).status == "submitted"
    director.post(f"/admin/qualification/cancel/?id={request.id}", data={"note": "پرونده تکراری"})
    request = models.QualificationRequest.get_by_id(request.id)
    assert request.status == "cancelled" and request.due_on is None
    subjects = [n.subject for n in models.inbox(request.officer)]
    assert models.translate("A request was cancelled") in subjects
    # The officer may start again.
    assert quals.start_request(request.officer, request.officer.as_actor()).status == "draft"


def test_a_reviewer_sees_no_cancel_form(app, make_officer, make_staff, dbc):
    reviewer = make_staff("university", TEHRAN)
    request = bound_request(make_officer, reviewer)
    client = staff_client_for(app, reviewer)
    assert 'id="cancel-form"' not in client.get(f"/admin/qualification/review/?id={request.id}").get_data(as_text=True)
    client.post(f"/admin/qualification/cancel/?id={request.id}", data={"note": "x"})
    assert models.QualificationRequest.get_by_id(request.id).status == "submitted"


# ------------------------------------------------------------------ the distributor withdraws


@pytest.fixture
def distributor_client(app, dbc):
    distributor = models.create_distributor("pakhsh", PASSWORD, "شرکت پخش سلامت", "company", MANAGER_MOBILE)
    client = app.test_client()
    assert login(client, "/distributor/login", "pakhsh").status_code == 302
    client.distributor = distributor
    return client


@pytest.mark.parametrize("answered", [False, True], ids=["pending_officer", "pending_university"])
def test_the_distributor_withdraws_a_nomination(distributor_client, make_officer, answered, dbc):
    cooperation = nominate_someone(make_officer, distributor_client.distributor)
    if answered:
        cooperation.apply("officer_approve", cooperation.officer.as_actor())
    page = distributor_client.get("/distributor/").get_data(as_text=True)
    assert f'data-id="{cooperation.id}" data-status="{cooperation.status}"' in page
    assert 'data-action="withdraw"' in page
    response = distributor_client.post(f"/distributor/cooperation/{cooperation.id}/withdraw", follow_redirects=True)
    page = response.get_data(as_text=True)
    assert f'data-id="{cooperation.id}" data-status="withdrawn"' in page
    assert 'data-action="withdraw"' not in page
    # Again: refused, with the reason on the page it lands on.
    again = distributor_client.post(f"/distributor/cooperation/{cooperation.id}/withdraw", follow_redirects=True)
    assert 'role="alert"' in again.get_data(as_text=True)


def test_a_distributor_cannot_withdraw_another_ones_nomination(app, distributor_client, make_officer, dbc):
    other = models.create_distributor("digari", PASSWORD, "شرکت دیگر", "company", "09121112222")
    cooperation = nominate_someone(make_officer, other)
    assert distributor_client.post(f"/distributor/cooperation/{cooperation.id}/withdraw").status_code == 404
    assert models.Cooperation.get_by_id(cooperation.id).status == "pending_officer"


def test_an_active_cooperation_cannot_be_withdrawn(distributor_client, make_officer, make_staff, dbc):
    cooperation = nominate_someone(make_officer, distributor_client.distributor)
    cooperation.apply("officer_approve", cooperation.officer.as_actor())
    cooperation.apply("approve", make_staff("university", TEHRAN).as_actor())
    response = distributor_client.post(f"/distributor/cooperation/{cooperation.id}/withdraw", follow_redirects=True)
    assert 'role="alert"' in response.get_data(as_text=True)
    assert models.Cooperation.get_by_id(cooperation.id).status == "active"
