"""Reference data: provinces, cities (with the municipal districts of a city split between
universities), universities and schools of medical sciences, fields of study, degrees and the
degrees each field is allowed at, document kinds.

Loaded from the CSV files under ``data/`` (their sources: ``data/README.md``) by
:func:`load_reference_data`; the directorate edits the rows afterwards in the back office, so a
reload only adds what is missing and never overwrites an edit.

Routing lives here: :func:`route` names the university whose cartable receives the files of a
place, a (city, district) pair.
"""

from __future__ import annotations

import csv
import time
from pathlib import Path

from peewee import BooleanField, CharField, ForeignKeyField, IntegerField

from persian import normalize_text, sorted_persian, to_ascii_digits

from .base import N_, BaseModel, DomainError, db
from .prepared import Prepared

DATA_DIR = Path(__file__).resolve().parent.parent / "data"


class Province(BaseModel):
    code = CharField(max_length=40, unique=True)
    name = CharField(max_length=80, unique=True)
    name_en = CharField(max_length=80, default="")

    class Meta:
        table_name = "province"

    def __str__(self):
        return self.name


UNIVERSITY_PREFIX = "دانشگاه علوم پزشکی "
SCHOOL_PREFIX = "دانشکده علوم پزشکی "


class University(BaseModel):
    """A university (دانشگاه) or school (دانشکده) of medical sciences that runs a health network.

    ``name`` is the official name, e.g. «دانشکده علوم پزشکی خوی»; the contract's form
    «دانشگاه علوم پزشکی خوی» names the same body (:func:`find_university`).
    """

    KINDS = ("university", "school")

    code = CharField(max_length=60, unique=True)
    name = CharField(max_length=120, unique=True)
    name_en = CharField(max_length=120, default="")
    province = ForeignKeyField(Province, backref="universities", on_delete="RESTRICT")
    kind = CharField(max_length=12, default="university")

    def __str__(self):
        return self.name

    @property
    def contract_name(self) -> str:
        """The name in the form «دانشگاه علوم پزشکی X», whatever the kind."""
        return contract_form(self.name)


def contract_form(name: str) -> str:
    """«دانشکده علوم پزشکی X» -> «دانشگاه علوم پزشکی X»; any other name unchanged."""
    name = normalize_text(name)
    if name.startswith(SCHOOL_PREFIX):
        return UNIVERSITY_PREFIX + name[len(SCHOOL_PREFIX) :]
    return name


def find_university(name: str):
    """The university or school named ``name``: its official name or the contract's form."""
    wanted = normalize_text(name)
    exact = University.get_or_none(University.name == wanted)
    if exact is not None or not wanted.startswith(UNIVERSITY_PREFIX):
        return exact
    return University.get_or_none(University.name == SCHOOL_PREFIX + wanted[len(UNIVERSITY_PREFIX) :])


class City(BaseModel):
    province = ForeignKeyField(Province, backref="cities", on_delete="RESTRICT")
    county = CharField(max_length=80, default="")  # شهرستان, as the country divisions name it
    name = CharField(max_length=80)
    name_en = CharField(max_length=80, default="")
    # The university of medical sciences whose cartable receives this city's files; for a
    # city split by district (CityDistrict rows), each district's own university instead.
    university = ForeignKeyField(University, backref="cities", on_delete="RESTRICT")

    class Meta:
        indexes = ((("province", "name"), True),)

    def __str__(self):
        return self.name


class CityDistrict(BaseModel):
    """A municipal district (منطقه شهرداری) of a city that several universities cover."""

    city = ForeignKeyField(City, backref="districts", on_delete="CASCADE")
    number = IntegerField()
    university = ForeignKeyField(University, backref="districts", on_delete="RESTRICT")

    class Meta:
        table_name = "city_district"
        indexes = ((("city", "number"), True),)

    def __str__(self):
        return f"{self.city.name} {self.number}"


class FieldOfStudy(BaseModel):
    code = CharField(max_length=60, unique=True)
    name = CharField(max_length=120, unique=True)
    name_en = CharField(max_length=120, default="")
    eligible = BooleanField(default=True)

    class Meta:
        table_name = "field_of_study"

    def __str__(self):
        return self.name


class DegreeLevel(BaseModel):
    code = CharField(max_length=40, unique=True)
    name = CharField(max_length=80, unique=True)
    name_en = CharField(max_length=80, default="")
    rank = IntegerField(default=0)
    eligible = BooleanField(default=True)

    class Meta:
        table_name = "degree_level"

    def __str__(self):
        return self.name


