"""Schema migrations (peewee-migrate, ``migrations/``): from an empty database they build
exactly what ``models.create_tables()`` builds, and they upgrade the previous release's
schema (all migrations but the last) with its data in place. Runs on SQLite, and on
PostgreSQL when TEST_DATABASE_URL names one (each database in a schema of its own)."""

from __future__ import annotations

import os
import re
import uuid

import pytest
from peewee import IntegrityError, PostgresqlDatabase, Table

import models
from helpers import national_code
from models import db, migrations

PG_URL = os.environ.get("TEST_DATABASE_URL", "")
PG = PG_URL.startswith("postgres")


@pytest.fixture
def fresh(tmp_path):
    """A factory of empty databases (bound one at a time); the session's binding comes back."""
    original = db.obj
    made = []

    def make():
        if PG:
            schema = f"mig_{uuid.uuid4().hex[:8]}"
            admin = models.connect_database(PG_URL)
            admin.execute_sql(f'CREATE SCHEMA "{schema}"')
            admin.close()
            database = PostgresqlDatabase(None)
            database.init(**_pg_params(PG_URL), options=f"-c search_path={schema}")
            database.schema_name = schema
        else:
            database = models.connect_database(f"sqlite:///{tmp_path / f'{uuid.uuid4().hex[:8]}.db'}")
            database.schema_name = None
        made.append(database)
        models.bind_database(database)
        database.connect(reuse_if_open=True)
        return database

    yield make
    for database in made:
        if not database.is_closed():
            database.close()
        if PG:
            admin = models.connect_database(PG_URL)
            admin.execute_sql(f'DROP SCHEMA "{database.schema_name}" CASCADE')
            admin.close()
    models.bind_database(original)


def _pg_params(url):
    from urllib.parse import urlparse

    parts = urlparse(url)
    return {
        "database": parts.path.lstrip("/"),
        "user": parts.username,
        "password": parts.password,
        "host": parts.hostname,
        "port": parts.port or 5432,
    }


def schema_of(database) -> dict:
    """Tables, columns (type, null, primary key), indexes (unique, columns, partial clause) and
    foreign keys, as the database itself reports them."""
    schema = database.schema_name
    kwargs = {"schema": schema} if schema else {}
    result = {}
    for table in database.get_tables(**kwargs):
        if table == migrations.HISTORY_TABLE:
            continue
        columns = sorted((c.name, c.data_type, c.null, c.primary_key) for c in database.get_columns(table, **kwargs))
        indexes = sorted(
            (i.name, i.unique, tuple(i.columns), _where(i.sql, schema)) for i in database.get_indexes(table, **kwargs)
        )
        keys = sorted((f.column, f.dest_table, f.dest_column) for f in database.get_foreign_keys(table, **kwargs))
        result[table] = {"columns": columns, "indexes": indexes, "foreign_keys": keys}
    return result


def _where(sql, schema) -> str:
    """The partial-index clause, normalised (quotes, spaces, casts differ by dialect)."""
    if not sql or "WHERE" not in sql.upper():
        return ""
    clause = re.split(r"\bWHERE\b", sql, flags=re.IGNORECASE)[1]
    clause = re.sub(r"::\w+(\[\])?|[\"()\s]|ARRAY|\[|\]|=ANY", "", clause)
    return clause.replace("IN", "").lower()


def test_migrations_build_what_create_tables_builds(fresh):
    migrated = fresh()
    applied = migrations.migrate(migrated)
    assert applied == [
        "001_initial",
        "002_cartable_indexes",
        "003_rate_counter",
        "006_identity",
        "008_legacy_real_data",
        "010_notice_subject",
    ]
    assert migrations.migrate(migrated) == []  # safe to run again
    expected = fresh()
    models.create_tables()
    got, want = schema_of(migrated), schema_of(expected)
    assert sorted(got) == sorted(want)
    for table in want:
        assert got[table] == want[table], table
    # The partial unique indexes are there and partial.
    indexes = {i[0]: i for i in got["qualification_request"]["indexes"]}
    assert indexes["qualification_one_open_per_officer"][1] is True
    assert "draft" in indexes["qualification_one_open_per_officer"][3]


def _insert_as_of(database, row):
    """Insert a row with only the columns its table has in ``database`` (the previous
    release's schema lacks the columns the last migration adds); return it as read back."""
    model = type(row)
    kwargs = {"schema": database.schema_name} if database.schema_name else {}
    columns = {c.name for c in database.get_columns(model._meta.table_name, **kwargs)}
    values = {
        field.column_name: field.db_value(row.__data__[field.name])
        for field in model._meta.sorted_fields
        if field.column_name in columns and field.name in row.__data__ and field.name != "id"
    }
    # A bare Table, not the model: the model's insert would add its new columns' defaults.
    table = Table(model._meta.table_name, ["id", *values]).bind(database)
    ((new_id,),) = list(table.insert(values).returning(table.id).tuples().execute())
    return (
        model.select(*[f for f in model._meta.sorted_fields if f.column_name in columns])
        .where(model.id == new_id)
        .get()
    )


