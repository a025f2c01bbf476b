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
import difflib
import re

from persian import normalize_text

from ..base import N_, DomainError
from ..officer_rules import CLEANERS, ValidationFailed, clean_city, clean_fields
from ..reference import DATA_DIR, City, CityDistrict, DegreeLevel, FieldOfStudy, Province, check_study, clean_district
from .files import ALIAS_COLUMNS, ALIASES, LegacyFileError, rows
from .report import Problem

_NAME_NOISE = re.compile(r"[\s\u200c\u200d\u200e\u200f\u061c\u00a0]+")

REFERENCE_FIELDS = ("province", "city", "field_of_study", "degree_level")

_UNKNOWN_REFERENCE = {
    "province": N_("No province named %(name)s in the reference data."),
    "city": N_("No city named %(name)s in the reference data."),
    "field_of_study": N_("No field of study named %(name)s in the reference data."),
    "degree_level": N_("No degree level named %(name)s in the reference data."),
}
_UNKNOWN_WITH_SUGGESTIONS = {
    "province": N_("No province named %(name)s in the reference data; closest: %(suggestions)s."),
    "city": N_("No city named %(name)s in the reference data; closest: %(suggestions)s."),
    "field_of_study": N_("No field of study named %(name)s in the reference data; closest: %(suggestions)s."),
    "degree_level": N_("No degree level named %(name)s in the reference data; closest: %(suggestions)s."),
}
WARNING, ERROR = "warning", "error"


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
        self.names = {
            "province": {p.id: p.name for p in Province.select(Province.id, Province.name)},
            "city": {c.id: c.name for c in City.select(City.id, City.name)},
            "field_of_study": {f.id: f.name for f in FieldOfStudy.select(FieldOfStudy.id, FieldOfStudy.name)},
            "degree_level": {d.id: d.name for d in DegreeLevel.select(DegreeLevel.id, DegreeLevel.name)},
        }
        self.city_province = {c.id: c.province_id for c in City.select(City.id, City.province)}
        # aliases.csv: {kind: {key of the old name: key of the reference name}}
        self.aliases = {kind: {} for kind in REFERENCE_FIELDS}
        self._cleaned = {}
        self._suggested = {}

    def known_keys(self, kind: str) -> set:
        """The name keys of one kind of reference row."""
        if kind == "city":
            return set(self.city_anywhere)
        return set({"province": self.provinces, "field_of_study": self.fields, "degree_level": self.degrees}[kind])

    def add_alias(self, kind: str, legacy_name: str, name: str) -> bool:
        """Map an old name to a reference name; False when the kind or the target is unknown."""
        if kind not in self.aliases or name_key(name) not in self.known_keys(kind):
            return False
        self.aliases[kind][name_key(legacy_name)] = name_key(name)
        return True

    def key(self, kind: str, value) -> str:
        """The name key of a value, through aliases.csv."""
        key = name_key(value)
        return self.aliases[kind].get(key, key)

    def suggestions(self, kind: str, value, province_id=None) -> str:
        """The closest known names (at most three), for a warning about an unknown one."""
        memo = (kind, name_key(value), province_id)
        if memo not in self._suggested:
            if kind == "city" and province_id:
                pool = {
                    k: n
                    for (p, k), i in self.city_in_province.items()
                    if p == province_id
                    for n in (self.names["city"][i],)
                }
            else:
                by_key = {
                    "province": self.provinces,
                    "city": self.city_anywhere,
                    "field_of_study": self.fields,
                    "degree_level": self.degrees,
                }[kind]
                pool = {k: self.names[kind][i] for k, i in by_key.items()}
            close = difflib.get_close_matches(name_key(value), list(pool), n=3, cutoff=0.5)
            self._suggested[memo] = "، ".join(pool[k] for k in close)
        return self._suggested[memo]

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
        key = self.key("city", name)
        return self.city_in_province.get((province_id, key)) or self.city_anywhere.get(key)


def resolve_places(
    row: dict,
    ref: ReferenceIndex,
    data: dict,
    fields: list,
    problems: list,
    with_study: bool = True,
    severity: str = ERROR,
) -> None:
    """Replace Persian names by ids in ``data`` for the form cleaners (through aliases.csv);
    a missing or unknown name is a problem of its own (of ``severity``, with the closest
    known names) and its field is left out of the cleaning."""
    lookups = [("province", lambda v: ref.provinces.get(ref.key("province", v)))]
    if with_study:
        lookups += [
            ("field_of_study", lambda v: ref.fields.get(ref.key("field_of_study", v))),
            ("degree_level", lambda v: ref.degrees.get(ref.key("degree_level", v))),
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
            problems.append(Problem(name, f"missing_{name}", N_("This field is required."), {}, severity))
        elif found is None:
            province = int(data["province"]) if name == "city" and "province" in fields else None
            close = ref.suggestions(name, value, province)
            if close:
                message, params = _UNKNOWN_WITH_SUGGESTIONS[name], {"name": value, "suggestions": close}
            else:
                message, params = _UNKNOWN_REFERENCE[name], {"name": value}
            problems.append(Problem(name, f"unknown_{name}", message, params, severity))
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
        for name in plain:
            if name in failed.errors:
                msgid, params = failed.errors[name]
                problems.append(Problem(name, report_code(name, failed.codes.get(name)), msgid, params))
        # The good fields of a row with bad ones are kept (a warning does not refuse the row).
        cleaned = clean_fields(data, [name for name in plain if name not in failed.errors])
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


def load_aliases(path, encoding: str, ref: ReferenceIndex) -> int:
    """Read ``aliases.csv`` (``kind, legacy_name, name``) into ``ref``; a kind or a target
    name the reference data does not know stops the import before anything is written."""
    count = 0
    for line, row, _widths in rows(path, ALIASES, encoding, ALIAS_COLUMNS):
        if row is None:
            raise LegacyFileError(
                N_("The file %(file)s has a row with a wrong number of columns (line %(line)s)."),
                code="bad_alias",
                file=ALIASES,
                line=line,
            )
        kind = normalize_text(row["kind"]).lower()
        if not ref.add_alias(kind, row["legacy_name"], row["name"]):
            raise LegacyFileError(
                N_("Line %(line)s of %(file)s maps to an unknown kind or name (%(name)s)."),
                code="bad_alias",
                file=ALIASES,
                line=line,
                name=normalize_text(row["name"]),
            )
        count += 1
    return count