class FieldDegree(BaseModel):
    """A degree level at which a restricted field of study is allowed.

    A field with no row here is allowed at every eligible degree; once a field has rows, only
    those degrees qualify (the "restrictions on fields of study and degree levels").
    """

    field = ForeignKeyField(FieldOfStudy, backref="allowed_degrees", on_delete="CASCADE")
    degree = ForeignKeyField(DegreeLevel, backref="allowed_fields", on_delete="CASCADE")

    class Meta:
        table_name = "field_degree"
        indexes = ((("field", "degree"), True),)


class DocumentKind(BaseModel):
    code = CharField(max_length=40, unique=True)
    name = CharField(max_length=80)
    name_en = CharField(max_length=80, default="")
    required = BooleanField(default=False)
    sort_order = IntegerField(default=0)

    class Meta:
        table_name = "document_kind"

    def __str__(self):
        return self.name


DOCUMENT_KINDS = Prepared(lambda: DocumentKind.select().order_by(DocumentKind.sort_order))


def document_kinds() -> list:
    """Every kind of document an officer files, in the order the forms show them."""
    return list(DOCUMENT_KINDS.rows())


REFERENCE_MODELS = (Province, University, City, CityDistrict, FieldOfStudy, DegreeLevel, FieldDegree, DocumentKind)


def _rows(name: str, data_dir: Path):
    path = data_dir / name
    if not path.exists():  # a data directory of an older layout (tests, forks) lacks the newer files
        return
    with open(path, encoding="utf-8-sig", newline="") as handle:
        for row in csv.DictReader(handle):
            yield {
                key: (
                    normalize_text(value)
                    if key.startswith(("name", "county", "city", "former_name"))
                    else value.strip()
                )
                for key, value in row.items()
            }


def _flag(value: str) -> bool:
    return str(value).strip() in ("1", "true", "True", "yes")


def load_reference_data(data_dir: Path | str = DATA_DIR) -> dict[str, int]:
    """Insert the reference rows that are missing; return how many of each were added.

    Rows already there keep what the directorate made of them. Two corrections of the first
    release's data are applied to rows nobody edited: a university still carrying the
    «دانشگاه علوم پزشکی X» form of a school's official name «دانشکده علوم پزشکی X» takes the
    official name and kind, and a city listed in ``city_renames.csv`` under its former name is
    renamed in place (its officers and branches keep it).
    """
    data_dir = Path(data_dir)
    added = dict.fromkeys(
        ("province", "university", "city", "district", "field", "degree", "field_degree", "document_kind"), 0
    )
    with db.atomic():
        provinces = {p.code: p for p in Province.select()}
        for row in _rows("provinces.csv", data_dir):
            if row["code"] not in provinces:
                provinces[row["code"]] = Province.create(
                    code=row["code"], name=row["name_fa"], name_en=row.get("name_en", "")
                )
                added["province"] += 1
        universities = _load_universities(data_dir, provinces, added)
        _rename_cities(data_dir, provinces, universities)
        cities = _load_cities(data_dir, provinces, universities, added)
        for row in _rows("city_districts.csv", data_dir):
            city = cities.get((provinces[row["province_code"]].id, row["city_fa"]))
            number = int(row["district"])
            if (
                city is not None
                and not CityDistrict.select()
                .where((CityDistrict.city == city) & (CityDistrict.number == number))
                .exists()
            ):
                CityDistrict.create(city=city, number=number, university=universities[row["university_code"]])
                added["district"] += 1
        fields = {f.code: f for f in FieldOfStudy.select()}
        new_fields = set()
        for row in _rows("fields.csv", data_dir):
            if row["code"] not in fields:
                fields[row["code"]] = FieldOfStudy.create(
                    code=row["code"],
                    name=row["name_fa"],
                    name_en=row.get("name_en", ""),
                    eligible=_flag(row["eligible"]),
                )
                new_fields.add(row["code"])
                added["field"] += 1
        degrees = {d.code: d for d in DegreeLevel.select()}
        for row in _rows("degrees.csv", data_dir):
            if row["code"] not in degrees:
                degrees[row["code"]] = DegreeLevel.create(
                    code=row["code"],
                    name=row["name_fa"],
                    name_en=row.get("name_en", ""),
                    rank=int(row["rank"]),
                    eligible=_flag(row["eligible"]),
                )
                added["degree"] += 1
        # A field's restrictions are seeded with the field itself (migration 009 seeded the fields
        # that were already there): once the directorate changes them, a reload leaves them be.
        for row in _rows("field_degrees.csv", data_dir):
            if row["field_code"] in new_fields and row["degree_code"] in degrees:
                FieldDegree.create(field=fields[row["field_code"]], degree=degrees[row["degree_code"]])
                added["field_degree"] += 1
        codes = {k.code for k in DocumentKind.select(DocumentKind.code)}
        for order, row in enumerate(_rows("document_kinds.csv", data_dir)):
            if row["code"] not in codes:
                DocumentKind.create(
                    code=row["code"],
                    name=row["name_fa"],
                    name_en=row.get("name_en", ""),
                    required=_flag(row["required"]),
                    sort_order=order,
                )
                added["document_kind"] += 1
    return added


