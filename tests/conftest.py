"""Shared fixtures: a real database (SQLite by default, PostgreSQL when
TEST_DATABASE_URL says so), an app per test, clients, and account factories."""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
# Apps that tests build themselves must not start a background SMS sender that would
# change the outbox under later tests; the tests that want one say so.
os.environ["SMS_DELIVER_IN_BACKGROUND"] = "0"

import models  # noqa: E402
import persian  # noqa: E402
from models import db  # noqa: E402

REFERENCE_TABLES = {m._meta.table_name for m in models.REFERENCE_MODELS}


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


def reset_database():
    """Empty every table that tests write to; put reference switches back."""
    tables = [m for m in reversed(models.ALL_MODELS) if m._meta.table_name not in REFERENCE_TABLES]
    with db.atomic():
        if models.is_sqlite():
            for model in tables:
                model.delete().execute()
        else:
            names = ", ".join(f'"{m._meta.table_name}"' for m in tables)
            db.execute_sql(f"TRUNCATE {names} RESTART IDENTITY CASCADE")
        models.FieldOfStudy.update(eligible=True).where(models.FieldOfStudy.code.not_in(INELIGIBLE_FIELDS)).execute()
        models.DegreeLevel.update(eligible=True).execute()


INELIGIBLE_FIELDS: tuple = ()


@pytest.fixture(autouse=True)
def fast_password_hashing(request, monkeypatch):
    """Tests create hundreds of accounts: hash with tiny argon2id costs, except in
    tests marked ``real_hasher`` that check the production parameters."""
    if request.node.get_closest_marker("real_hasher"):
        return
    from argon2 import PasswordHasher

    monkeypatch.setattr(models.accounts, "PASSWORD_HASHER", PasswordHasher(time_cost=1, memory_cost=64, parallelism=1))


@pytest.fixture
def app(database_url, tmp_path):
    from app import create_app

    global INELIGIBLE_FIELDS
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
        }
    )
    with db.connection_context():
        if not INELIGIBLE_FIELDS:
            INELIGIBLE_FIELDS = tuple(
                f.code for f in models.FieldOfStudy.select().where(models.FieldOfStudy.eligible == False)
            )  # noqa: E712
        reset_database()
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

VALID_NATIONAL_CODES = ["0499370899", "0790419904", "0084575948", "0013542419", "1234567891", "9876543210"]


national_code = persian.national_code_for  # a valid code made from a number


def city_named(name: str):
    return models.City.get(models.City.name == name)


def registration_data(**overrides) -> dict:
    tehran = city_named("تهران")
    field = (
        models.FieldOfStudy.get(models.FieldOfStudy.code == "biomedical-engineering")
        if models.FieldOfStudy.select().where(models.FieldOfStudy.code == "biomedical-engineering").exists()
        else models.FieldOfStudy.select().where(models.FieldOfStudy.eligible == True).first()
    )  # noqa: E712
    degree = models.DegreeLevel.get(models.DegreeLevel.rank == 2)
    data = {
        "national_code": "0499370899",
        "birth_date": "1370/05/21",
        "first_name": "مریم",
        "last_name": "احمدی",
        "father_name": "علی",
        "gender": "female",
        "id_card_number": "1234",
        "mobile": "09121234567",
        "phone": "",
        "email": "maryam@example.com",
        "address": "تهران، خیابان انقلاب، کوچه یکم، پلاک ۱۰",
        "postal_code": "1314567890",
        "province": str(tehran.province_id),
        "city": str(tehran.id),
        "field_of_study": str(field.id),
        "degree_level": str(degree.id),
        "password": "Kh0sh-Amad-2024",
        "password_confirm": "Kh0sh-Amad-2024",
    }
    data.update(overrides)
    if "district" not in overrides:  # Tehran is split by district: one of Tehran University's
        data["district"] = "17" if data["city"] == str(tehran.id) else ""
    return data


PASSWORD = "Kh0sh-Amad-2024"


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


def login(client, path, username, password=PASSWORD):
    return client.post(path, data={"username": username, "password": password})


@pytest.fixture
def officer_client(app, make_officer):
    officer = make_officer()
    client = app.test_client()
    response = login(client, "/officer/login", officer.user_code)
    assert response.status_code == 302, response.data[:500]
    client.officer = officer
    return client


def staff_client_for(app, staff):
    client = app.test_client()
    response = login(client, "/admin/login", staff.username)
    assert response.status_code == 302, response.data[:500]
    client.staff = staff
    return client


def csrf_token_from(html: str) -> str:
    match = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', html)
    return match.group(1) if match else ""


# ------------------------------------------------------------- sample files

MINIMAL_PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 200 200]>>endobj\n"
    b"trailer<</Root 1 0 R>>\n%%EOF\n"
)


def png_bytes() -> bytes:
    import struct
    import zlib

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00\xff\x00\x00"))
        + chunk(b"IEND", b"")
    )


JPEG_BYTES = bytes.fromhex(
    "ffd8ffe000104a46494600010100000100010000ffdb004300080606070605080707070909080a0c140d0c0b0b0c1912130f"
    "141d1a1f1e1d1a1c1c20242e2720222c231c1c2837292c30313434341f27393d38323c2e333432ffc0000b080001000101011100"
    "ffc4001f0000010501010101010100000000000000000102030405060708090a0bffc400b5100002010303020403050504040000"
    "017d01020300041105122131410613516107227114328191a1082342b1c11552d1f02433627282090a161718191a25262728292a"
    "3435363738393a434445464748494a535455565758595a636465666768696a737475767778797a838485868788898a9293949596"
    "9798999aa2a3a4a5a6a7a8a9aab2b3b4b5b6b7b8b9bac2c3c4c5c6c7c8c9cad2d3d4d5d6d7d8d9dae1e2e3e4e5e6e7e8e9eaf1f2"
    "f3f4f5f6f7f8f9faffda0008010100003f00fbd3ffd9"
)


def documents_payload(kinds=("degree", "national_card", "id_booklet", "photo")) -> dict:
    import io

    files = {}
    for kind in kinds:
        if kind == "photo":
            files[f"doc_{kind}"] = (io.BytesIO(JPEG_BYTES), "عکس پرسنلی.jpg")
        else:
            files[f"doc_{kind}"] = (io.BytesIO(MINIMAL_PDF), f"مدرک {kind}.pdf")
    return files
