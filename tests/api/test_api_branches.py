"""A distributor changes and closes its branches through the API with the branch pages'
operations (``models.edit_branch``, ``models.close_branch``): the same rules, the same
effects, and another distributor's branch answers 404."""

from __future__ import annotations

import models
from models import Cooperation, State

PROBLEM = "application/problem+json"


def test_a_branch_is_renamed_and_moved_to_another_district(call, tokens, world):
    path = f"/api/v1/branches/{world.branch.id}"
    renamed = call("PATCH", path, tokens["pakhsh"], json={"name": "شعبه ونک تازه"})
    assert renamed.status_code == 200, renamed.get_data(as_text=True)
    assert renamed.get_json()["name"] == "شعبه ونک تازه" and renamed.get_json()["district"] == 17
    moved = call("PATCH", path, tokens["pakhsh"], json={"district": "۲"})
    assert moved.status_code == 200 and moved.get_json()["district"] == 2
    branch = models.Branch.get_by_id(world.branch.id)
    assert (branch.name, branch.district) == ("شعبه ونک تازه", 2)
    audited = models.AuditLog.select().where(models.AuditLog.action == "branch_edited").count()
    assert audited == 2


def test_the_pages_rules_hold_for_a_change(call, tokens, world):
    path = f"/api/v1/branches/{world.branch.id}"
    no_district = call("PATCH", path, tokens["pakhsh"], json={"district": ""})
    assert no_district.status_code == 422 and "district" in no_district.get_json()["errors"]
    elsewhere = call("PATCH", path, tokens["pakhsh"], json={"province": "فارس"})
    assert elsewhere.status_code == 422 and elsewhere.mimetype == PROBLEM
    assert models.Branch.get_by_id(world.branch.id).district == 17


def test_another_distributors_branch_cannot_be_changed_nor_closed(call, tokens, world):
    path = f"/api/v1/branches/{world.other_branch.id}"
    assert call("PATCH", path, tokens["pakhsh"], json={"name": "دزدیده"}).status_code == 404
    assert call("POST", path + "/close", tokens["pakhsh"], json={"reason": "بستن شعبه دیگری"}).status_code == 404
    branch = models.Branch.get_by_id(world.other_branch.id)
    assert branch.name == "شعبه آزادی" and branch.is_active


def test_closing_withdraws_the_open_nomination_and_is_done_once(call, tokens, world):
    waiting = models.cooperation.nominate(world.branch, world.pakhsh.as_actor(), world.free_officer.national_code)
    path = f"/api/v1/branches/{world.branch.id}/close"
    short = call("POST", path, tokens["pakhsh"], json={"reason": "نه"})
    assert short.status_code == 422 and "reason" in short.get_json()["errors"]
    closed = call("POST", path, tokens["pakhsh"], json={"reason": "پایان قرارداد اجاره"})
    assert closed.status_code == 200 and closed.get_json()["is_active"] is False and closed.get_json()["closed_at"]
    assert Cooperation.get_by_id(waiting.id).status == State.WITHDRAWN
    again = call("POST", path, tokens["pakhsh"], json={"reason": "پایان قرارداد اجاره"})
    assert again.status_code == 409 and again.mimetype == PROBLEM
    # A closed branch nominates no one.
    nominate = call(
        "POST",
        f"/api/v1/branches/{world.branch.id}/nominations",
        tokens["pakhsh"],
        json={"national_code": world.free_officer.national_code},
    )
    assert nominate.status_code in (409, 422)


def test_changing_needs_the_write_scope(call, issue, world):
    reader = issue("distributor", "pakhsh", scopes=["branches:read"])
    assert call("PATCH", f"/api/v1/branches/{world.branch.id}", reader, json={"name": "x y"}).status_code == 403
    assert models.Branch.get_by_id(world.branch.id).name == "شعبه ونک"
