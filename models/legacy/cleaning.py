"""A legacy row through the public forms' own cleaners, with Persian names looked up.

Contract: :func:`resolve_places` turns the Persian names of province, city, field and
degree into reference ids (a missing or unknown name is a :class:`Problem` of its own; a
city the reference data renamed, ``data/city_renames.csv``, is found under its former name
and province);
:func:`clean_row` then cleans the fields with the cleaners of
:mod:`models.officer_rules` and reports each refusal under :func:`report_code`, which
reads the cleaner's machine code, never its message; the optional district and the field x
degree matrix are checked as the forms check them. Reads the reference tables once
(:class:`ReferenceIndex`); writes nothing.
"""

from __future__ import annotations

import csv
import re

from persian import normalize_text

from ..base import N_, DomainError
from ..officer_rules import CLEANERS, ValidationFailed, clean_city, clean_fields
from ..reference import DATA_DIR, City, CityDistrict, DegreeLevel, FieldOfStudy, Province, check_study, clean_district
from .report import Problem

_NAME_NOISE = re.compile(r"[\s\u200c\u200d\u200e\u200f\u061c\u00a0]+")

REFERENCE_FIELDS = ("province", "city", "field_of_study", "degree_level")

_UNKNOWN_REFERENCE = {
    "province": N_("No province named %(name)s in the reference data."),
    "city": N_("No city named %(name)s in the reference data."),
    "field_of_study": N_("No field of study named %(name)s in the reference data."),
    "degree_level": N_("No degree level named %(name)s in the reference data."),
}


def name_key(value) -> str:
    """A comparison key for a Persian name: ي/ك/ى mapped, digits ASCII, ZWNJ and spaces removed."""
    return _NAME_NOISE.sub("", normalize_text(value))


def report_code(field: str, code: str | None) -> str:
    """The report's code for a cleaner's refusal of ``field``: the two generic cleaner codes
    become ``missing_<field>`` and ``invalid_<field>``; a specific one (``under_age``,
    ``city_not_in_province``...) is kept as it is."""
    if code == "required":
        return f"missing_{field}"
    if code is None or code == "invalid":
        return f"invalid_{field}"
    return code


def cleaner_problem(field: str, error: DomainError) -> Problem:
    """A problem for a cleaner's :class:`DomainError` about ``field``."""
    return Problem(field, report_code(field, error.code), error.msgid, error.params)


class ReferenceIndex:
    """Provinces, cities, fields and degrees by Persian name: a few hundred rows, read once."""

    def __init__(self):
        self.provinces = {name_key(p.name): p.id for p in Province.select(Province.id, Province.name)}
        self.city_in_province, self.city_anywhere, self.city_university = {}, {}, {}
        for city in City.select(City.id, City.name, City.province, City.university).order_by(City.id):
            key = name_key(city.name)
            self.city_in_province[(city.province_id, key)] = city.id
            self.city_anywhere.setdefault(key, city.id)
            self.city_university[city.id] = city.university_id
        self.fields = {name_key(f.name): f.id for f in FieldOfStudy.select(FieldOfStudy.id, FieldOfStudy.name)}
        self.degrees = {name_key(d.name): d.id for d in DegreeLevel.select(DegreeLevel.id, DegreeLevel.name)}
        # The university of each (city, district) of a split city: routes a qualified officer.
        self.district_university = {
            (c, n): u
            for c, n, u in CityDistrict.select(CityDistrict.city, CityDistrict.number, CityDistrict.university).tuples()
        }
        self.renamed = self._renamed_cities()
        self._cleaned = {}

    def _renamed_cities(self) -> dict:
        """{(former province key, former city key): (province id, city id)} for the cities the
        reference data renamed or moved (``city_renames.csv``): the old system names them as
        they were."""
        renamed = {}
        codes = {p.code: p for p in Province.select(Province.id, Province.code, Province.name)}
        path = DATA_DIR / "city_renames.csv"
        with open(path, encoding="utf-8-sig", newline="") as handle:
            for row in csv.DictReader(handle):
                former, now = codes.get(row["former_province_code"]), codes.get(row["province_code"])
                if former is None or now is None:
                    continue
                city = self.city_in_province.get((now.id, name_key(row["name_fa"])))
                still_there = (former.id, name_key(row["former_name_fa"])) in self.city_in_province
                if city is not None and not still_there:
                    renamed[(name_key(former.name), name_key(row["former_name_fa"]))] = (now.id, city)
        return renamed

    def university_of(self, city_id: int, district) -> int:
        """The university covering (city, district), as :func:`models.reference.route_id`."""
        return self.district_university.get((city_id, district), self.city_university[city_id])

    def clean_place_and_study(self, cleaned: dict, district_value, problems: list) -> None:
        """The district (the optional column) and the field x degree matrix, as the forms check
        them, once per distinct value."""
        if "city" in cleaned:
            city, value = cleaned["city"], normalize_text(district_value)
            key = ("district", city.id, value)
            if key not in self._cleaned:
                try:
                    # An empty district: imported without one (a Tehran officer is asked at login).
                    self._cleaned[key] = (clean_district(city, value) if value else None, None)
                except DomainError as error:
                    self._cleaned[key] = (None, cleaner_problem("district", error))
            district, problem = self._cleaned[key]
            if problem is None:
                cleaned["district"] = district
            else:
                problems.append(problem)
        if "field_of_study" in cleaned and "degree_level" in cleaned:
            field, degree = cleaned["field_of_study"], cleaned["degree_level"]
            key = ("study", field.id, degree.id)
            if key not in self._cleaned:
                try:
                    check_study(field, degree)
                    self._cleaned[key] = (None, None)
                except DomainError as error:
                    self._cleaned[key] = (None, cleaner_problem("degree_level", error))
            problem = self._cleaned[key][1]
            if problem is not None:
                problems.append(problem)

    def clean(self, name, value, province=None):
        """(row, None) or (None, problem): the forms' cleaner, once per distinct value."""
        key = (name, value, province.id if province is not None else None)
        if key not in self._cleaned:
            try:
                if name == "city":
                    self._cleaned[key] = (clean_city(value, province), None)
                else:
                    self._cleaned[key] = (CLEANERS[name](value), None)
            except DomainError as error:
                self._cleaned[key] = (None, cleaner_problem(name, error))
        return self._cleaned[key]

    def city(self, name, province_id):
        """The city's id: the one in the province if there is one, else any city of that name
        (so that the form's cleaner reports "not in the province"), else None."""
        key = name_key(name)
        return self.city_in_province.get((province_id, key)) or self.city_anywhere.get(key)


