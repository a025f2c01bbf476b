"""What changes routing and access is audited (D9), and a city moved to another university
takes its files under way along in one audited operation (D10)."""

from __future__ import annotations

import pytest

import models
from helpers import documents_payload, staff_client_for
from models import Action, AuditLog, City, QualificationRequest
from models import cooperation as coops
from models import qualification as quals
from storage import StoredFile

TEHRAN = "دانشگاه علوم پزشکی تهران"
ISFAHAN = "دانشگاه علوم پزشکی اصفهان"


def attach_all(request, actor):
    for i, kind in enumerate(("degree", "national_card", "id_booklet", "photo")):
        stored = StoredFile(
            storage_name=f"ra/{(request.id * 10 + i):032x}.pdf",
            display_name=f"{kind}.pdf",
            content_type="application/pdf",
            size=10,
            sha256="0" * 64,
        )
        quals.attach_document(request, actor, kind, stored)


@pytest.fixture
def cities_restored(app):
    """The session's reference data is shared by every test: put the cities' (and the
    districts') universities back as they were."""
    with models.db.connection_context():
        universities = dict(City.select(City.id, City.university).tuples())
        districts = dict(models.CityDistrict.select(models.CityDistrict.id, models.CityDistrict.university).tuples())
    yield
    with models.db.connection_context():
        for city_id, university_id in universities.items():
            City.update(university=university_id).where(
                (City.id == city_id) & (City.university != university_id)
            ).execute()
        for district_id, university_id in districts.items():
            models.CityDistrict.update(university=university_id).where(
                (models.CityDistrict.id == district_id) & (models.CityDistrict.university != university_id)
            ).execute()


@pytest.fixture
def director(app, make_staff):
    return staff_client_for(app, make_staff("directorate"))


def audit_rows(action):
    return list(AuditLog.select().where(AuditLog.action == action).order_by(AuditLog.id))


def test_moving_a_city_to_another_university_is_audited_with_old_and_new(director, dbc, cities_restored):
    kashan = City.get(City.name == "کاشان")
    isfahan = models.University.get(models.University.name == ISFAHAN)
    old = kashan.university.name
    response = director.post(
        f"/admin/city/edit/?id={kashan.id}",
        data={
            "name": kashan.name,
            "name_en": kashan.name_en or "",
            "province": str(kashan.province_id),
            "university": str(isfahan.id),
        },
    )
    assert response.status_code == 302
    assert City.get_by_id(kashan.id).university_id == isfahan.id
    (row,) = audit_rows("city_changed")
    assert f"university: {old} → {ISFAHAN}" in row.detail and row.object_id == kashan.id


@pytest.mark.parametrize(
    "endpoint, data, action, expected",
    [
        ("setting", {"key": "sla_working_days", "value": "7"}, "setting_created", "value: — → 7"),
        ("holiday", {"date": "1405/01/13", "name": "سیزده‌بدر"}, "holiday_created", "name: — → سیزده‌بدر"),
    ],
)
def test_settings_and_holidays_are_audited(director, dbc, endpoint, data, action, expected):
    assert director.post(f"/admin/{endpoint}/new/", data=data).status_code == 302
    (row,) = audit_rows(action)
    assert expected in row.detail


def test_switching_a_field_off_is_audited(director, dbc):
    field = models.FieldOfStudy.select().where(models.FieldOfStudy.eligible == True).first()  # noqa: E712
    response = director.post(
        f"/admin/field/edit/?id={field.id}",
        data={"code": field.code, "name": field.name, "name_en": field.name_en or ""},  # eligible unticked
    )
    assert response.status_code == 302
    assert not models.FieldOfStudy.get_by_id(field.id).eligible
    (row,) = audit_rows("field_of_study_changed")
    assert "eligible: True → False" in row.detail


def test_an_export_is_audited_with_list_filters_and_rows(director, make_officer, dbc):
    officers = [make_officer() for _ in range(3)]
    response = director.get("/admin/officer/export/csv/")
    assert response.status_code == 200
    response.get_data()  # the stream runs to its end
    response = director.get(f"/admin/officer/export/csv/?search={officers[0].national_code}")
    assert officers[0].national_code in response.get_data(as_text=True)
    everything, searched = audit_rows("export")
    assert everything.actor_id is not None and "list=officer" in everything.detail and "rows=3" in everything.detail
    assert f"search={officers[0].national_code}" in searched.detail and "rows=1" in searched.detail