def _load_universities(data_dir: Path, provinces: dict, added: dict) -> dict:
    universities = {u.code: u for u in University.select()}
    for row in _rows("universities.csv", data_dir):
        kind = row.get("kind") or "university"
        university = universities.get(row["code"])
        if university is None:
            universities[row["code"]] = University.create(
                code=row["code"],
                name=row["name_fa"],
                name_en=row.get("name_en", ""),
                province=provinces[row["province_code"]],
                kind=kind,
            )
            added["university"] += 1
        elif university.name != row["name_fa"] and university.name == contract_form(row["name_fa"]):
            university.name, university.kind = row["name_fa"], kind
            university.save(only=[University.name, University.kind])
    return universities


def _rename_cities(data_dir: Path, provinces: dict, universities: dict) -> None:
    routed = {(row["province_code"], row["name_fa"]): row["university_code"] for row in _rows("cities.csv", data_dir)}
    for row in _rows("city_renames.csv", data_dir):
        former = City.get_or_none(
            (City.province == provinces[row["former_province_code"]].id) & (City.name == row["former_name_fa"])
        )
        target = provinces[row["province_code"]]
        if (
            former is not None
            and not City.select().where((City.province == target.id) & (City.name == row["name_fa"])).exists()
        ):
            update = [City.province, City.name]
            if former.university.province_id != target.id:  # it moved province: so did its routing
                former.university = universities[routed[(row["province_code"], row["name_fa"])]]
                update.append(City.university)
            former.province, former.name = target, row["name_fa"]
            former.save(only=update)


def _load_cities(data_dir: Path, provinces: dict, universities: dict, added: dict) -> dict:
    cities = {(c.province_id, c.name): c for c in City.select()}
    for row in _rows("cities.csv", data_dir):
        province = provinces[row["province_code"]]
        county = row.get("county_fa", "")
        city = cities.get((province.id, row["name_fa"]))
        if city is None:
            cities[(province.id, row["name_fa"])] = City.create(
                province=province,
                county=county,
                name=row["name_fa"],
                name_en=row.get("name_en", ""),
                university=universities[row["university_code"]],
            )
            added["city"] += 1
        elif county and not city.county:  # filling a column the first release did not have
            city.county = county
            city.save(only=[City.county])
    return cities


def find_by_persian_name(model, name: str, **filters):
    """Look a reference row up by its Persian name, tolerant of ي/ك and spacing variants."""
    query = model.select().where(model.name == normalize_text(name))
    for key, value in filters.items():
        query = query.where(getattr(model, key) == value)
    return query.first()


def cities_by_province():
    """[(province, [cities])] in Persian alphabetical order, for grouped <select>s; two queries."""
    provinces = sorted_persian(Province.select(), key=lambda p: p.name)
    grouped = {p.id: [] for p in provinces}
    for city in sorted_persian(City.select(), key=lambda c: c.name):
        grouped[city.province_id].append(city)
    return [(p, grouped[p.id]) for p in provinces]


def in_persian_order(query, key=lambda row: row.name) -> list:
    """The rows of a reference query in Persian alphabetical order (lists of a few hundred)."""
    return sorted_persian(query, key=key)


# --- places: routing by (city, district) ----------------------------------------------


def districts_by_city() -> dict[int, list[int]]:
    """{city id: [district numbers]} for the cities split between universities; one query."""
    split: dict[int, list[int]] = {}
    for city_id, number in (
        CityDistrict.select(CityDistrict.city, CityDistrict.number)
        .order_by(CityDistrict.city, CityDistrict.number)
        .tuples()
    ):
        split.setdefault(city_id, []).append(number)
    return split


