"""The cooperation life cycle through the distributor, officer and back-office pages."""

import datetime as dt

import pytest

import models
from helpers import PASSWORD, login, staff_client_for

TEHRAN = "دانشگاه علوم پزشکی تهران"


@pytest.fixture
def distributor_client(app, dbc):
    distributor = models.create_distributor(
        "pakhsh", PASSWORD, "شرکت پخش سلامت", "company", "09121110000", manager_name="رضا مدیر"
    )
    client = app.test_client()
    assert login(client, "/distributor/login", "pakhsh").status_code == 302
    client.distributor = distributor
    return client


def define_branch(client, city_name="تهران"):
    city = models.City.get(models.City.name == city_name)
    response = client.post(
        "/distributor/branches/new",
        data={
            "name": "شعبه ونک",
            "province": str(city.province_id),
            "city": str(city.id),
            "address": "تهران، میدان ونک، پلاک ۵",
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:1000]
    return models.Branch.select().order_by(models.Branch.id.desc()).first()


def test_full_life_cycle(app, distributor_client, make_officer, make_staff, dbc):
    officer = make_officer(qualified=True)
    branch = define_branch(distributor_client)
    response = distributor_client.post(
        f"/distributor/branches/{branch.id}/nominate", data={"national_code": officer.national_code}
    )
    assert response.status_code == 302
    cooperation = models.Cooperation.get()
    officer_client = app.test_client()
    login(officer_client, "/officer/login", officer.user_code)
    listing = officer_client.get("/officer/cooperation/").get_data(as_text=True)
    assert "شرکت پخش سلامت" in listing and 'data-status="pending_officer"' in listing
    detail = officer_client.get(f"/officer/cooperation/{cooperation.id}").get_data(as_text=True)
    assert "میدان ونک" in detail
    assert (
        officer_client.post(f"/officer/cooperation/{cooperation.id}", data={"decision": "approve"}).status_code == 302
    )
    reviewer = staff_client_for(app, make_staff("university", TEHRAN))
    assert officer.national_code in reviewer.get("/admin/cooperation/").get_data(as_text=True)
    assert reviewer.get(f"/admin/cooperation/review/?id={cooperation.id}").status_code == 200
    assert (
        reviewer.post(f"/admin/cooperation/review/?id={cooperation.id}", data={"decision": "approve"}).status_code
        == 302
    )
    page = distributor_client.get("/distributor/").get_data(as_text=True)
    assert officer.full_name in page and 'data-status="active"' in page
    # The officer ends it.
    response = officer_client.post("/officer/termination/new", data={"reason": "پایان قرارداد", "action": "finalize"})
    assert response.status_code == 302
    assert models.Cooperation.get_by_id(cooperation.id).status == "ended"
    page = distributor_client.get("/distributor/").get_data(as_text=True)
    assert 'data-status="ended"' in page
    assert models.SmsOutbox.select().where(models.SmsOutbox.to == "09121110000").count() >= 2


def test_termination_page_warns_about_legal_responsibility(app, distributor_client, make_officer, make_staff, dbc):
    officer = make_officer(qualified=True)
    branch = define_branch(distributor_client)
    cooperation = models.cooperation.nominate(branch, distributor_client.distributor.as_actor(), officer.national_code)
    cooperation.apply("officer_approve", officer.as_actor())
    cooperation.apply("approve", make_staff("university", TEHRAN).as_actor())
    client = app.test_client()
    login(client, "/officer/login", officer.user_code)
    html = client.get("/officer/termination/new").get_data(as_text=True)
    assert "مسئولیت" in html
    response = client.post("/officer/termination/new", data={"reason": "دلیل کافی", "action": "save"})
    assert response.status_code == 302
    termination = models.TerminationRequest.get()
    assert termination.status == "draft" and models.Cooperation.get_by_id(cooperation.id).status == "active"
    assert client.post(f"/officer/termination/{termination.id}", data={"action": "finalize"}).status_code == 302
    assert models.Cooperation.get_by_id(cooperation.id).status == "ended"


def test_nomination_errors_are_shown_next_to_the_field(distributor_client, make_officer, dbc):
    branch = define_branch(distributor_client)
    unqualified = make_officer()
    response = distributor_client.post(
        f"/distributor/branches/{branch.id}/nominate", data={"national_code": unqualified.national_code}
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'role="alert"' in html and 'aria-invalid="true"' in html


def test_distributors_only_see_their_own_branches(app, distributor_client, dbc):
    branch = define_branch(distributor_client)
    models.create_distributor("other", PASSWORD, "شرکت دیگر", "guild", "09121110001")
    other = app.test_client()
    login(other, "/distributor/login", "other")
    assert "شعبه ونک" not in other.get("/distributor/").get_data(as_text=True)
    assert other.get(f"/distributor/branches/{branch.id}/nominate").status_code == 404
    assert other.post(f"/distributor/branches/{branch.id}/release").status_code == 404


def test_release_notifies_the_officer(app, distributor_client, make_officer, make_staff, dbc):
    officer = make_officer(qualified=True)
    branch = define_branch(distributor_client)
    cooperation = models.cooperation.nominate(branch, distributor_client.distributor.as_actor(), officer.national_code)
    cooperation.apply("officer_approve", officer.as_actor())
    cooperation.apply("approve", make_staff("university", TEHRAN).as_actor())
    assert distributor_client.post(f"/distributor/branches/{branch.id}/release").status_code == 302
    assert models.Cooperation.get_by_id(cooperation.id).end_reason == "released"
    assert models.unread_count(officer) >= 1


def test_university_does_not_see_requests_the_officer_has_not_accepted(
    app, distributor_client, make_officer, make_staff, dbc
):
    officer = make_officer(qualified=True)
    branch = define_branch(distributor_client)
    cooperation = models.cooperation.nominate(branch, distributor_client.distributor.as_actor(), officer.national_code)
    reviewer = staff_client_for(app, make_staff("university", TEHRAN))
    assert reviewer.get(f"/admin/cooperation/review/?id={cooperation.id}").status_code == 404
    director = staff_client_for(app, make_staff("directorate"))
    assert director.get(f"/admin/cooperation/review/?id={cooperation.id}").status_code == 200
    export = director.get("/admin/cooperation/export/csv/").get_data(as_text=True)
    assert export.startswith("\ufeff") and officer.national_code in export and "شرکت پخش سلامت" in export


def test_directorate_creates_a_distributor_in_the_back_office(app, make_staff, dbc):
    director = staff_client_for(app, make_staff("directorate"))
    response = director.post(
        "/admin/distributor/new/",
        data={
            "username": "newdist",
            "name": "صنف نمونه",
            "kind": "guild",
            "national_id": "",
            "manager_name": "مدیر",
            "manager_mobile": "۰۹۱۲۳۳۳۴۴۵۵",
            "is_active": "y",
            "new_password": "Tazeh-Ramz-1403",
        },
    )
    assert response.status_code == 302
    created = models.Distributor.get(models.Distributor.username == "newdist")
    assert created.manager_mobile == "09123334455" and created.password_hash.startswith("$argon2id$")
    assert login(app.test_client(), "/distributor/login", "newdist", "Tazeh-Ramz-1403").status_code == 302


def test_dashboard_names_the_serving_officer_behind_a_long_history(
    app, distributor_client, make_officer, make_staff, dbc
):
    """The dashboard lists the 500 newest cooperations; a branch's serving officer is found
    on its own, however old their cooperation is."""
    officer = make_officer(qualified=True)
    branch = define_branch(distributor_client)
    cooperation = models.cooperation.nominate(branch, distributor_client.distributor.as_actor(), officer.national_code)
    cooperation.apply("officer_approve", officer.as_actor())
    cooperation.apply("approve", make_staff("university", TEHRAN).as_actor())
    other = models.Branch.create(
        distributor=distributor_client.distributor,
        name="شعبه قدیمی",
        province=branch.province,
        city=branch.city,
        address="تهران، پلاک ۲",
    )
    refused_by = make_officer(qualified=True)
    later = cooperation.created_at + dt.timedelta(days=1)
    models.Cooperation.insert_many(
        [
            {
                "branch": other.id,
                "distributor": distributor_client.distributor.id,
                "officer": refused_by.id,
                "status": "rejected",
                "created_at": later,
            }
            for _ in range(501)
        ]
    ).execute()
    html = distributor_client.get("/distributor/").get_data(as_text=True)
    row = html.split(f'data-branch="{branch.id}"', 1)[1].split("</tr>", 1)[0]
    assert 'data-status="active"' in row and officer.full_name in row and officer.national_code in row


def test_the_nomination_form_asks_who_before_it_sends(distributor_client, make_officer, dbc):
    """Check answers (finding 14): the page's form shows the officer's name first and
    sends nothing; the confirmation sends; the contract's bare POST still nominates."""
    officer = make_officer(qualified=True)
    branch = define_branch(distributor_client)
    page = distributor_client.post(
        f"/distributor/branches/{branch.id}/nominate", data={"national_code": officer.national_code, "step": "check"}
    )
    assert page.status_code == 200
    assert officer.full_name in page.get_data(as_text=True) and 'id="confirm-nomination"' in page.get_data(as_text=True)
    assert models.Cooperation.select().count() == 0
    response = distributor_client.post(
        f"/distributor/branches/{branch.id}/nominate", data={"national_code": officer.national_code}
    )
    assert response.status_code == 302 and models.Cooperation.select().count() == 1
