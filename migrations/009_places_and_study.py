"""009 -- places that match the country, and the field x degree matrix (issue 19).

- ``university.kind``: a university (دانشگاه) or a school (دانشکده) of medical sciences.
- ``city.county``: the county (شهرستان) of each city, now that every city is listed.
- ``city_district``: the municipal districts of a city split between universities (Tehran),
  each routed to its own university.
- ``officer.district``, ``branch.district``: the municipal district of a place in a split city;
  ``qualification_request.district``: the officer's, snapshotted with the city at submission.
- ``field_degree``: the degree levels at which a restricted field of study is allowed; the
  fields already in the database get the restrictions of ``data/field_degrees.csv`` once,
  here (later loads seed only the fields they create, so an edit of the matrix stays).

Independent of 004-008: it touches only its own columns and tables.
"""

import csv

import peewee as pw
from peewee_migrate import Migrator

from models.reference import DATA_DIR  # a path only: the migration builds its own models

FIELD_DEGREES = DATA_DIR / "field_degrees.csv"


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    """Add the columns and tables; seed the matrix of the fields already there."""
    migrator.run(_add_columns, database)

    @migrator.create_model
    class CityDistrict(pw.Model):
        id = pw.AutoField()
        city = pw.ForeignKeyField(column_name="city_id", field="id", model=migrator.orm["city"], on_delete="CASCADE")
        number = pw.IntegerField()
        university = pw.ForeignKeyField(
            column_name="university_id", field="id", model=migrator.orm["university"], on_delete="RESTRICT"
        )

        class Meta:
            legacy_table_names = False
            table_name = "city_district"
            indexes = [(("city", "number"), True)]

    @migrator.create_model
    class FieldDegree(pw.Model):
        id = pw.AutoField()
        field = pw.ForeignKeyField(
            column_name="field_id", field="id", model=migrator.orm["field_of_study"], on_delete="CASCADE"
        )
        degree = pw.ForeignKeyField(
            column_name="degree_id", field="id", model=migrator.orm["degree_level"], on_delete="CASCADE"
        )

        class Meta:
            legacy_table_names = False
            table_name = "field_degree"
            indexes = [(("field", "degree"), True)]

    if not fake:
        migrator.run(_seed_field_degrees, database)


# (table, column, definition). A NOT NULL column is added with its default in one statement:
# SQLite would otherwise rebuild the table, which the foreign keys pointing at it forbid. A
# database that models.create_tables() made already has them (like 002's indexes).
COLUMNS = (
    ("university", "kind", "VARCHAR(12) NOT NULL DEFAULT 'university'"),
    ("city", "county", "VARCHAR(80) NOT NULL DEFAULT ''"),
    ("officer", "district", "INTEGER"),
    ("qualification_request", "district", "INTEGER"),
    ("branch", "district", "INTEGER"),
)


def _add_columns(database):
    for table, column, definition in COLUMNS:
        if column not in {c.name for c in database.get_columns(table)}:
            database.execute_sql(f'ALTER TABLE "{table}" ADD COLUMN "{column}" {definition}')


def _seed_field_degrees(database):
    if not FIELD_DEGREES.exists():
        return
    with open(FIELD_DEGREES, encoding="utf-8-sig", newline="") as handle:
        pairs = [(row["field_code"].strip(), row["degree_code"].strip()) for row in csv.DictReader(handle)]
    for field_code, degree_code in pairs:
        database.execute_sql(
            'INSERT INTO "field_degree" ("field_id", "degree_id") '
            'SELECT f."id", d."id" FROM "field_of_study" f, "degree_level" d '
            'WHERE f."code" = %s AND d."code" = %s AND NOT EXISTS (SELECT 1 FROM "field_degree" x '
            'WHERE x."field_id" = f."id" AND x."degree_id" = d."id")'.replace("%s", database.param),
            (field_code, degree_code),
        )


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    """Drop them again."""
    migrator.remove_model("field_degree")
    migrator.remove_model("city_district")
    for table, column, _definition in reversed(COLUMNS):
        migrator.sql(f'ALTER TABLE "{table}" DROP COLUMN "{column}"')
