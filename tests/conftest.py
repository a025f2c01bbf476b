"""Shared fixtures: a real database (SQLite by default, PostgreSQL when
TEST_DATABASE_URL says so), an app per test, clients, and account factories.
What tests share that is not a fixture (sample files, login, form data) is in helpers.py."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.routing.rules import Rule

# Apps that tests build themselves must not start a background SMS sender that would
# change the outbox under later tests; the tests that want one say so.
os.environ["SMS_DELIVER_IN_BACKGROUND"] = "0"

import models  # noqa: E402
from helpers import PASSWORD, city_named, login, national_code, registration_data  # noqa: E402
from models import db  # noqa: E402

REFERENCE_TABLES = {m._meta.table_name for m in models.REFERENCE_MODELS}


def pytest_collection_modifyitems(config, items):
    """On PostgreSQL the ``sqlite_only`` tests are skipped with their reason, so the summary
    counts them ("N passed, 2 skipped") instead of silently leaving them out."""
    url = os.environ.get("TEST_DATABASE_URL", "")
    if not url or url.startswith("sqlite"):
        return
    skip = pytest.mark.skip(reason="sqlite_only: needs SQLite (WAL, file copies); this run is on PostgreSQL")
    for item in items:
        if item.get_closest_marker("sqlite_only"):
            item.add_marker(skip)


def _database_url(tmp_root: Path, worker: str) -> str:
    url = os.environ.get("TEST_DATABASE_URL")
    if not url:
        return f"sqlite:///{tmp_root / 'test.db'}"
    if worker and worker != "master":
        url = _worker_database(url, worker)
    return url


def _worker_database(url: str, worker: str) -> str:
    """With pytest-xdist each worker gets a PostgreSQL database of its own."""
    from urllib.parse import urlsplit, urlunsplit

    import psycopg2

    parts = urlsplit(url)
    name = f"{parts.path.lstrip('/')}_{worker}"
    admin = psycopg2.connect(
        dbname="postgres", user=parts.username, password=parts.password, host=parts.hostname, port=parts.port or 5432
    )
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
        if cursor.fetchone() is None:
            cursor.execute(f'CREATE DATABASE "{name}"')
    admin.close()
    return urlunsplit(parts._replace(path="/" + name))


@pytest.fixture(scope="session")
def database_url(tmp_path_factory):
    """Create the schema and reference data once per session (per xdist worker)."""
    url = _database_url(tmp_path_factory.mktemp("db"), os.environ.get("PYTEST_XDIST_WORKER", ""))
    models.bind_url(url)
    with db.connection_context():
        if not url.startswith("sqlite"):
            db.execute_sql("DROP SCHEMA public CASCADE; CREATE SCHEMA public;")
        models.create_tables()
        models.load_reference_data()
    return url


def reset_database(ineligible_fields: tuple):
    """Empty every table that tests write to; put reference switches back (every field of
    study eligible but ``ineligible_fields``, every degree level eligible)."""
    tables = [m for m in reversed(models.ALL_MODELS) if m._meta.table_name not in REFERENCE_TABLES]
    with db.atomic():
        if models.is_sqlite():
            for model in tables:
                model.delete().execute()
        else:
            names = ", ".join(f'"{m._meta.table_name}"' for m in tables)
            db.execute_sql(f"TRUNCATE {names} RESTART IDENTITY CASCADE")
        models.FieldOfStudy.update(eligible=True).where(models.FieldOfStudy.code.not_in(ineligible_fields)).execute()
        models.DegreeLevel.update(eligible=True).execute()


@pytest.fixture(scope="session")
def ineligible_fields(database_url) -> tuple:
    """The fields of study the reference data marks ineligible, read once before any test
    switches one: what reset_database puts back."""
    with db.connection_context():
        return tuple(f.code for f in models.FieldOfStudy.select().where(models.FieldOfStudy.eligible == False))  # noqa: E712


@pytest.fixture(autouse=True)
def fast_password_hashing(request, monkeypatch):
    """Tests create hundreds of accounts: hash with tiny argon2id costs, except in
    tests marked ``real_hasher`` that check the production parameters."""
    if request.node.get_closest_marker("real_hasher"):
        return
    from argon2 import PasswordHasher

    monkeypatch.setattr(models.accounts, "PASSWORD_HASHER", PasswordHasher(time_cost=1, memory_cost=64, parallelism=1))


class ClosingClient(FlaskClient):
    """Flask's test client, reading every response to its end and closing it (a document
    served from its file included), as a browser would; a test that reads a stream itself
    asks for ``buffered=False`` and closes the response. Unclosed files would otherwise
    raise ResourceWarnings, errors here, in whichever test the garbage collector runs."""

    def open(self, *args, buffered=True, **kwargs):
        response = super().open(*args, buffered=buffered, **kwargs)
        if buffered:
            # Werkzeug's client spools a multipart body over 500 KB to a temporary file
            # (the request's wsgi.input) and leaves it open.
            for answered in (*response.history, response):
                answered.request.environ["wsgi.input"].close()
        return response


@pytest.fixture(scope="session", autouse=True)
def url_builders_compiled_once():
    """Every test builds its own app, and Werkzeug compiles a Python function for each of its
    300 URL rules (``Rule._compile_builder``: half of ``create_app``'s time). The function
    depends only on the rule's text, parts, defaults and mode, never on the app, so the suite
    keeps one per rule; the app's own rules, maps and converters stay the app's. A Werkzeug
    without this method runs the tests unchanged, only slower."""
    original = getattr(Rule, "_compile_builder", None)
    if original is None:
        yield
        return
    compiled: dict = {}

    def compile_builder(rule, append_unknown=True):
        key = (rule.rule, tuple(rule._trace), repr(sorted((rule.defaults or {}).items())), append_unknown)
        found = compiled.get(key)
        if found is None:
            found = compiled[key] = original(rule, append_unknown)
        return found

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(Rule, "_compile_builder", compile_builder)
        yield


@pytest.fixture(scope="session", autouse=True)
def closing_test_clients():
    """Every app's test_client() is a ClosingClient, apps that tests build themselves included."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(Flask, "test_client_class", ClosingClient)
        yield


@pytest.fixture
def app(database_url, ineligible_fields, tmp_path):
    from app import create_app

    application = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": database_url,
            "SECRET_KEY": "test-secret",
            "UPLOAD_DIR": str(tmp_path / "documents"),
            "SMS_LOG_FILE": str(tmp_path / "sms.log"),
            "SMS_DELIVER_IN_BACKGROUND": False,
            "SEED_DEMO_DATA": False,
            "WTF_CSRF_ENABLED": False,
            "RATELIMIT_ENABLED": False,
            # Every count afresh: a test changes rows and looks again at once. The kept counts
            # (backoffice/list_counts.py) are tested on their own (tests/test_list_counts.py).
            "CARTABLE_COUNTS_SECONDS": 0,
        }
    )
    with db.connection_context():
        reset_database(ineligible_fields)
    yield application


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def dbc(app):
    """An open connection for tests that call the domain directly."""
    with db.connection_context():
        yield db


