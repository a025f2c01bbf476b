"""Issue 19's leftovers: the district row only where the city is split, the allowed degrees in
the fields' export, and the optional ``district`` column of the legacy ``branches.csv``."""

from __future__ import annotations

import csv
import io

import pytest

import models
from helpers import PASSWORD, attach_all, login, national_code, staff_client_for
from models import legacy
from models import qualification as quals

TEHRAN = "دانشگاه علوم پزشکی تهران"
ISFAHAN = "دانشگاه علوم پزشکی اصفهان"

# ------------------------------------------------------------------ the district row


@pytest.mark.parametrize(
    ("city", "shown"),
    [("تهران", "منطقه ۱۷"), ("اصفهان", None)],
)
def test_the_profile_shows_the_district_only_in_a_split_city(app, make_officer, dbc, city, shown):
    officer = make_officer(city=city)
    client = app.test_client()
    assert login(client, "/officer/login", officer.user_code).status_code == 302
    page = client.get("/officer/profile").get_data(as_text=True)
    assert ('data-field="district"' in page) == (shown is not None)
    if shown:
        assert shown in page


@pytest.mark.parametrize(
    ("city", "university", "shown"),
    [("تهران", TEHRAN, True), ("اصفهان", ISFAHAN, False)],
)
def test_the_review_page_shows_the_district_only_in_a_split_city(
    app, make_officer, make_staff, dbc, city, university, shown
):
    officer = make_officer(city=city)
    request = quals.start_request(officer, officer.as_actor())
    attach_all(request, officer.as_actor())
    request.apply("submit", officer.as_actor())
    reviewer = staff_client_for(app, make_staff("university", university))
    page = reviewer.get(f"/admin/qualification/review/?id={request.id}").get_data(as_text=True)
    assert 'data-field="city"' in page
    assert ('data-field="district"' in page) == shown


# ------------------------------------------------------------------ the fields' export


def test_the_fields_export_has_the_allowed_degrees(app, make_staff, dbc):
    director = staff_client_for(app, make_staff("directorate"))
    response = director.get("/admin/field/export/csv/")
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    header, body = rows[0], rows[1:]
    column = header.index(models.translate("Allowed degrees"))  # the column's label, in Persian
    code = header.index(models.translate("Code"))
    by_code = {row[code]: row for row in body}
    expected = models.reference.allowed_degree_names()
    assert expected, "the shipped matrix restricts some fields"
    for field in models.FieldOfStudy.select():
        assert by_code[field.code][column] == expected.get(field.id, "")


# ------------------------------------------------------------------ branches.csv's district


def _write(directory, name, columns, rows):
    with open(directory / name, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(columns)
        for row in rows:
            writer.writerow([row.get(c, "") for c in columns])


def _officer(n):
    return {
        "user_code": f"7{n:05d}",
        "national_code": national_code(n * 7919 + 31),
        "birth_date": "1365/04/12",
        "first_name": "رضا",
        "last_name": "کریمی",
        "father_name": "حسن",
        "gender": "male",
        "id_card_number": str(1000 + n),
        "mobile": f"0913{n:07d}",
        "address": "تهران، خیابان آزادی، کوچه دوم، پلاک ۱۲",
        "postal_code": "1314567890",
        "province": "تهران",
        "city": "تهران",
        "district": "17",
        "field_of_study": "مهندسی پزشکی",
        "degree_level": "کارشناسی",
        "password_format": "0",
        "password": f"Old-Pass-{n}-long",
        "qualified": "1",
    }


def _branch(legacy_id, city="تهران", province="تهران", **more):
    row = {
        "legacy_id": legacy_id,
        "distributor_legacy_id": "D1",
        "name": f"شعبه {legacy_id}",
        "province": province,
        "city": city,
        "address": "خیابان آزادی، کوچه دوم، پلاک ۱۲",
    }
    row.update(more)
    return row


@pytest.fixture
def legacy_files(tmp_path):
    def make(branches, with_district=True):
        directory = tmp_path / "legacy"
        directory.mkdir(exist_ok=True)
        distributor = {
            "legacy_id": "D1",
            "name": "شرکت پخش",
            "kind": "company",
            "manager_mobile": "09121110000",
            "username": "pakhsh-legacy",
            "password_format": "0",
            "password": PASSWORD,
        }
        _write(directory, legacy.DISTRIBUTORS, legacy.COLUMNS[legacy.DISTRIBUTORS], [distributor])
        columns = legacy.COLUMNS[legacy.BRANCHES] + (("district",) if with_district else ())
        _write(directory, legacy.BRANCHES, columns, branches)
        officers = [_officer(n) for n in range(1, len(branches) + 1)]
        _write(directory, legacy.OFFICERS, legacy.COLUMNS[legacy.OFFICERS] + ("district",), officers)
        contracts = [
            {
                "branch_legacy_id": b["legacy_id"],
                "officer_national_code": o["national_code"],
                "started_at": "1400/01/15",
            }
            for b, o in zip(branches, officers, strict=True)
        ]
        _write(directory, legacy.COOPERATIONS, legacy.COLUMNS[legacy.COOPERATIONS], contracts)
        return directory

    return make


def _report(directory):
    with open(directory / "import-report.csv", encoding="utf-8-sig", newline="") as handle:
        return {(r["file"], int(r["line"]), r["severity"], r["code"]) for r in csv.DictReader(handle)}


def test_branches_are_routed_by_their_district_and_a_tehran_branch_without_one_is_warned(dbc, legacy_files):
    directory = legacy_files(
        [
            _branch("B1", district="۲"),  # Iran University's district
            _branch("B2", district="12"),  # Shahid Beheshti's
            _branch("B3", district=""),  # none: warned, the city's own university
            _branch("B4", district="40"),  # Tehran has no district 40: warned, kept without one
            _branch("B5", city="اصفهان", province="اصفهان"),
        ]
    )
    legacy.import_legacy(directory)
    branches = {b.legacy_id: b for b in models.Branch.select()}
    assert {k: b.district for k, b in branches.items()} == {"B1": 2, "B2": 12, "B3": None, "B4": None, "B5": None}
    universities = {
        c.branch.legacy_id: c.university.code for c in models.Cooperation.select().where(models.Cooperation.legacy)
    }
    assert universities == {"B1": "iran", "B2": "shahid-beheshti", "B3": "tehran", "B4": "tehran", "B5": "isfahan"}
    report = _report(directory)
    assert (legacy.BRANCHES, 4, "warning", "missing_district") in report
    assert any(r[:3] == (legacy.BRANCHES, 5, "warning") and r[3] != "missing_district" for r in report)
    assert not any(r[0] == legacy.BRANCHES and r[1] in (2, 3, 6) for r in report)


def test_branches_csv_without_a_district_column_imports_with_warnings(dbc, legacy_files):
    directory = legacy_files([_branch("B1"), _branch("B2", city="اصفهان", province="اصفهان")], with_district=False)
    legacy.import_legacy(directory)
    assert models.Branch.select().count() == 2
    report = _report(directory)
    assert (legacy.BRANCHES, 2, "warning", "missing_district") in report
    assert not any(r[0] == legacy.BRANCHES and r[1] == 3 for r in report)
