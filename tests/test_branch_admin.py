"""The directorate changes and closes any distributor's branch and sets its manager's
mobile from the back office (issue 15), through models.branches' operations."""

from __future__ import annotations

import models
from helpers import csrf_token_from, staff_client_for
from models import cooperation as coops


def _branch(name="شعبه مرکزی"):
    distributor = models.create_distributor("pakhsh-ba", "Kh0sh-Amad-2024", "شرکت ب", "company", "09120000031")
    isfahan = models.City.get(models.City.name == "اصفهان")
    branch = coops.create_branch(
        distributor.as_actor(), name, isfahan.province, isfahan, "اصفهان خیابان چهارباغ پلاک ۳"
    )
    return distributor, branch


def _post(client, url, data):
    token = csrf_token_from(client.get(url).get_data(as_text=True))
    return client.post(url, data={**data, "csrf_token": token})


def test_the_directorate_renames_and_closes_a_branch(app, make_staff, make_officer, dbc):
    distributor, branch = _branch()
    officer = make_officer(qualified=True)
    nomination = coops.nominate(branch, distributor.as_actor(), officer.national_code)
    director = staff_client_for(app, make_staff("directorate"))
    changed = _post(director, f"/admin/branch/change/?id={branch.id}", {"name": "شعبه شمال", "address": branch.address})
    assert changed.status_code == 302
    assert models.Branch.get_by_id(branch.id).name == "شعبه شمال"
    refused = _post(director, f"/admin/branch/close/?id={branch.id}", {"reason": ""})
    assert refused.status_code == 422 and 'id="tool-error"' in refused.get_data(as_text=True)
    assert models.Branch.get_by_id(branch.id).closed_at is None
    closed = _post(director, f"/admin/branch/close/?id={branch.id}", {"reason": "پروانه شعبه باطل شد"})
    assert closed.status_code == 302
    assert models.Branch.get_by_id(branch.id).closed_at is not None
    # Its open nomination was cancelled by the directorate, through the flow.
    assert models.Cooperation.get_by_id(nomination.id).status == "cancelled"
    assert models.AuditLog.select().where(models.AuditLog.action.contains("branch_closed")).exists()


def test_a_reviewer_cannot_use_the_directorates_branch_tools(app, make_staff, dbc):
    _distributor, branch = _branch()
    reviewer = staff_client_for(app, make_staff("university"))
    assert reviewer.get(f"/admin/branch/close/?id={branch.id}").status_code == 403


def test_the_directorate_sets_a_managers_mobile_with_a_reason(app, make_staff, dbc):
    distributor, _branch_row = _branch()
    director = staff_client_for(app, make_staff("directorate"))
    url = f"/admin/distributor/manager-mobile/?id={distributor.id}"
    assert _post(director, url, {"mobile": "۰۹۱۲۰۰۰۰۰۳۲", "reason": ""}).status_code == 422
    assert _post(director, url, {"mobile": "۰۹۱۲۰۰۰۰۰۳۲", "reason": "مدیر عامل تغییر کرد"}).status_code == 302
    assert models.Distributor.get_by_id(distributor.id).manager_mobile == "09120000032"
    told = models.SmsOutbox.select().where(models.SmsOutbox.to == "09120000031")
    assert told.exists()
    # The generic edit form no longer changes it without a reason.
    page = director.get(f"/admin/distributor/edit/?id={distributor.id}").get_data(as_text=True)
    form = {
        "username": distributor.username,
        "name": distributor.name,
        "kind": "company",
        "national_id": distributor.national_id or "",
        "manager_name": distributor.manager_name or "",
        "manager_mobile": "09120000099",
        "is_active": "y",
        "csrf_token": csrf_token_from(page),
    }
    answer = director.post(f"/admin/distributor/edit/?id={distributor.id}", data=form, follow_redirects=True)
    assert "09120000099" not in models.Distributor.get_by_id(distributor.id).manager_mobile
    assert "alert-danger" in answer.get_data(as_text=True)
    form["manager_mobile"] = "09120000032"  # the same mobile: the rest of the form saves
    form["manager_name"] = "مدیر تازه"
    director.post(f"/admin/distributor/edit/?id={distributor.id}", data=form)
    assert models.Distributor.get_by_id(distributor.id).manager_name == "مدیر تازه"