def test_a_staff_view_of_a_document_is_audited(app, officer_client, make_staff, dbc):
    response = officer_client.post(
        "/officer/qualification/new",
        data={"action": "submit", **documents_payload()},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    reviewer = make_staff("university", TEHRAN)
    document = models.Document.select().first()
    staff = staff_client_for(app, reviewer)
    assert staff.get(f"/admin/qualification/document/?doc={document.id}").status_code == 200
    (row,) = audit_rows("document_viewed")
    assert row.actor_id == reviewer.id and row.object_id == document.id


# ------------------------------------------------------------ D10


def test_a_city_moved_to_another_university_takes_its_files_along(
    app, director, make_officer, make_staff, dbc, cities_restored
):
    tehran_city = City.get(City.name == "تهران")
    isfahan = models.University.get(models.University.name == ISFAHAN)
    reviewer = make_staff("university", TEHRAN).as_actor()
    # An open request, bound to a Tehran reviewer by a deficiency; a qualified officer;
    # an active cooperation at a branch of the city.
    waiting = make_officer()
    request = quals.start_request(waiting, waiting.as_actor())
    attach_all(request, waiting.as_actor())
    request.apply(Action.SUBMIT, waiting.as_actor())
    request.apply(Action.DEFICIENCY, reviewer, note="عکس")
    serving = make_officer(qualified=True)
    distributor = models.create_distributor("pakhsh-d10", "Kh0sh-Amad-2024", "شرکت د", "company", "09120000010")
    branch = coops.create_branch(
        distributor.as_actor(), "شعبه د", tehran_city.province, tehran_city, "تهران، خیابان د، پلاک ۱", district="17"
    )
    cooperation = coops.nominate(branch, distributor.as_actor(), serving.national_code)
    cooperation.apply(Action.OFFICER_APPROVE, serving.as_actor())
    cooperation.apply(Action.APPROVE, reviewer)

    # Tehran is split by district: its own university covers only the districts the table
    # does not name, so changing it leaves district 17's files where they belong.
    response = director.post(
        f"/admin/city/edit/?id={tehran_city.id}",
        data={
            "name": tehran_city.name,
            "name_en": tehran_city.name_en or "",
            "province": str(tehran_city.province_id),
            "university": str(isfahan.id),
        },
        follow_redirects=True,
    )
    assert "move-files" not in response.get_data(as_text=True)
    assert sum(models.rerouting.files_of_city(City.get_by_id(tehran_city.id)).values()) == 0
    # District 17 given to another university: its files under way are offered to move.
    district = models.CityDistrict.get(
        (models.CityDistrict.city == tehran_city.id) & (models.CityDistrict.number == 17)
    )
    response = director.post(
        f"/admin/citydistrict/edit/?id={district.id}",
        data={"city": str(tehran_city.id), "number": "17", "university": str(isfahan.id)},
        follow_redirects=True,
    )
    assert "move-files" in response.get_data(as_text=True)
    page = director.get(f"/admin/city/move-files/?id={tehran_city.id}").get_data(as_text=True)
    counts = models.rerouting.files_of_city(City.get_by_id(tehran_city.id))
    assert counts["qualification_requests"] == 1 and counts["active_cooperations"] == 1 and counts["officers"] == 1
    assert 'id="move-files"' in page
    assert director.post(f"/admin/city/move-files/?id={tehran_city.id}").status_code == 200
    moved = QualificationRequest.get_by_id(request.id)
    assert moved.university_id == isfahan.id and moved.reviewer_id is None
    assert models.Cooperation.get_by_id(cooperation.id).university_id == isfahan.id
    assert models.Officer.get_by_id(serving.id).university_id == isfahan.id
    assert sum(models.rerouting.files_of_city(City.get_by_id(tehran_city.id)).values()) == 0
    (row,) = audit_rows("city_files_moved")
    assert "qualification_requests=1" in row.detail
    assert [e.action for e in moved.history()][-1] == "reassign"
    # A Tehran reviewer can no longer see it; Isfahan's can.
    assert not moved.can_see(reviewer)
    assert moved.can_see(make_staff("university", ISFAHAN).as_actor())


def test_a_city_that_is_not_split_moves_all_its_files(app, director, make_officer, dbc, cities_restored):
    shiraz = City.get(City.name == "شیراز")
    isfahan = models.University.get(models.University.name == ISFAHAN)
    officer = make_officer(city="شیراز")
    request = quals.start_request(officer, officer.as_actor())
    attach_all(request, officer.as_actor())
    request.apply(Action.SUBMIT, officer.as_actor())
    assert sum(models.rerouting.files_of_city(shiraz).values()) == 0
    City.update(university=isfahan.id).where(City.id == shiraz.id).execute()
    assert models.rerouting.files_of_city(City.get_by_id(shiraz.id))["qualification_requests"] == 1
    assert director.post(f"/admin/city/move-files/?id={shiraz.id}").status_code == 200
    assert QualificationRequest.get_by_id(request.id).university_id == isfahan.id


# ------------------------------------------------------------ D12


def test_a_serving_officer_moved_to_another_province_is_flagged_to_the_branch(
    app, director, make_officer, make_staff, dbc
):
    tehran_city = City.get(City.name == "تهران")
    reviewer = make_staff("university", TEHRAN)
    officer = make_officer(qualified=True)
    distributor = models.create_distributor("pakhsh-d12", "Kh0sh-Amad-2024", "شرکت ی", "company", "09120000012")
    branch = coops.create_branch(
        distributor.as_actor(), "شعبه ی", tehran_city.province, tehran_city, "تهران، خیابان ی، پلاک ۱", district="17"
    )
    cooperation = coops.nominate(branch, distributor.as_actor(), officer.national_code)
    cooperation.apply(Action.OFFICER_APPROVE, officer.as_actor())
    cooperation.apply(Action.APPROVE, reviewer.as_actor())
    zahedan = City.get(City.name == "زاهدان")
    edit = models.edit_requests.file_edit_request(
        officer, officer.as_actor(), {"province": str(zahedan.province_id), "city": str(zahedan.id)}, []
    )
    edit.apply(Action.APPROVE, reviewer.as_actor())
    texts = [s.text for s in models.SmsOutbox.select().where(models.SmsOutbox.to == "09120000012")]
    assert any("زاهدان" in text or zahedan.province.name in text for text in texts), texts
    assert models.dashboards.branches_with_officer_elsewhere(reviewer.university_id) == [
        (branch.name, officer.full_name, cooperation.id)
    ]
    staff = staff_client_for(app, reviewer)
    assert 'data-flag="officer-elsewhere"' in staff.get("/admin/").get_data(as_text=True)
    client = app.test_client()
    client.post("/distributor/login", data={"username": "pakhsh-d12", "password": "Kh0sh-Amad-2024"})
    assert 'data-flag="officer-elsewhere"' in client.get("/distributor/").get_data(as_text=True)
