"""Access control, table-driven: every route of ``app.url_map`` x every role.

A realistic world is built once per test (two universities, four officers, two
distributors, requests in every cartable, documents, notices) and the rules' arguments
are replaced by real ids. Each cell has an expected outcome; every response body is
searched for the personal data the role must never see (national codes and mobiles in
ASCII and Persian digits).

Roles: anonymous, officer (``officer_a``, Tehran, a submitted qualification request),
other_officer (``officer_q``, Tehran, qualified, active at distributor 1's branch, an
edit request and a termination draft), distributor (1, Tehran branch), other_distributor
(2, Isfahan branch), reviewer_a (Tehran university), reviewer_b (Isfahan university),
directorate.

Checklist items: 11, 12, 13, 14, 15, 17 (see SECURITY.md).
"""

from __future__ import annotations

import csv
import io
import re

import pytest

import models
from helpers import staff_client_for
from security_cells import NOT_5XX, admin_views, all_cells, check, leaked, record_ids
from security_world import INLINE_EDITABLE, ROLES, SHARED_VIEWS, build_world, fingerprint

# ---------------------------------------------------------------------- the matrix


def test_every_route_is_in_the_matrix(app, make_officer, make_staff, dbc):
    """A new route fails here until someone decides who may reach it."""
    world = build_world(app, make_officer, make_staff, login_clients=False)
    cells = all_cells(app, world)
    covered = {c.endpoint for c in cells}
    endpoints = {r.endpoint for r in app.url_map.iter_rules()}
    assert endpoints <= covered, sorted(endpoints - covered)
    assert len(cells) > 250


@pytest.mark.parametrize("role", ROLES)
def test_access_matrix(app, make_officer, make_staff, dbc, role):
    world = build_world(app, make_officer, make_staff)
    client = world.clients[role]
    cells = all_cells(app, world)
    secrets = world.secrets[role]
    problems = []

    def run(cell, body):
        response = (
            client.get(cell.url) if cell.method == "GET" else client.open(cell.url, method=cell.method, data=body)
        )
        expected = cell.expect[role]
        problem = check(response, expected)
        if problem:
            problems.append(f"{cell.method} {cell.url}: {problem}")
        found = leaked(response.get_data(as_text=True), secrets)
        if found:
            problems.append(f"{cell.method} {cell.url}: leaks {found}")
        return response

    gets = [c for c in cells if c.method == "GET"]
    posts = [c for c in cells if c.method == "POST" and not c.last]
    refused = [
        c
        for c in posts
        if c.never_changes or c.expect[role] != NOT_5XX and not str(c.expect[role]).startswith("redirect:")
    ]
    allowed = [c for c in posts if c not in refused]

    for cell in gets:
        run(cell, None)
    before = fingerprint()
    for cell in refused:
        run(cell, cell.body)
    assert fingerprint() == before, "a refused POST changed the database"
    for cell in allowed:  # permitted for this role: an empty form, which must not crash
        run(cell, cell.allowed_body if cell.allowed_body is not None else {})
    for cell in [c for c in cells if c.last]:
        run(cell, cell.body)
    assert not problems, f"{len(problems)} cells failed for {role}:\n" + "\n".join(problems)


# ---------------------------------------------------------------------- 13: another university


def _csv_rows(response):
    text = response.get_data(as_text=True).lstrip("\ufeff")
    return list(csv.reader(io.StringIO(text)))


