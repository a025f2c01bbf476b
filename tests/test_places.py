"""Places that match the country (issue 19): routing by (city, district), the loader's
corrections of the first release's rows, the university names, Persian alphabetical order and
the field x degree matrix, against the real database and the shipped data files."""

from __future__ import annotations

import csv
import shutil

import pytest

import models
import persian
from models import db
from models import edit_requests as edits
from models.reference import DATA_DIR
from storage import StoredFile

TEHRAN = "تهران"


def _data(name):
    with open(DATA_DIR / name, encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def _tehran():
    return models.City.get((models.City.name == TEHRAN) & (models.City.province == _province("tehran")))


def _province(code):
    return models.Province.get(models.Province.code == code)


# --- routing -------------------------------------------------------------------------


@pytest.mark.parametrize("row", _data("city_districts.csv"), ids=lambda r: f"{r['city_fa']}-{r['district']}")
def test_every_district_routes_to_the_university_the_data_names(dbc, row):
    city = models.City.get(
        (models.City.name == row["city_fa"]) & (models.City.province == _province(row["province_code"]))
    )
    assert models.route(city, int(row["district"])).code == row["university_code"]


def test_tehran_is_split_between_the_three_universities(dbc):
    routed = {models.route(_tehran(), n).code for n in range(1, 23)}
    assert routed == {"tehran", "shahid-beheshti", "iran"}
    assert models.districts_by_city() == {_tehran().id: list(range(1, 23))}


def test_a_city_not_split_routes_to_its_own_university(dbc):
    isfahan = models.City.get(models.City.name == "اصفهان")
    assert models.route(isfahan).code == "isfahan"
    kashan = models.City.get(models.City.name == "کاشان")
    assert models.route(kashan, None).code == "kashan"


def test_tehran_without_a_district_keeps_the_city_university(dbc):
    # An officer of the first release who has not told their district yet.
    assert models.route(_tehran(), None).code == "tehran"


@pytest.mark.parametrize("value, expected", [("2", 2), ("۲۲", 22), ("١٢", 12), (" 9 ", 9)])
def test_the_district_is_read_in_any_digits(dbc, value, expected):
    assert models.clean_district(_tehran(), value) == expected


@pytest.mark.parametrize("value", ["", "0", "23", "abc", "۲۳"])
def test_tehran_needs_a_known_district(dbc, value):
    with pytest.raises(models.DomainError):
        models.clean_district(_tehran(), value)


def test_other_cities_take_no_district(dbc):
    shiraz = models.City.get(models.City.name == "شیراز")
    assert models.clean_district(shiraz, "") is None
    with pytest.raises(models.DomainError):
        models.clean_district(shiraz, "3")
    # A refused city says nothing about the district.
    assert models.clean_district(None, "3") is None


# --- the loader ----------------------------------------------------------------------


def test_every_city_of_the_file_is_loaded_with_its_county(dbc):
    rows = _data("cities.csv")
    assert models.City.select().count() >= len(rows)
    loaded = {
        (c.province.code, c.name): (c.county, c.university.code)
        for c in models.City.select(models.City, models.Province, models.University)
        .join_from(models.City, models.Province)
        .join_from(models.City, models.University)
    }
    for row in rows:
        assert loaded[(row["province_code"], row["name_fa"])] == (row["county_fa"], row["university_code"])


def _first_release_rows():
    """Put back what the first release's files made: the «دانشگاه» form of a school's name,
    a county's name on a city, Tabas in Yazd, no counties."""
    khoy = models.University.get(models.University.code == "khoy")
    models.University.update(name="دانشگاه علوم پزشکی خوی", kind="university").where(
        models.University.id == khoy.id
    ).execute()
    haftgel = models.City.get(models.City.name == "هفتگل")
    models.City.update(name="هفتکل", county="").where(models.City.id == haftgel.id).execute()
    tabas = models.City.get((models.City.name == "طبس") & (models.City.province == _province("khorasan-jonubi")))
    models.City.update(
        province=_province("yazd"), university=models.University.get(models.University.code == "yazd")
    ).where(models.City.id == tabas.id).execute()
    return khoy.id, haftgel.id, tabas.id


@pytest.fixture
def restore_reference_rows(dbc):
    """These tests change reference rows, which the other tests share: reload them after."""
    yield
    with db.atomic():
        models.load_reference_data()


def test_reload_corrects_the_rows_nobody_edited(restore_reference_rows):
    khoy_id, haftgel_id, tabas_id = _first_release_rows()
    models.load_reference_data()
    khoy = models.University.get_by_id(khoy_id)
    assert (khoy.name, khoy.kind) == ("دانشکده علوم پزشکی خوی", "school")
    haftgel = models.City.get_by_id(haftgel_id)
    assert (haftgel.name, haftgel.county) == ("هفتگل", "هفتکل")
    tabas = models.City.get_by_id(tabas_id)
    assert (tabas.province.code, tabas.university.code) == ("khorasan-jonubi", "birjand")
    assert models.City.select().where(models.City.name == "هفتگل").count() == 1


def test_reload_keeps_what_the_directorate_edited(restore_reference_rows):
    khoy = models.University.get(models.University.code == "khoy")
    models.University.update(name="دانشکده علوم پزشکی و خدمات بهداشتی درمانی خوی").where(
        models.University.id == khoy.id
    ).execute()
    district = models.CityDistrict.get((models.CityDistrict.city == _tehran()) & (models.CityDistrict.number == 1))
    models.CityDistrict.update(university=models.University.get(models.University.code == "iran")).where(
        models.CityDistrict.id == district.id
    ).execute()
    medicine = models.FieldOfStudy.get(models.FieldOfStudy.code == "medicine")
    models.FieldDegree.delete().where(models.FieldDegree.field == medicine).execute()

    added = models.load_reference_data()

    assert set(added.values()) == {0}
    assert models.University.get_by_id(khoy.id).name == "دانشکده علوم پزشکی و خدمات بهداشتی درمانی خوی"
    assert models.route(_tehran(), 1).code == "iran"
    assert not models.FieldDegree.select().where(models.FieldDegree.field == medicine).exists()
    # Put the shared rows back as the data has them.
    models.University.update(name="دانشکده علوم پزشکی خوی").where(models.University.id == khoy.id).execute()
    models.CityDistrict.update(university=models.University.get(models.University.code == "shahid-beheshti")).where(
        models.CityDistrict.id == district.id
    ).execute()
    for degree in models.DegreeLevel.select().where(models.DegreeLevel.code == "professional-doctorate"):
        models.FieldDegree.create(field=medicine, degree=degree)


def test_a_data_directory_without_the_new_files_still_loads(dbc, tmp_path):
    for name in ("provinces.csv", "universities.csv", "cities.csv", "fields.csv", "degrees.csv", "document_kinds.csv"):
        shutil.copy(DATA_DIR / name, tmp_path / name)
    assert set(models.load_reference_data(tmp_path).values()) == {0}


# --- names ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name, code",
    [
        ("دانشکده علوم پزشکی خوی", "khoy"),
        ("دانشگاه علوم پزشکی خوی", "khoy"),
        ("دانشگاه علوم پزشكي خوی", "khoy"),  # Arabic kaf and yeh, as typed on some keyboards
        ("دانشگاه علوم پزشکی اصفهان", "isfahan"),
        ("دانشگاه علوم پزشکی شهید بهشتی", "shahid-beheshti"),
    ],
)
def test_a_university_is_found_by_its_official_name_or_the_contract_form(dbc, name, code):
    assert models.find_university(name).code == code


