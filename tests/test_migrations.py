"""Schema migrations (peewee-migrate, ``migrations/``): from an empty database they build
exactly what ``models.create_tables()`` builds, and they upgrade the previous release's
schema (all migrations but the last) with its data in place. Runs on SQLite, and on
PostgreSQL when TEST_DATABASE_URL names one (each database in a schema of its own)."""

from __future__ import annotations

import datetime
import os
import re
import uuid

import pytest
from peewee import IntegrityError, PostgresqlDatabase

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
        # (sqlite_stat1...: SQLite's planner statistics, which ANALYZE (migration 019) writes)
        if table == migrations.HISTORY_TABLE or table.startswith("sqlite_stat"):
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
    assert applied == sorted(path.stem for path in migrations.MIGRATIONS_DIR.glob("[0-9][0-9][0-9]_*.py"))
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


def _insert_as_of(database, model, **values):
    """Insert a row of ``model`` into its table as an older schema has it: the model's defaults
    for the columns the table has, ``values`` on top. The columns a later migration adds are
    left out, so the release before is written without the code of the release before."""
    kwargs = {"schema": database.schema_name} if database.schema_name else {}
    present = {c.name for c in database.get_columns(model._meta.table_name, **kwargs)}
    columns, params = [], []
    for field in model._meta.sorted_fields:
        if field.column_name not in present or field is model._meta.primary_key:
            continue
        if field.name in values:
            value = values[field.name]
        elif field.default is not None:
            value = field.default() if callable(field.default) else field.default
        else:
            continue
        columns.append(f'"{field.column_name}"')
        params.append(field.db_value(value))
    sql = (
        f'INSERT INTO "{model._meta.table_name}" ({", ".join(columns)}) '
        f"VALUES ({', '.join([database.param] * len(params))})"
    )
    if PG:
        return database.execute_sql(sql + ' RETURNING "id"', params).fetchone()[0]
    return database.execute_sql(sql, params).lastrowid


def _reference_rows_as_of(database):
    """The provinces, universities, cities, fields and degrees of data/, as an older schema holds them."""
    import csv

    def rows(name):
        with open(models.reference.DATA_DIR / name, encoding="utf-8", newline="") as handle:
            return list(csv.DictReader(handle))

    provinces = {
        r["code"]: _insert_as_of(database, models.Province, code=r["code"], name=r["name_fa"])
        for r in rows("provinces.csv")
    }
    universities = {
        r["code"]: _insert_as_of(
            database, models.University, code=r["code"], name=r["name_fa"], province=provinces[r["province_code"]]
        )
        for r in rows("universities.csv")
    }
    cities = {
        r["name_fa"]: _insert_as_of(
            database,
            models.City,
            name=r["name_fa"],
            province=provinces[r["province_code"]],
            university=universities[r["university_code"]],
        )
        for r in rows("cities.csv")
        if r["province_code"] == "tehran"
    }
    field = _insert_as_of(database, models.FieldOfStudy, code="biomedical-engineering", name="مهندسی پزشکی")
    degree = _insert_as_of(database, models.DegreeLevel, code="bachelor", name="کارشناسی", rank=2)
    return provinces["tehran"], cities["تهران"], universities["tehran"], field, degree


# The last migration of the first release, whose databases kept no migration history.
FIRST_RELEASE = "003_rate_counter"


def _previous_release_with_data(database, upto=None):
    """The schema of an earlier release (by default every migration but the last) and some rows."""
    names = migrations.pending(database)
    assert len(names) >= 2, "a previous release needs at least two migrations"
    upto = upto or names[-2]
    applied = migrations.migrate(database, upto=upto)
    assert applied == names[: names.index(upto) + 1]
    province, city, university, field, degree = _reference_rows_as_of(database)
    officer_id = _insert_as_of(
        database,
        models.Officer,
        user_code="100042",
        national_code=national_code(4242),
        birth_date=datetime.date(1991, 8, 12),
        first_name="مریم",
        last_name="احمدی",
        mobile="09121234567",
        address="تهران، خیابان انقلاب، کوچه یکم، پلاک ۱۰",
        postal_code="1314567890",
        province=province,
        city=city,
        field_of_study=field,
        degree_level=degree,
        password_hash=models.hash_password("Kh0sh-Amad-2024"),
    )
    request_id = _insert_as_of(
        database,
        models.QualificationRequest,
        officer=officer_id,
        status="submitted",
        submitted_at=models.utcnow(),
        last_submitted_at=models.utcnow(),
        university=university,
    )
    return officer_id, request_id, names[-1]