def test_reviewer_b_sees_nothing_of_university_a_anywhere(app, make_officer, make_staff, dbc):
    world = build_world(app, make_officer, make_staff)
    reviewer_b = world.clients["reviewer_b"]
    officer_a, officer_q = world.objects["officer_a"], world.objects["officer_q"]
    a_records = {
        "qualification": {world["qa"], world["qq"]},
        "cooperation": {world["coop_q"]},
        "editrequest": {world["edit_q"]},
    }
    b_records = {"qualification": {world["qisf"]}, "cooperation": {world["coop_p"]}, "editrequest": {world["edit_p"]}}
    before = fingerprint()
    for view in SHARED_VIEWS:
        listing = reviewer_b.get(f"/admin/{view}/").get_data(as_text=True)
        shown = {int(i) for i in re.findall(r"review/\?id=(\d+)", listing)}
        assert shown == b_records[view], (view, shown)
        rows = _csv_rows(reviewer_b.get(f"/admin/{view}/export/csv/"))
        assert {int(r[0]) for r in rows[1:]} == b_records[view], (view, rows)
        for officer in (officer_a, officer_q):
            code = officer.national_code
            found = reviewer_b.get(f"/admin/{view}/?search={code}").get_data(as_text=True)
            # (the search box and the export link repeat the query itself)
            assert officer.last_name not in found and not re.search(r"review/\?id=\d+", found)
            assert officer.mobile not in found and officer.user_code not in found
            exported = reviewer_b.get(f"/admin/{view}/export/csv/?search={code}")
            assert len(_csv_rows(exported)) == 1 and code not in exported.get_data(as_text=True)
        # A filter on university A's id does not widen the scope.
        if view == "cooperation":
            filtered = reviewer_b.get(f"/admin/cooperation/?flt0_1={world['uni_a']}").get_data(as_text=True)
            assert not re.search(r"review/\?id=\d+", filtered)
        for record_id in a_records[view]:
            assert reviewer_b.get(f"/admin/{view}/details/?id={record_id}").status_code == 302
            assert reviewer_b.get(f"/admin/{view}/review/?id={record_id}").status_code == 404
            assert (
                reviewer_b.post(
                    f"/admin/{view}/review/?id={record_id}", data={"decision": "approve", "note": "x"}
                ).status_code
                == 404
            )
            assert (
                reviewer_b.post(
                    f"/admin/{view}/reassign/?id={record_id}", data={"university": str(world["uni_b"])}
                ).status_code
                == 404
            )
            assert (
                reviewer_b.post(
                    f"/admin/{view}/action/", data={"action": "delete", "rowid": str(record_id)}
                ).status_code
                == 302
            )
            assert reviewer_b.post(f"/admin/{view}/delete/", data={"id": str(record_id)}).status_code == 302
            assert (
                reviewer_b.get(f"/admin/{view}/ajax/lookup/?name=officer&query={officer_a.national_code}").status_code
                == 404
            )
    for doc in ("doc_qa", "doc_qq"):
        assert reviewer_b.get(f"/admin/qualification/document/?doc={world[doc]}").status_code == 404
    assert reviewer_b.get(f"/admin/editrequest/document/?doc={world['doc_edit_q']}").status_code == 404
    dashboard = reviewer_b.get("/admin/").get_data(as_text=True)
    assert not leaked(dashboard, world.secrets["reviewer_b"])
    assert fingerprint() == before


def test_get_on_delete_and_decision_routes_is_405(app, make_officer, make_staff, dbc):
    """Checklist 17: state changes only by POST; a GET with the decision in the query decides nothing."""
    world = build_world(app, make_officer, make_staff)
    director, reviewer_a = world.clients["directorate"], world.clients["reviewer_a"]
    checked = 0
    readable = {rule.rule for rule in app.url_map.iter_rules() if "GET" in rule.methods}
    for rule in app.url_map.iter_rules():
        methods = rule.methods - {"HEAD", "OPTIONS"}
        # (POST /api/v1/branches defines one; GET on the same path lists them)
        if methods == {"POST"} and rule.rule not in readable:
            url = re.sub(
                r"<(?:[^:>]+:)?([^>]+)>", lambda m: str(world["b1"]) if "id" in m.group(1) else "en", rule.rule
            )
            for client in (director, world.clients["distributor"], world.clients["officer"]):
                assert client.get(url).status_code == 405, url
            checked += 1
    assert checked >= 18 * 3 + 5
    before = fingerprint()
    for view, key in (("qualification", "qa"), ("editrequest", "edit_q")):
        for client in (reviewer_a, director):
            response = client.get(f"/admin/{view}/review/?id={world[key]}&decision=approve&note=x")
            assert response.status_code == 200
    officer_q = world.clients["other_officer"]
    officer_q.get(f"/officer/termination/{world['termination']}?action=finalize")
    world.clients["distributor"].get(f"/distributor/branches/{world['b1']}/release")
    assert fingerprint() == before
    assert models.QualificationRequest.get_by_id(world["qa"]).status == "submitted"


