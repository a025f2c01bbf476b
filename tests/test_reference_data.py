"""Integrity checks for the reference data in data/*.csv.

Only the standard library's csv module is used: these tests must not import
the application, so they stay valid whatever the app's models look like.
"""

import csv
import importlib.util
from collections import Counter, defaultdict
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "data"

# The script that prints the same checks holds the source's counts, once.
_spec = importlib.util.spec_from_file_location("check_reference_data", ROOT / "tools" / "check_reference_data.py")
check_reference_data = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(check_reference_data)

PREFIX_BY_KIND = {"university": "دانشگاه علوم پزشکی ", "school": "دانشکده علوم پزشکی "}
TEHRAN_PROVINCE = "tehran"
TEHRAN_UNIVERSITIES = {"tehran", "shahid-beheshti", "iran"}
# Published by Iran University's health deputy (data/README.md).
IRAN_UNIVERSITY_DISTRICTS = {2, 5, 6, 9, 18, 21, 22}

# A city whose covering university sits in another province.  Each entry is
# (province_code, city name_fa, university_code) and must say why it exists.
# None is known today; keep this set small and documented.
CROSS_PROVINCE_EXCEPTIONS: set[tuple[str, str, str]] = set()

HEADERS = {
    "provinces.csv": ["code", "name_fa", "name_en"],
    "universities.csv": ["code", "name_fa", "name_en", "province_code", "kind"],
    "cities.csv": ["province_code", "county_fa", "name_fa", "name_en", "university_code", "name_en_romanized"],
    "city_districts.csv": ["province_code", "city_fa", "district", "university_code"],
    "city_renames.csv": ["former_province_code", "former_name_fa", "province_code", "name_fa"],
    "field_degrees.csv": ["field_code", "degree_code"],
    "fields.csv": ["code", "name_fa", "name_en", "eligible"],
    "degrees.csv": ["code", "name_fa", "name_en", "rank", "eligible"],
    "document_kinds.csv": ["code", "name_fa", "name_en", "required"],
}

ARABIC_YEH = "\u064a"  # ي
ARABIC_KAF = "\u0643"  # ك
ZWNJ = "\u200c"