def test_an_unknown_university_is_not_found(dbc):
    assert models.find_university("دانشگاه علوم پزشکی آتلانتیس") is None
    assert models.find_university("دانشکده علوم پزشکی اصفهان") is None  # Isfahan is a university


def test_the_contract_name_of_every_university(dbc):
    for university in models.University.select():
        assert university.contract_name.startswith("دانشگاه علوم پزشکی ")
        assert models.find_university(university.contract_name) == university


# --- Persian order -------------------------------------------------------------------


def _is_persian_order(names):
    return names == sorted(names, key=persian.sort_key)


def test_provinces_and_cities_are_in_persian_order(dbc):
    grouped = models.cities_by_province()
    provinces = [p.name for p, _ in grouped]
    assert _is_persian_order(provinces)
    assert provinces.index("کرمان") < provinces.index("همدان")
    assert provinces.index("گیلان") < provinces.index("همدان")
    assert provinces[-1] == "یزد"
    for province, cities in grouped:
        assert _is_persian_order([c.name for c in cities]), province.name
    tehran_cities = [c.name for p, cities in grouped if p.code == "tehran" for c in cities]
    assert tehran_cities.index("پاکدشت") < tehran_cities.index("تهران")


def test_persian_order_puts_vav_before_he_and_reads_arabic_letters_as_persian():
    assert sorted(["یزد", "همدان", "ورامین", "كرمان", "گیلان", "قم"], key=persian.sort_key) == [
        "قم",
        "كرمان",
        "گیلان",
        "ورامین",
        "همدان",
        "یزد",
    ]


# --- field x degree ------------------------------------------------------------------


def _field(code):
    return models.FieldOfStudy.get(models.FieldOfStudy.code == code)


def _degree(code):
    return models.DegreeLevel.get(models.DegreeLevel.code == code)


@pytest.mark.parametrize(
    "field, degree, allowed",
    [
        ("medicine", "professional-doctorate", True),
        ("medicine", "bachelor", False),
        ("medicine", "phd", False),
        ("dentistry", "professional-doctorate", True),
        ("dentistry", "master", False),
        ("biomedical-engineering", "associate", True),  # no restriction: every eligible degree
        ("biomedical-engineering", "phd", True),
    ],
)
def test_the_shipped_matrix(dbc, field, degree, allowed):
    if allowed:
        models.check_study(_field(field), _degree(degree))
    else:
        with pytest.raises(models.DomainError) as refused:
            models.check_study(_field(field), _degree(degree))
        assert refused.value.params["name"] == _field(field).name
        assert refused.value.field == "degree_level"