# ---------------------------------------------------------------------- 14: crafted fields


def test_crafted_officer_posts_change_nothing_they_should_not(app, make_officer, make_staff, dbc):
    world = build_world(app, make_officer, make_staff)
    officer_a = world.objects["officer_a"]
    client = world.clients["officer"]
    extra = {
        "status": "approved",
        "role": "directorate",
        "national_code": "0790419904",
        "university": str(world["uni_b"]),
        "reviewer": str(world["reviewer_b"]),
        "qualified_at": "2020-01-01 00:00:00",
        "qualification_number": "1400-000001",
        "is_active": "0",
        "user_code": "11111111",
        "officer": str(world["officer_q"]),
        "id": str(world["officer_q"]),
        "password_hash": "x",
        "birth_date": "1300/01/01",
        "university_id": str(world["uni_b"]),
    }
    client.post("/officer/profile/edit", data=dict(extra, address="تهران، خیابان آزادی، پلاک ۱۲", district="17"))
    client.post(f"/officer/qualification/{world['qa']}", data=dict(extra, action="resubmit"))
    fresh = models.Officer.get_by_id(officer_a.id)
    assert (
        fresh.national_code,
        fresh.user_code,
        fresh.birth_date,
        fresh.is_active,
        fresh.qualified_at,
        fresh.university_id,
        fresh.qualification_number,
        fresh.password_hash,
    ) == (
        officer_a.national_code,
        officer_a.user_code,
        officer_a.birth_date,
        True,
        None,
        None,
        None,
        officer_a.password_hash,
    )
    qa = models.QualificationRequest.get_by_id(world["qa"])
    assert (qa.status, qa.university_id, qa.reviewer_id, qa.officer_id) == (
        "submitted",
        world["uni_a"],
        None,
        officer_a.id,
    )

    # officer_q accepting a pending cooperation cannot make it active or move it.
    officer_q = world.objects["officer_q"]
    q_client = world.clients["other_officer"]
    q_client.post(f"/officer/edit-requests/{world['edit_q']}", data=dict(extra, action="resubmit"))
    edit = models.EditRequest.get_by_id(world["edit_q"])
    assert (edit.status, edit.university_id, edit.officer_id) == ("submitted", world["uni_a"], officer_q.id)
    q_client.post(f"/officer/termination/{world['termination']}", data=dict(extra, action="save"))
    assert models.TerminationRequest.get_by_id(world["termination"]).status == "draft"

    # Registration with extra fields: the new account is plain.
    anon = world.clients["anonymous"]
    from helpers import national_code, registration_data

    code = national_code(555555)
    data = registration_data(national_code=code, mobile="09129998877")
    response = anon.post("/officer/register", data={**extra, **data})
    assert response.status_code == 303, response.get_data(as_text=True)[:500]
    from helpers import sms_code_to

    response = anon.post(response.headers["Location"], data={**extra, "code": sms_code_to("09129998877")})
    assert response.status_code == 303, response.get_data(as_text=True)[:500]
    new = models.Officer.get(models.Officer.national_code == code)
    assert new.qualified_at is None and new.university_id is None and new.is_active
    assert new.qualification_number is None and new.user_code != "11111111"
    assert new.password_hash.startswith("$argon2id$")