def resolve_places(
    row: dict, ref: ReferenceIndex, data: dict, fields: list, problems: list, with_study: bool = True
) -> None:
    """Replace Persian names by ids in ``data`` for the form cleaners; a missing or unknown
    name is a problem of its own and its field is left out of the cleaning."""
    lookups = [("province", lambda v: ref.provinces.get(name_key(v)))]
    if with_study:
        lookups += [
            ("field_of_study", lambda v: ref.fields.get(name_key(v))),
            ("degree_level", lambda v: ref.degrees.get(name_key(v))),
        ]
    renamed = ref.renamed.get((name_key(row.get("province")), name_key(row.get("city"))))
    if renamed is not None and "province" in fields:
        # A city the reference data renamed (or moved to another province), named as it was.
        data["province"], data["city"] = str(renamed[0]), str(renamed[1])
        lookups = [(n, f) for n, f in lookups if n != "province"]
    else:
        lookups.append(("city", lambda v: ref.city(v, int(data["province"]) if "province" in fields else None)))
    for name, lookup in lookups:
        value = normalize_text(row.get(name))
        found = lookup(value) if value else None
        if not value:
            problems.append(Problem(name, f"missing_{name}", N_("This field is required."), {}))
        elif found is None:
            problems.append(Problem(name, f"unknown_{name}", _UNKNOWN_REFERENCE[name], {"name": value}))
        else:
            data[name] = str(found)
            continue
        fields.remove(name)


def clean_row(ref: ReferenceIndex, data: dict, fields: list, problems: list) -> dict:
    """Clean ``fields`` of ``data`` with the forms' cleaners; add a problem per bad field.

    The free fields go through :func:`clean_fields` row by row. The reference fields
    (ids by then) go through the very same cleaners (``CLEANERS[...]``, ``clean_city``),
    but once per distinct value: their answer depends only on the value and the
    reference rows, and a database query per row and field would cost more than
    the rest of the validation together."""
    plain = [name for name in fields if name not in REFERENCE_FIELDS and name != "district"]
    try:
        cleaned = clean_fields(data, plain)
    except ValidationFailed as failed:
        cleaned = {}
        for name in plain:
            if name in failed.errors:
                msgid, params = failed.errors[name]
                problems.append(Problem(name, report_code(name, failed.codes.get(name)), msgid, params))
    for name in REFERENCE_FIELDS:
        if name not in fields:
            continue
        province = cleaned.get("province") if name == "city" else None
        value, problem = ref.clean(name, data.get(name, ""), province)
        if problem is None:
            cleaned[name] = value
        else:
            problems.append(problem)
    if "district" in fields:
        ref.clean_place_and_study(cleaned, data.get("district", ""), problems)
    return cleaned
