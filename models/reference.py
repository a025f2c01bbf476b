"""Reference data: provinces, cities, universities, fields of study, degrees, document kinds.

Loaded from the CSV files under ``data/`` by :func:`load_reference_data`; the
directorate edits the rows afterwards in the back office, so a reload only adds
what is missing and never overwrites an edit.
"""

from __future__ import annotations

import csv
from pathlib import Path

from peewee import BooleanField, CharField, ForeignKeyField, IntegerField

from persian import normalize_text

from .base import BaseModel, db
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


class University(BaseModel):
    code = CharField(max_length=60, unique=True)
    name = CharField(max_length=120, unique=True)
    name_en = CharField(max_length=120, default="")
    province = ForeignKeyField(Province, backref="universities", on_delete="RESTRICT")

    def __str__(self):
        return self.name


class City(BaseModel):
    province = ForeignKeyField(Province, backref="cities", on_delete="RESTRICT")
    name = CharField(max_length=80)
    name_en = CharField(max_length=80, default="")
    # The university of medical sciences whose cartable receives this city's files.
    university = ForeignKeyField(University, backref="cities", on_delete="RESTRICT")

    class Meta:
        indexes = ((("province", "name"), True),)

    def __str__(self):
        return self.name


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


REFERENCE_MODELS = (Province, University, City, FieldOfStudy, DegreeLevel, DocumentKind)


def _rows(name: str, data_dir: Path):
    with open(data_dir / name, encoding="utf-8-sig", newline="") as handle:
        for row in csv.DictReader(handle):
            yield {
                key: (normalize_text(value) if key.startswith("name") else value.strip()) for key, value in row.items()
            }


def _flag(value: str) -> bool:
    return str(value).strip() in ("1", "true", "True", "yes")


def load_reference_data(data_dir: Path | str = DATA_DIR) -> dict[str, int]:
    """Insert the reference rows that are missing; return how many of each were added."""
    data_dir = Path(data_dir)
    added = dict.fromkeys(("province", "university", "city", "field", "degree", "document_kind"), 0)
    with db.atomic():
        provinces = {p.code: p for p in Province.select()}
        for row in _rows("provinces.csv", data_dir):
            if row["code"] not in provinces:
                provinces[row["code"]] = Province.create(
                    code=row["code"], name=row["name_fa"], name_en=row.get("name_en", "")
                )
                added["province"] += 1
        universities = {u.code: u for u in University.select()}
        for row in _rows("universities.csv", data_dir):
            if row["code"] not in universities:
                universities[row["code"]] = University.create(
                    code=row["code"],
                    name=row["name_fa"],
                    name_en=row.get("name_en", ""),
                    province=provinces[row["province_code"]],
                )
                added["university"] += 1
        existing_cities = {(c.province_id, c.name) for c in City.select(City.province, City.name)}
        for row in _rows("cities.csv", data_dir):
            province = provinces[row["province_code"]]
            if (province.id, row["name_fa"]) not in existing_cities:
                City.create(
                    province=province,
                    name=row["name_fa"],
                    name_en=row.get("name_en", ""),
                    university=universities[row["university_code"]],
                )
                existing_cities.add((province.id, row["name_fa"]))
                added["city"] += 1
        codes = {f.code for f in FieldOfStudy.select(FieldOfStudy.code)}
        for row in _rows("fields.csv", data_dir):
            if row["code"] not in codes:
                FieldOfStudy.create(
                    code=row["code"],
                    name=row["name_fa"],
                    name_en=row.get("name_en", ""),
                    eligible=_flag(row["eligible"]),
                )
                added["field"] += 1
        codes = {d.code for d in DegreeLevel.select(DegreeLevel.code)}
        for row in _rows("degrees.csv", data_dir):
            if row["code"] not in codes:
                DegreeLevel.create(
                    code=row["code"],
                    name=row["name_fa"],
                    name_en=row.get("name_en", ""),
                    rank=int(row["rank"]),
                    eligible=_flag(row["eligible"]),
                )
                added["degree"] += 1
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


def find_by_persian_name(model, name: str, **filters):
    """Look a reference row up by its Persian name, tolerant of ي/ك and spacing variants."""
    query = model.select().where(model.name == normalize_text(name))
    for key, value in filters.items():
        query = query.where(getattr(model, key) == value)
    return query.first()


def cities_by_province():
    """[(province, [cities])] ordered by name, for grouped <select>s; two queries."""
    provinces = list(Province.select().order_by(Province.name))
    grouped = {p.id: [] for p in provinces}
    for city in City.select().order_by(City.name):
        grouped[city.province_id].append(city)
    return [(p, grouped[p.id]) for p in provinces]
