"""The legacy import and issue 19: the optional ``district`` column of officers.csv, routing
by it, and the field x degree matrix, on generated files."""

from __future__ import annotations

import csv

import pytest

import models
from helpers import national_code
from models import legacy


def _write(directory, name, columns, rows):
    with open(directory / name, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(columns)
        for row in rows:
            writer.writerow([row.get(c, "") for c in columns])


def _officer(n, **overrides):
    row = {
        "user_code": f"8{n:05d}",
        "national_code": national_code(n * 7919 + 29),
        "birth_date": "1365/04/12",
        "first_name": "رضا",
        "last_name": "کریمی",
        "father_name": "حسن",
        "gender": "male",
        "id_card_number": str(1000 + n),
        "mobile": f"0913{n:07d}",
        "phone": "",
        "email": "",
        "address": "تهران، خیابان آزادی، کوچه دوم، پلاک ۱۲",
        "postal_code": "1314567890",
        "province": "تهران",
        "city": "تهران",
        "field_of_study": "مهندسی پزشکی",
        "degree_level": "کارشناسی",
        "password_format": "0",
        "password": f"old-pass-{n}",
        "password_salt": "",
        "qualified": "1",
    }
    row.update(overrides)
    return row


@pytest.fixture
def legacy_dir(tmp_path):
    def make(officers, with_district=True):
        directory = tmp_path / "legacy"
        directory.mkdir(exist_ok=True)
        columns = legacy.COLUMNS[legacy.OFFICERS] + (("district",) if with_district else ())
        _write(directory, legacy.OFFICERS, columns, officers)
        for name in (legacy.DISTRIBUTORS, legacy.BRANCHES, legacy.COOPERATIONS):
            _write(directory, name, legacy.COLUMNS[name], [])
        return directory

    return make


def _report(directory, severity="warning"):
    """{(line, code)} of the report's lines of one severity."""
    with open(directory / "import-report.csv", encoding="utf-8-sig", newline="") as handle:
        return {(int(r["line"]), r["code"]) for r in csv.DictReader(handle) if r["severity"] == severity}


def test_the_district_column_routes_and_is_checked(dbc, legacy_dir):
    rows = [
        _officer(1, district="۵"),
        _officer(2, district=""),
        _officer(3, district="40"),
        _officer(4, city="شیراز", province="فارس", district="3"),
        _officer(5, city="شیراز", province="فارس"),
    ]
    directory = legacy_dir(rows)
    legacy.import_legacy(directory)
    by_user_code = {o.user_code: o for o in models.Officer.select()}
    fifth_district = by_user_code["800001"]
    assert (fifth_district.district, fifth_district.university.code) == (5, "iran")
    # No district given: imported without one, routed to the city's university, asked at login.
    unknown = by_user_code["800002"]
    assert unknown.district is None and unknown.needs_district() and unknown.university.code == "tehran"
    # A district the city does not have, or a district in a city without districts: imported
    # without one, with a warning (issue 18: only what makes a person unknowable is refused);
    # the Tehran officer is asked at login.
    assert by_user_code["800003"].district is None and by_user_code["800003"].needs_district()
    assert by_user_code["800004"].district is None and not by_user_code["800004"].needs_district()
    assert by_user_code["800005"].district is None
    assert _report(directory) >= {(4, "invalid_district"), (5, "district_not_applicable")}
    assert _report(directory, "error") == set()


def test_the_file_without_a_district_column_still_imports(dbc, legacy_dir):
    directory = legacy_dir([_officer(6)], with_district=False)
    legacy.import_legacy(directory)
    officer = models.Officer.get(models.Officer.user_code == "800006")
    assert officer.district is None and officer.needs_district()


def test_a_field_not_allowed_at_the_degree_is_kept_with_a_warning(dbc, legacy_dir):
    directory = legacy_dir(
        [
            _officer(7, field_of_study="پزشکی عمومی", degree_level="کارشناسی"),
            _officer(8, field_of_study="پزشکی عمومی", degree_level="دکترای حرفه‌ای"),
        ]
    )
    legacy.import_legacy(directory)
    by_user_code = {o.user_code: o for o in models.Officer.select()}
    # The officer's real degree, which today's matrix does not allow: kept, and reported.
    assert by_user_code["800007"].degree_level.name == "کارشناسی" and "800008" in by_user_code
    assert (2, "degree_not_allowed_for_field") in _report(directory)


def test_a_renamed_or_moved_city_is_found_under_its_former_name(dbc, legacy_dir):
    """The old system names the cities as they were (data/city_renames.csv): Tabas, moved
    from Yazd to South Khorasan, and Haftkel, now written «هفتگل»."""
    directory = legacy_dir(
        [
            _officer(9, province="یزد", city="طبس", qualified="1"),
            _officer(10, province="خوزستان", city="هفتکل"),
            _officer(11, province="یزد", city="هفتکل"),
        ]
    )
    legacy.import_legacy(directory)
    by_user_code = {o.user_code: o for o in models.Officer.select()}
    tabas = by_user_code["800009"]
    assert (tabas.city.name, tabas.province.code) == ("طبس", "khorasan-jonubi")
    # Qualified: its file is with the university that covers Tabas now.
    assert tabas.university_id == tabas.city.university_id
    assert tabas.university.province.code == "khorasan-jonubi"
    haftgel = by_user_code["800010"]
    assert (haftgel.city.name, haftgel.province.code) == ("هفتگل", "khuzestan")
    # A former name in another province is not a rename: the city stays unknown (a warning),
    # and the officer fills it in at the first login.
    unknown = by_user_code["800011"]
    assert unknown.city is None and unknown.profile_incomplete