# ---------------------------------------------------------------- factories


@pytest.fixture
def make_officer(app):
    counter = {"n": 100}

    def make(city="تهران", qualified=False, **overrides):
        counter["n"] += 1
        with db.connection_context():
            c = city_named(city)
            data = registration_data(
                national_code=national_code(counter["n"] * 7919),
                mobile=f"0912{counter['n']:07d}",
                province=str(c.province_id),
                city=str(c.id),
                **overrides,
            )
            officer = models.register_officer(data)
            if qualified:
                models.Officer.update(
                    qualified_at=models.utcnow(),
                    university=c.university_id,
                    qualification_number=f"1405-{officer.id:06d}",
                ).where(models.Officer.id == officer.id).execute()
                officer = models.Officer.get_by_id(officer.id)
            return officer

    return make


@pytest.fixture
def make_staff(app):
    counter = {"n": 0}

    def make(role="university", university="دانشگاه علوم پزشکی تهران", username=None):
        counter["n"] += 1
        with db.connection_context():
            uni = models.University.get(models.University.name == university) if role == "university" else None
            return models.create_staff(
                username or f"staff{counter['n']}", PASSWORD, role, university=uni, full_name=f"کارشناس {counter['n']}"
            )

    return make


@pytest.fixture
def officer_client(app, make_officer):
    officer = make_officer()
    client = app.test_client()
    response = login(client, "/officer/login", officer.user_code)
    assert response.status_code == 302, response.data[:500]
    client.officer = officer
    return client


@pytest.fixture
def qualified(app, make_officer, make_staff, dbc):
    """A qualified Tehran officer, logged in: (officer, client, a Tehran reviewer)."""
    officer = make_officer(qualified=True)
    client = app.test_client()
    login(client, "/officer/login", officer.user_code)
    return officer, client, make_staff("university")