def test_crafted_distributor_posts_change_nothing_they_should_not(app, make_officer, make_staff, dbc):
    world = build_world(app, make_officer, make_staff)
    client = world.clients["distributor"]
    tehran = models.City.get(models.City.name == "تهران")
    extra = {
        "distributor": str(world["d2"]),
        "distributor_id": str(world["d2"]),
        "is_active": "0",
        "status": "active",
        "university": str(world["uni_b"]),
        "officer": str(world["officer_a"]),
        "branch": str(world["b2"]),
        "id": str(world["b2"]),
    }
    response = client.post(
        "/distributor/branches/new",
        data=dict(
            extra,
            name="شعبه جدید",
            province=str(tehran.province_id),
            city=str(tehran.id),
            address="تهران، خیابان ولیعصر، پلاک ۳۳",
            district="17",
        ),
    )
    assert response.status_code == 302
    branch = models.Branch.select().order_by(models.Branch.id.desc()).first()
    assert branch.name == "شعبه جدید" and branch.distributor_id == world["d1"] and branch.is_active
    # Nominating a qualified officer with forged status/university: the request waits for the officer.
    officer_p = world.objects["officer_p"]
    client.post(f"/distributor/branches/{branch.id}/nominate", data=dict(extra, national_code=officer_p.national_code))
    nomination = models.Cooperation.select().where(models.Cooperation.branch == branch.id).first()
    assert nomination is not None
    assert (nomination.status, nomination.distributor_id, nomination.university_id) == (
        "pending_officer",
        world["d1"],
        tehran.university_id,
    )
    # Distributor 2's branch is unchanged.
    b2 = models.Branch.get_by_id(world["b2"])
    assert b2.distributor_id == world["d2"] and b2.is_active