# The last migration of the first release, whose databases kept no migration history.
FIRST_RELEASE = "003_rate_counter"


def _previous_release_with_data(database, upto=None):
    """The schema of an earlier release (by default every migration but the last) and some rows."""
    names = migrations.pending(database)
    assert len(names) >= 2, "a previous release needs at least two migrations"
    upto = upto or names[-2]
    applied = migrations.migrate(database, upto=upto)
    assert applied == names[: names.index(upto) + 1]
    models.load_reference_data()
    clean = models.officer_rules.validate_registration(
        {
            "national_code": national_code(4242),
            "birth_date": "1370/05/21",
            "first_name": "مریم",
            "last_name": "احمدی",
            "father_name": "علی",
            "gender": "female",
            "id_card_number": "1234",
            "mobile": "09121234567",
            "phone": "",
            "email": "",
            "address": "تهران، خیابان انقلاب، کوچه یکم، پلاک ۱۰",
            "postal_code": "1314567890",
            "province": str(models.City.get(models.City.name == "تهران").province_id),
            "city": str(models.City.get(models.City.name == "تهران").id),
            "field_of_study": str(models.FieldOfStudy.get(models.FieldOfStudy.eligible == True).id),  # noqa: E712
            "degree_level": str(models.DegreeLevel.select().first().id),
            "password": "Kh0sh-Amad-2024",
            "password_confirm": "Kh0sh-Amad-2024",
        }
    )
    officer = models.Officer(**clean, user_code="12345678")
    officer.set_password("Kh0sh-Amad-2024")
    officer = _insert_as_of(database, officer)
    request_ = _insert_as_of(
        database,
        models.QualificationRequest(
            officer=officer,
            status="submitted",
            submitted_at=models.utcnow(),
            last_submitted_at=models.utcnow(),
            university=officer.city.university_id,
        ),
    )
    return officer, request_, names[-1]


def test_upgrade_from_the_previous_release_keeps_the_data(fresh):
    database = fresh()
    officer, request_, last = _previous_release_with_data(database)
    assert migrations.migrate(database) == [last]
    again = models.Officer.get_by_id(officer.id)
    assert (again.national_code, again.user_code, again.password_hash) == (
        officer.national_code,
        officer.user_code,
        officer.password_hash,
    )
    assert models.QualificationRequest.get_by_id(request_.id).status == "submitted"
    assert models.Province.select().count() == 31
    # The rules the indexes enforce still hold after the upgrade.
    with pytest.raises(IntegrityError), db.atomic():
        models.QualificationRequest.create(officer=officer, status="draft")
    upgraded = schema_of(database)
    expected = fresh()
    models.create_tables()
    assert upgraded == schema_of(expected)


def test_a_database_made_before_migrations_is_adopted(fresh):
    """The previous release created its tables with create_tables() and kept no history:
    it is recorded at 001 and the later migrations run, data in place."""
    database = fresh()
    officer, request_, last = _previous_release_with_data(database, upto=FIRST_RELEASE)
    database.execute_sql(f'DROP TABLE "{migrations.HISTORY_TABLE}"')
    applied = migrations.migrate(database)
    assert applied[-1] == last and applied[0].startswith(migrations.BASELINE)
    assert models.Officer.get_by_id(officer.id).national_code == officer.national_code
    assert migrations.migrate(database) == []


@pytest.mark.sqlite_only
def test_init_db_applies_the_pending_migrations(tmp_path):
    from app import create_app

    original = db.obj
    url = f"sqlite:///{tmp_path / 'init.db'}"
    try:
        app = create_app(
            {"DATABASE_URL": url, "SECRET_KEY": "x", "SEED_DEMO_DATA": False, "UPLOAD_DIR": str(tmp_path / "documents")}
        )
        result = app.test_cli_runner().invoke(args=["init-db"])
        assert result.exit_code == 0, result.output
        assert "migration applied: 001_initial" in result.output
        assert "migration applied: 002_cartable_indexes" in result.output
        assert "migration applied: 003_rate_counter" in result.output
        assert "migration applied: 006_identity" in result.output
        assert "migration applied: 010_notice_subject" in result.output
        assert "reference data added: province=31," in result.output
        again = app.test_cli_runner().invoke(args=["init-db"])
        assert "migration applied" not in again.output
        assert "reference data: up to date" in again.output
    finally:
        models.bind_database(original)