def read(name):
    path = DATA / name
    with open(path, encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        assert reader.fieldnames == HEADERS[name], f"{name}: bad header {reader.fieldnames}"
        return list(reader)


@pytest.fixture(scope="module")
def provinces():
    return read("provinces.csv")


@pytest.fixture(scope="module")
def universities():
    return read("universities.csv")


@pytest.fixture(scope="module")
def cities():
    return read("cities.csv")


# --- file-level hygiene -----------------------------------------------------


@pytest.mark.parametrize("name", sorted(HEADERS))
def test_file_is_utf8_without_bom(name):
    raw = (DATA / name).read_bytes()
    assert not raw.startswith(b"\xef\xbb\xbf"), f"{name} starts with a BOM"
    raw.decode("utf-8")  # raises if not UTF-8


@pytest.mark.parametrize("name", sorted(HEADERS))
def test_no_arabic_yeh_or_kaf(name):
    text = (DATA / name).read_text(encoding="utf-8")
    for lineno, line in enumerate(text.splitlines(), 1):
        assert ARABIC_YEH not in line, f"{name}:{lineno}: Arabic yeh (ي) in {line!r}"
        assert ARABIC_KAF not in line, f"{name}:{lineno}: Arabic kaf (ك) in {line!r}"


@pytest.mark.parametrize("name", sorted(HEADERS))
def test_cells_are_trimmed_and_not_empty(name):
    for i, row in enumerate(read(name), 2):
        assert None not in row, f"{name}:{i}: too many cells"
        for key, value in row.items():
            assert value is not None, f"{name}:{i}: missing {key}"
            assert value != "", f"{name}:{i}: empty {key}"
            assert value == value.strip(), f"{name}:{i}: {key} has surrounding spaces: {value!r}"
            assert value.strip(ZWNJ) == value, f"{name}:{i}: {key} starts/ends with ZWNJ"


# --- provinces --------------------------------------------------------------


def test_31_provinces_with_unique_codes_and_names(provinces):
    assert len(provinces) == 31
    codes = [p["code"] for p in provinces]
    assert len(set(codes)) == 31, [c for c, n in Counter(codes).items() if n > 1]
    for field in ("name_fa", "name_en"):
        names = [p[field] for p in provinces]
        assert len(set(names)) == 31, [c for c, n in Counter(names).items() if n > 1]
    for code in codes:
        assert code.isascii() and code == code.lower() and " " not in code, code


def test_well_known_provinces_present(provinces):
    names = {p["name_fa"] for p in provinces}
    for expected in (
        "تهران",
        "اصفهان",
        "خراسان رضوی",
        "آذربایجان شرقی",
        "کهگیلویه و بویراحمد",
        "سیستان و بلوچستان",
        "چهارمحال و بختیاری",
    ):
        assert expected in names, expected


# --- universities -----------------------------------------------------------


def test_university_codes_and_names_unique(universities):
    codes = [u["code"] for u in universities]
    assert len(codes) == len(set(codes)), [c for c, n in Counter(codes).items() if n > 1]
    names = [u["name_fa"] for u in universities]
    assert len(names) == len(set(names)), [c for c, n in Counter(names).items() if n > 1]
    for code in codes:
        assert code.isascii() and code == code.lower() and " " not in code, code


def test_university_names_use_official_form_of_their_kind(universities):
    assert {u["kind"] for u in universities} == set(PREFIX_BY_KIND)
    for u in universities:
        prefix = PREFIX_BY_KIND[u["kind"]]
        assert u["name_fa"].startswith(prefix), u["name_fa"]
        assert len(u["name_fa"]) > len(prefix), u["name_fa"]


def test_schools_named_officially_as_daneshkadeh(universities):
    kinds = {u["code"]: u["kind"] for u in universities}
    for code in (
        "khoy",
        "sarab",
        "asadabad",
        "saravan",
        "sirjan",
        "torbat-jam",
        "esfarayen",
        "khomein",
        "saveh",
        "gerash",
        "maragheh",
        "larestan",
        "shushtar",
        "behbahan",
    ):
        assert kinds[code] == "school", code
    for code in ("tehran", "shahid-beheshti", "iran", "isfahan", "shiraz", "mashhad"):
        assert kinds[code] == "university", code


def test_every_university_covers_a_place(universities, cities):
    covering = {c["university_code"] for c in cities}
    covering |= {d["university_code"] for d in read("city_districts.csv")}
    idle = [u["code"] for u in universities if u["code"] not in covering]
    assert not idle, idle


def test_university_province_exists(universities, provinces):
    province_codes = {p["code"] for p in provinces}
    for u in universities:
        assert u["province_code"] in province_codes, u


def test_every_province_has_a_university(universities, provinces):
    with_university = {u["province_code"] for u in universities}
    missing = [p["code"] for p in provinces if p["code"] not in with_university]
    assert not missing, missing


# --- cities -----------------------------------------------------------------


def test_city_province_and_university_exist(cities, provinces, universities):
    province_codes = {p["code"] for p in provinces}
    university_codes = {u["code"] for u in universities}
    for c in cities:
        assert c["province_code"] in province_codes, c
        assert c["university_code"] in university_codes, c


def test_city_university_is_in_the_same_province(cities, universities):
    university_province = {u["code"]: u["province_code"] for u in universities}
    wrong = [
        (c["province_code"], c["name_fa"], c["university_code"])
        for c in cities
        if university_province[c["university_code"]] != c["province_code"]
    ]
    unexpected = [w for w in wrong if w not in CROSS_PROVINCE_EXCEPTIONS]
    assert not unexpected, unexpected


def test_cross_province_exceptions_are_still_used(cities):
    present = {(c["province_code"], c["name_fa"], c["university_code"]) for c in cities}
    stale = CROSS_PROVINCE_EXCEPTIONS - present
    assert not stale, f"remove stale exceptions: {stale}"


def test_no_duplicate_city_within_a_province(cities):
    pairs = Counter((c["province_code"], c["name_fa"]) for c in cities)
    dups = [k for k, n in pairs.items() if n > 1]
    assert not dups, dups


def test_every_province_has_a_city(cities, provinces):
    with_city = {c["province_code"] for c in cities}
    missing = [p["code"] for p in provinces if p["code"] not in with_city]
    assert not missing, missing


@pytest.mark.parametrize("province", sorted(check_reference_data.SOURCE_COUNTS))
def test_cities_and_counties_of_each_province_counted_against_the_source(province, cities):
    expected_cities, expected_counties = check_reference_data.SOURCE_COUNTS[province]
    mine = [c for c in cities if c["province_code"] == province]
    assert len(mine) == expected_cities
    assert len({c["county_fa"] for c in mine}) == expected_counties


def test_every_province_is_in_the_source_counts(provinces):
    assert {p["code"] for p in provinces} == set(check_reference_data.SOURCE_COUNTS)


def test_towns_the_first_release_missed_are_there(cities):
    names = {(c["province_code"], c["name_fa"]) for c in cities}
    for town in ("اندیشه", "پرند", "کهریزک", "لواسان", "بومهن", "رودهن", "صالحیه"):
        assert ("tehran", town) in names, town
    assert ("alborz", "محمدشهر") in names and ("alborz", "کمال‌شهر") in names
    assert ("gilan", "خمام") in names


def test_romanized_flag_is_a_flag(cities):
    assert {c["name_en_romanized"] for c in cities} <= {"0", "1"}


def test_the_check_script_finds_nothing():
    assert check_reference_data.problems() == []


def test_tehran_province_split_between_the_three_tehran_universities(cities):
    covering = defaultdict(list)
    for c in cities:
        if c["province_code"] == TEHRAN_PROVINCE:
            covering[c["university_code"]].append(c["name_fa"])
    assert set(covering) == TEHRAN_UNIVERSITIES, dict(covering)
    for code in TEHRAN_UNIVERSITIES:
        assert covering[code], f"{code} covers no city"


def test_tehran_city_is_split_between_the_three_universities_by_district(cities):
    matches = [c for c in cities if c["province_code"] == TEHRAN_PROVINCE and c["name_fa"] == "تهران"]
    assert len(matches) == 1
    districts = {
        int(d["district"]): d["university_code"]
        for d in read("city_districts.csv")
        if (d["province_code"], d["city_fa"]) == (TEHRAN_PROVINCE, "تهران")
    }
    assert sorted(districts) == list(range(1, 23))
    assert set(districts.values()) == TEHRAN_UNIVERSITIES
    assert {d for d, u in districts.items() if u == "iran"} == IRAN_UNIVERSITY_DISTRICTS
    # The rows a published source confirms (data/README.md names each source); the others are
    # assumptions the directorate confirms, and may move.
    confirmed = {12: "shahid-beheshti", 13: "shahid-beheshti", 14: "shahid-beheshti", 15: "shahid-beheshti"}
    confirmed |= {10: "tehran", 16: "tehran", 17: "tehran", 19: "tehran"}
    assert {d: districts[d] for d in confirmed} == confirmed


def test_every_split_city_exists(cities):
    names = {(c["province_code"], c["name_fa"]) for c in cities}
    for d in read("city_districts.csv"):
        assert (d["province_code"], d["city_fa"]) in names, d
        assert d["district"].isdigit(), d


def test_renames_point_from_a_former_name_to_a_city(cities):
    names = {(c["province_code"], c["name_fa"]) for c in cities}
    for r in read("city_renames.csv"):
        assert (r["province_code"], r["name_fa"]) in names, r
        assert (r["former_province_code"], r["former_name_fa"]) not in names, r


def test_field_degree_matrix_names_known_codes():
    fields = {f["code"] for f in read("fields.csv")}
    degrees = {d["code"] for d in read("degrees.csv")}
    pairs = read("field_degrees.csv")
    assert len(pairs) == len({(p["field_code"], p["degree_code"]) for p in pairs})
    for p in pairs:
        assert p["field_code"] in fields and p["degree_code"] in degrees, p


# --- fields, degrees, document kinds ------------------------------------------


def test_fields(provinces):
    fields = read("fields.csv")
    codes = [f["code"] for f in fields]
    assert len(codes) == len(set(codes))
    names = [f["name_fa"] for f in fields]
    assert len(names) == len(set(names))
    assert {f["eligible"] for f in fields} == {"0", "1"}, "both eligible and non-eligible fields expected"
    by_code = {f["code"]: f for f in fields}
    assert by_code["biomedical-engineering"]["name_fa"] == "مهندسی پزشکی"
    assert by_code["biomedical-engineering"]["eligible"] == "1"


def test_degrees_ranked_1_to_5():
    degrees = read("degrees.csv")
    assert sorted(int(d["rank"]) for d in degrees) == [1, 2, 3, 4, 5]
    assert len({d["code"] for d in degrees}) == 5
    assert all(d["eligible"] in {"0", "1"} for d in degrees)
    by_rank = {int(d["rank"]): d["name_fa"] for d in degrees}
    assert by_rank == {
        1: "کاردانی",
        2: "کارشناسی",
        3: "کارشناسی ارشد",
        4: "دکترای حرفه" + ZWNJ + "ای",
        5: "دکترای تخصصی",
    }


def test_document_kinds_exact():
    kinds = read("document_kinds.csv")
    assert {k["code"]: k["required"] for k in kinds} == {
        "degree": "1",
        "national_card": "1",
        "id_booklet": "1",
        "photo": "1",
        "other": "0",
    }
    assert len(kinds) == 5