_SPLIT_CACHE: dict = {"at": -1e9, "ids": frozenset()}
SPLIT_CACHE_SECONDS = 60


def split_city_ids() -> frozenset:
    """The ids of the cities split by district, read at most once a minute: every officer page
    asks whether its officer still owes a district, and the answer changes only when the
    directorate adds districts to a city."""
    now = time.monotonic()
    if now - _SPLIT_CACHE["at"] > SPLIT_CACHE_SECONDS:
        ids = frozenset(c for (c,) in CityDistrict.select(CityDistrict.city).distinct().tuples())
        _SPLIT_CACHE.update(at=now, ids=ids)
    return _SPLIT_CACHE["ids"]


def district_numbers(city) -> list[int]:
    """The municipal districts of ``city`` that route separately; empty for most cities."""
    if city is None:
        return []
    return [
        n
        for (n,) in CityDistrict.select(CityDistrict.number)
        .where(CityDistrict.city == city)
        .order_by(CityDistrict.number)
        .tuples()
    ]


def clean_district(city, value) -> int | None:
    """The district of a place: required (a known number) when ``city`` is split, else empty.

    Persian and Arabic digits are accepted. ``city`` is None when the city itself was refused;
    then nothing is said about the district.
    """
    text = to_ascii_digits(normalize_text(value))
    numbers = district_numbers(city)
    if not numbers:
        if text and city is not None:
            raise DomainError(
                N_("The city %(city)s has no municipal districts to choose; leave the district empty."),
                code="district_not_applicable",
                city=city.name,
            )
        return None
    if not text:
        raise DomainError(N_("Choose the municipal district of %(city)s."), code="required", city=city.name)
    if not text.isdigit() or int(text) not in numbers:
        raise DomainError(
            N_("%(city)s has no municipal district %(district)s."), code="invalid", city=city.name, district=text
        )
    return int(text)


def route(city, district: int | None = None) -> University:
    """The university whose cartable receives the files of the place (city, district).

    A split city without a known district (an officer of the first release who has not told
    their district yet) routes to the city's own university, as before.
    """
    if district is not None:
        row = (
            CityDistrict.select(CityDistrict.university)
            .where((CityDistrict.city == city) & (CityDistrict.number == district))
            .first()
        )
        if row is not None:
            return row.university
    return city.university


def route_id(city, district: int | None = None) -> int:
    """:func:`route` as an id, for the snapshot columns."""
    if district is not None:
        row = (
            CityDistrict.select(CityDistrict.university)
            .where((CityDistrict.city == city) & (CityDistrict.number == district))
            .tuples()
            .first()
        )
        if row is not None:
            return row[0]
    return city.university_id


# --- field x degree eligibility ------------------------------------------------------


def allowed_degrees(field) -> list:
    """The degree levels a restricted field is allowed at, by rank (empty: no restriction)."""
    return list(DegreeLevel.select().join(FieldDegree).where(FieldDegree.field == field).order_by(DegreeLevel.rank))


def allowed_degree_names() -> dict[int, str]:
    """``{field id: its allowed degrees' names, by rank, joined by «، »}`` for every restricted
    field, in one query (a field without restriction is absent): what exports show."""
    names: dict[int, list[str]] = {}
    rows = (
        FieldDegree.select(FieldDegree.field, DegreeLevel.name)
        .join(DegreeLevel)
        .order_by(FieldDegree.field, DegreeLevel.rank)
        .tuples()
    )
    for field_id, name in rows:
        names.setdefault(field_id, []).append(name)
    return {field_id: "، ".join(degrees) for field_id, degrees in names.items()}


def check_study(field, degree) -> None:
    """Refuse a degree level at which the field of study is not allowed.

    Each switch (``eligible``) is checked by the cleaners of the field and of the degree; this
    is the matrix on top: a field with ``FieldDegree`` rows qualifies only at those degrees.
    """
    if field is None or degree is None:
        return
    allowed = {d for (d,) in FieldDegree.select(FieldDegree.degree).where(FieldDegree.field == field).tuples()}
    if allowed and degree.id not in allowed:
        raise DomainError(
            N_("The field of study %(name)s is accepted only at these degree levels: %(degrees)s."),
            field="degree_level",
            code="degree_not_allowed_for_field",
            name=field.name,
            degrees="، ".join(
                d.name for d in DegreeLevel.select().where(DegreeLevel.id.in_(allowed)).order_by(DegreeLevel.rank)
            ),
        )