def test_upgrade_from_the_previous_release_keeps_the_data(fresh):
    database = fresh()
    officer_id, request_id, last = _previous_release_with_data(database)
    assert migrations.migrate(database) == [last]
    again = models.Officer.get_by_id(officer_id)
    assert (again.national_code, again.user_code) == (national_code(4242), "100042")
    assert models.verify_password(again.password_hash, "Kh0sh-Amad-2024")[0]
    assert models.QualificationRequest.get_by_id(request_id).status == "submitted"
    assert models.Province.select().count() == 31
    officer = again
    # The rules the indexes enforce still hold after the upgrade.
    with pytest.raises(IntegrityError), db.atomic():
        models.QualificationRequest.create(officer=officer, status="draft")
    upgraded = schema_of(database)
    expected = fresh()
    models.create_tables()
    assert upgraded == schema_of(expected)


def test_a_reset_code_waiting_during_the_upgrade_still_works(fresh):
    """Migration 014 lets a reset code name a distributor; an officer's code sent before it
    still names its officer afterwards."""
    database = fresh()
    officer_id, _, _ = _previous_release_with_data(database)
    expires = models.utcnow() + datetime.timedelta(minutes=10)
    reset_id = _insert_as_of(database, models.PasswordReset, officer=officer_id, code_hash="0" * 64, expires_at=expires)
    migrations.migrate(database)
    reset = models.PasswordReset.get_by_id(reset_id)
    assert (reset.officer_id, reset.distributor_id, reset.code_hash) == (officer_id, None, "0" * 64)


def test_a_database_made_before_migrations_is_adopted(fresh):
    """The previous release created its tables with create_tables() and kept no history:
    it is recorded at 001 and the later migrations run, data in place."""
    database = fresh()
    officer_id, request_id, last = _previous_release_with_data(database, upto=FIRST_RELEASE)
    database.execute_sql(f'DROP TABLE "{migrations.HISTORY_TABLE}"')
    applied = migrations.migrate(database)
    assert applied[-1] == last and applied[0].startswith(migrations.BASELINE)
    assert models.Officer.get_by_id(officer_id).national_code == national_code(4242)
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
        assert "migration applied: 004_review_integrity" in result.output
        assert "migration applied: 005_time_rules" in result.output
        assert "migration applied: 006_identity" in result.output
        assert "migration applied: 007_security_round2" in result.output
        assert "migration applied: 008_legacy_real_data" in result.output
        assert "migration applied: 009_places_and_study" in result.output
        assert "migration applied: 010_notice_subject" in result.output
        assert "migration applied: 011_api" in result.output
        assert "migration applied: 013_queue_indexes" in result.output
        assert "migration applied: 014_distributor_password_reset" in result.output
        assert "migration applied: 015_branch_changes" in result.output
        assert "migration applied: 016_cooperation_edit_queue_indexes" in result.output
        assert "migration applied: 017_sms_codes_scrubbed" in result.output
        assert "migration applied: 018_legacy_claim" in result.output
        assert "migration applied: 019_queue_indexes_second" in result.output
        assert "reference data added: province=31," in result.output
        again = app.test_cli_runner().invoke(args=["init-db"])
        assert "migration applied" not in again.output
        assert "reference data: up to date" in again.output
    finally:
        models.bind_database(original)


# ---------------------------------------------------------------- 017: codes kept in clear

OLD_SMS = {
    "reset_fa": ("کد بازیابی گذرواژه شما: 482913. این کد تا ۱۰ دقیقه معتبر است.", "sent"),
    "reset_en": ("Your password recovery code: 482914. It is valid for 10 minutes.", "failed"),
    "registration": ("کد ثبت‌نام شما: ۳۸۱۲۷۷. این کد ۱۰ دقیقه اعتبار دارد. آن را به هیچ‌کس ندهید.", "pending"),
    "mobile": ("کد تأیید این شماره به عنوان شماره همراه شما: 552190. این کد ۱۰ دقیقه اعتبار دارد.", "sent"),
    "decision": ("درخواست شما تأیید شد. شماره احراز صلاحیت: 1405-000123", "sent"),
}