def test_restricting_a_field_takes_effect_and_lifting_it_too(restore_reference_rows):
    field, master, bachelor = _field("biomedical-engineering"), _degree("master"), _degree("bachelor")
    models.FieldDegree.create(field=field, degree=master)
    models.check_study(field, master)
    with pytest.raises(models.DomainError):
        models.check_study(field, bachelor)
    models.FieldDegree.delete().where(models.FieldDegree.field == field).execute()
    models.check_study(field, bachelor)


# --- the matrix and the district in edit requests --------------------------------------


def test_an_edit_request_is_checked_against_the_matrix_with_the_unchanged_value(make_officer, dbc):
    officer = make_officer(qualified=True)  # a bachelor's degree
    with pytest.raises(models.ValidationFailed) as refused:
        edits.file_edit_request(officer, officer.as_actor(), {"field_of_study": str(_field("medicine").id)}, [])
    assert "degree_level" in refused.value.errors
    request_ = edits.file_edit_request(
        officer,
        officer.as_actor(),
        {"field_of_study": str(_field("medicine").id), "degree_level": str(_degree("professional-doctorate").id)},
        [],
    )
    assert set(request_.change_map) == {"field_of_study", "degree_level"}


def test_an_approval_checks_the_matrix_of_the_day(make_officer, make_staff, restore_reference_rows):
    officer = make_officer(qualified=True)
    request_ = edits.file_edit_request(officer, officer.as_actor(), {"field_of_study": str(_field("physics").id)}, [])
    models.FieldDegree.create(field=_field("physics"), degree=_degree("phd"))  # restricted meanwhile
    with pytest.raises(models.DomainError):
        request_.apply("approve", make_staff("university", "دانشگاه علوم پزشکی تهران").as_actor())
    assert models.Officer.get_by_id(officer.id).field_of_study_id != _field("physics").id
    models.FieldDegree.delete().where(models.FieldDegree.field == _field("physics")).execute()


def test_an_approved_change_of_district_moves_the_file(make_officer, make_staff, dbc):
    officer = make_officer(qualified=True)  # Tehran, district 17: Tehran University
    assert officer.reviewing_university().code == "tehran"
    request_ = edits.file_edit_request(officer, officer.as_actor(), {"district": "۶"}, [])
    assert request_.change_map == {"district": 6}
    request_.apply("approve", make_staff("university", "دانشگاه علوم پزشکی تهران").as_actor())
    again = models.Officer.get_by_id(officer.id)
    assert (again.district, again.university.code) == (6, "iran")


def test_moving_out_of_tehran_drops_the_district(make_officer, make_staff, dbc):
    officer = make_officer(qualified=True)
    shiraz = models.City.get(models.City.name == "شیراز")
    request_ = edits.file_edit_request(
        officer, officer.as_actor(), {"province": str(shiraz.province_id), "city": str(shiraz.id)}, []
    )
    assert request_.change_map["district"] is None
    request_.apply("approve", make_staff("university", "دانشگاه علوم پزشکی تهران").as_actor())
    again = models.Officer.get_by_id(officer.id)
    assert (again.city_id, again.district, again.university.code) == (shiraz.id, None, "shiraz")


# --- requests and branches ---------------------------------------------------------


def test_a_qualification_request_snapshots_the_district_and_goes_to_its_university(make_officer, dbc):
    officer = make_officer(district="9")
    owner = officer.as_actor()
    request_ = models.qualification.start_request(officer, owner)
    for i, kind in enumerate(("degree", "national_card", "id_booklet", "photo")):
        models.qualification.attach_document(
            request_,
            owner,
            kind,
            StoredFile(
                storage_name=f"aa/{(request_.id * 10 + i):032x}.pdf",
                display_name=f"{kind}.pdf",
                content_type="application/pdf",
                size=10,
                sha256="0" * 64,
            ),
        )
    request_.apply("submit", owner)
    submitted = models.QualificationRequest.get_by_id(request_.id)
    assert (submitted.city_id, submitted.district, submitted.university.code) == (_tehran().id, 9, "iran")


def test_a_branch_in_tehran_needs_a_district_and_routes_by_it(dbc):
    distributor = models.create_distributor("dist19", "Kh0sh-Amad-2024", "شرکت نمونه", "company", "09121112233")
    actor = distributor.as_actor()
    tehran = _tehran()
    with pytest.raises(models.ValidationFailed) as refused:
        models.cooperation.create_branch(actor, "شعبه مرکزی", tehran.province, tehran, "تهران، خیابان آزادی، پلاک ۱۲")
    assert "district" in refused.value.errors
    branch = models.cooperation.create_branch(
        actor, "شعبه مرکزی", tehran.province, tehran, "تهران، خیابان آزادی، پلاک ۱۲", district="۲۱"
    )
    assert branch.district == 21
    assert models.route(branch.city, branch.district).code == "iran"