def test_crafted_admin_posts_change_nothing_they_should_not(app, make_officer, make_staff, dbc):
    world = build_world(app, make_officer, make_staff)
    reviewer_a, director = world.clients["reviewer_a"], world.clients["directorate"]
    # A reviewer's decision with forged university/reviewer/status fields: only the decision counts.
    response = reviewer_a.post(
        f"/admin/qualification/review/?id={world['qa']}",
        data={
            "decision": "deficiency",
            "note": "کارت ملی ناخواناست",
            "status": "approved",
            "university": str(world["uni_b"]),
            "reviewer": str(world["reviewer_b"]),
            "officer": str(world["officer_q"]),
            "qualification_number": "1400-999999",
            "role": "directorate",
        },
    )
    assert response.status_code == 302
    qa = models.QualificationRequest.get_by_id(world["qa"])
    assert (qa.status, qa.university_id, qa.reviewer_id, qa.officer_id, qa.qualification_number) == (
        "deficient",
        world["uni_a"],
        world["reviewer_a"],
        world["officer_a"],
        None,
    )
    # A reviewer cannot reassign, not even within their university.
    before = fingerprint()
    reviewer_a.post(
        f"/admin/editrequest/reassign/?id={world['edit_q']}",
        data={"university": str(world["uni_b"]), "reviewer": str(world["reviewer_b"])},
    )
    assert fingerprint() == before
    # A reviewer cannot edit their own account (role, university) through the staff view.
    response = reviewer_a.post(
        f"/admin/staff/edit/?id={world['reviewer_a']}",
        data={"username": "rev_tehran", "role": "directorate", "university": ""},
    )
    assert response.status_code == 403
    staff = models.StaffUser.get_by_id(world["reviewer_a"])
    assert (staff.role, staff.university_id) == ("university", world["uni_a"])
    # The directorate edits a distributor; forged hash/id/created_at are ignored.
    d1 = models.Distributor.get_by_id(world["d1"])
    response = director.post(
        f"/admin/distributor/edit/?id={d1.id}",
        data={
            "username": d1.username,
            "name": "شرکت پخش البرز نو",
            "kind": "company",
            "national_id": d1.national_id,
            "manager_name": d1.manager_name,
            "manager_mobile": d1.manager_mobile,
            "is_active": "y",
            "password_hash": "plain",
            "id": str(world["d2"]),
            "created_at": "2000-01-01",
            "legacy_id": "forged",
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    fresh = models.Distributor.get_by_id(d1.id)
    assert fresh.name == "شرکت پخش البرز نو"
    assert fresh.password_hash == d1.password_hash and fresh.created_at == d1.created_at
    assert fresh.legacy_id == d1.legacy_id
    assert models.Distributor.get_by_id(world["d2"]).name == "شرکت پخش زاگرس"
    # The directorate's notice cannot claim another sender or a decision kind.
    response = director.post(
        "/admin/message/new/",
        data={
            "subject": "اطلاعیه",
            "body": "متن",
            "audience": "all",
            "sender": str(world["reviewer_a"]),
            "kind": "decision",
            "officer": str(world["officer_a"]),
        },
    )
    assert response.status_code == 302
    notice = models.Notice.select().order_by(models.Notice.id.desc()).first()
    assert (notice.subject, notice.kind, notice.sender_id, notice.officer_id) == (
        "اطلاعیه",
        "directorate",
        world["director"],
        None,
    )
    # The officer view is read-only, whatever is posted.
    officer_a = world.objects["officer_a"]
    director.post(
        f"/admin/officer/edit/?id={officer_a.id}",
        data={"national_code": "0790419904", "first_name": "تغییر", "qualified_at": "2020-01-01", "is_active": ""},
    )
    fresh = models.Officer.get_by_id(officer_a.id)
    assert (fresh.national_code, fresh.first_name, fresh.qualified_at, fresh.is_active) == (
        officer_a.national_code,
        officer_a.first_name,
        None,
        True,
    )


def test_bulk_actions_and_deletes_change_nothing(app, make_officer, make_staff, dbc):
    world = build_world(app, make_officer, make_staff)
    before = fingerprint()
    views = admin_views(app)
    for role in ("reviewer_a", "reviewer_b", "directorate"):
        client = world.clients[role]
        for view in views:
            for record_id in record_ids(world, view):
                client.post(f"/admin/{view}/action/", data={"action": "delete", "rowid": [str(record_id)]})
                client.post(f"/admin/{view}/delete/", data={"id": str(record_id)})
                client.post(f"/admin/{view}/delete/?id={record_id}", data={"id": str(record_id)})
    # A real action, on ids of another university, by a reviewer: refused (the SMS view is not theirs).
    response = world.clients["reviewer_b"].post(
        "/admin/sms/action/", data={"action": "resend", "rowid": [str(world["sms"])]}
    )
    assert response.status_code == 403
    assert fingerprint() == before


def test_sms_bulk_action_with_garbage_ids_is_not_a_server_error(app, make_officer, make_staff, dbc):
    """Crafted row ids for a real action: refused cleanly, not a 500."""
    world = build_world(app, make_officer, make_staff)
    director = world.clients["directorate"]
    app.config["PROPAGATE_EXCEPTIONS"] = False
    response = director.post("/admin/sms/action/", data={"action": "resend", "rowid": ["1 OR 1=1", "abc"]})
    assert response.status_code < 500


def test_empty_ajax_update_is_not_a_server_error(app, make_staff, dbc):
    director = staff_client_for(app, make_staff("directorate"))
    app.config["PROPAGATE_EXCEPTIONS"] = False
    for view in sorted(INLINE_EDITABLE):
        assert director.post(f"/admin/{view}/ajax/update/", data={"eligible": "y"}).status_code == 400


def test_no_fileadmin_is_registered(app):
    """Checklist 27: no Flask-Admin FileAdmin, so no upload or browse of server folders."""
    from flask_admin.contrib.fileadmin import BaseFileAdmin

    admin = app.extensions["admin"][0]
    assert not [v for v in admin._views if isinstance(v, BaseFileAdmin)]
    assert not [
        r.rule
        for r in app.url_map.iter_rules()
        if re.search(r"upload|mkdir|rename|download", r.rule) and r.rule.startswith("/admin")
    ]