def _old_outbox_rows(database):
    """SMS rows as the releases before 007 wrote them (the whole text, no template), and one
    of 007's kind that left the outbox with its code still in its parameters."""
    ids = {
        name: _insert_as_of(database, models.SmsOutbox, to="09121234567", text=text, status=status, msgid="", params="")
        for name, (text, status) in OLD_SMS.items()
    }
    ids["templated"] = _insert_as_of(
        database,
        models.SmsOutbox,
        to="09121234567",
        text="Your password recovery code: ••••••. It is valid for 10 minutes.",
        msgid="Your password recovery code: %(code)s. It is valid for 10 minutes.",
        params='{"code": "771234"}',
        status="sent",
    )
    return ids


def _assert_no_code_in_clear(ids):
    rows = {name: models.SmsOutbox.get_by_id(row_id) for name, row_id in ids.items()}
    for code in ("482913", "482914", "۳۸۱۲۷۷", "552190", "771234"):
        for name, row in rows.items():
            assert code not in row.text and code not in row.params, (name, row.text, row.params)
    for name in ("reset_fa", "reset_en", "registration", "mobile", "templated"):
        row = rows[name]
        assert row.secret_wiped, name  # masked in the back office, never sent again
    assert rows["reset_fa"].text.startswith("کد بازیابی گذرواژه شما: ••••••.")
    assert rows["registration"].status == "failed" and "017" in rows["registration"].last_error
    assert rows["reset_fa"].status == "sent"
    # Another message keeps its text and its number.
    assert rows["decision"].text == OLD_SMS["decision"][0] and not rows["decision"].msgid


def test_017_masks_the_codes_rows_from_before_templates_kept_in_clear(fresh):
    database = fresh()
    migrations.migrate(database, upto="010_notice_subject")
    ids = _old_outbox_rows(database)
    applied = migrations.migrate(database)
    assert "017_sms_codes_scrubbed" in applied
    _assert_no_code_in_clear(ids)
    assert migrations.migrate(database) == []


def test_017_is_safe_on_a_database_made_by_create_tables(fresh):
    database = fresh()
    models.create_tables()
    ids = _old_outbox_rows(database)
    applied = migrations.migrate(database)  # adopted: recorded at 001, the rest applied
    assert applied[0].startswith(migrations.BASELINE) and "017_sms_codes_scrubbed" in applied
    _assert_no_code_in_clear(ids)
    expected = fresh()
    models.create_tables()
    assert schema_of(database) == schema_of(expected)


@pytest.mark.sqlite_only
def test_init_db_masks_the_codes_of_the_old_sms_log_and_makes_it_private(tmp_path):
    import json
    import stat

    from app import create_app

    original = db.obj
    log = tmp_path / "sms.log"
    lines = [
        {"to": "09121234567", "text": OLD_SMS["reset_fa"][0], "at": "2026-11-30T08:00:00+00:00"},
        {"to": "09121234567", "text": OLD_SMS["decision"][0], "at": "2026-11-30T08:01:00+00:00"},
    ]
    log.write_text("".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines), encoding="utf-8")
    log.chmod(0o644)  # as the first release left it
    try:
        app = create_app(
            {
                "DATABASE_URL": f"sqlite:///{tmp_path / 'init.db'}",
                "SECRET_KEY": "x",
                "SEED_DEMO_DATA": False,
                "UPLOAD_DIR": str(tmp_path / "documents"),
                "SMS_LOG_FILE": str(log),
            }
        )
        result = app.test_cli_runner().invoke(args=["init-db"])
        assert result.exit_code == 0, result.output
        assert "sms log: 1 codes masked" in result.output
    finally:
        models.bind_database(original)
    kept = [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()]
    assert kept[0]["text"].startswith("کد بازیابی گذرواژه شما: ••••••.") and "482913" not in log.read_text()
    assert kept[0]["at"] == lines[0]["at"] and kept[1] == lines[1]
    assert stat.S_IMODE(log.stat().st_mode) == 0o600
