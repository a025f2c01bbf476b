"""What test modules share that is not a fixture: the sample files, the standard registration
form, logging in through the real forms, and test data (made-up national codes, Jalali dates).

Test modules ``from helpers import ...`` (tests/ is on sys.path under pytest); the benchmark
scripts in bench/ ``from tests.helpers import ...``. Fixtures stay in conftest.py. Nothing in
the application imports this module: test data never ships with it.
"""

from __future__ import annotations

import datetime
import io
import os
import re
import struct
import zlib
from pathlib import Path

import jdatetime

import models
import persian

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "Kh0sh-Amad-2024"


# ------------------------------------------------------------- test data


def national_code(number: int) -> str:
    """A valid national code made from a number (its last nine digits and the mod-11 check
    digit), never all one digit: test and benchmark data, never a real person's code."""
    body = f"{number:09d}"[-9:]
    if len(set(body)) == 1:
        body = ("2" if body[0] == "1" else "1") + body[1:]
    remainder = sum(int(digit) * (10 - i) for i, digit in enumerate(body)) % 11
    return body + str(remainder if remainder < 2 else 11 - remainder)


JALALI_MONTHS = (
    "فروردین",
    "اردیبهشت",
    "خرداد",
    "تیر",
    "مرداد",
    "شهریور",
    "مهر",
    "آبان",
    "آذر",
    "دی",
    "بهمن",
    "اسفند",
)


def _jalali(d) -> jdatetime.date:
    if isinstance(d, jdatetime.datetime):
        return d.date()
    if isinstance(d, jdatetime.date):
        return d
    if isinstance(d, datetime.datetime):
        d = d.date()
    return jdatetime.date.fromgregorian(date=d)


def format_jalali_long(d) -> str:
    """A date as e.g. ``۵ آذر ۱۴۰۵`` (Persian digits, month name); ``None`` gives ``''``."""
    if d is None:
        return ""
    j = _jalali(d)
    return persian.to_persian_digits(f"{j.day} {JALALI_MONTHS[j.month - 1]} {j.year}")


def _tehran_today() -> datetime.date:
    return datetime.datetime.now(persian.TEHRAN).date()


def jalali_today(today=None) -> jdatetime.date:
    """Today's Jalali date in Asia/Tehran; ``today`` (a Gregorian date or datetime) overrides
    the clock."""
    return _jalali(_tehran_today() if today is None else today)


# ------------------------------------------------------------- forms and accounts


def city_named(name: str):
    return models.City.get(models.City.name == name)


def sms_code_to(mobile: str) -> str:
    """The 6-digit code of the newest SMS with one queued to ``mobile`` (what the person reads
    on the phone). The one place tests read a code from the outbox."""
    outbox = models.SmsOutbox.select().where(models.SmsOutbox.to == mobile).order_by(models.SmsOutbox.id.desc())
    for sms in outbox:
        found = re.search(r"(?<!\d)(\d{6})(?!\d)", persian.to_ascii_digits(sms.text))
        if found:
            return found.group(1)
    raise AssertionError(f"no SMS with a code was queued to {mobile}")


def register_through_the_form(client, **overrides):
    """Register an officer as a person does: the form, then the code from the SMS.
    Returns the last response (the 303 to the user-code page when everything passed)."""
    data = registration_data(**overrides)
    response = client.post("/officer/register", data=data)
    if response.status_code != 303:
        return response
    mobile = persian.normalize_mobile(data["mobile"])
    return client.post(response.headers["Location"], data={"code": sms_code_to(mobile)})


def registration_data(**overrides) -> dict:
    """A complete, valid officer registration form (in Tehran); ``overrides`` replace fields."""
    tehran = city_named("تهران")
    field = models.FieldOfStudy.get_or_none(models.FieldOfStudy.code == "biomedical-engineering")
    if field is None:
        field = models.FieldOfStudy.select().where(models.FieldOfStudy.eligible == True).first()
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
        "password": PASSWORD,
        "password_confirm": PASSWORD,
    }
    data.update(overrides)
    return data


def login(client, path, username, password=PASSWORD):
    """Post the login form at ``path`` (/officer/login, /admin/login, /distributor/login)."""
    return client.post(path, data={"username": username, "password": password})


def staff_client_for(app, staff):
    """A test client logged in as ``staff`` (the client remembers it as ``client.staff``)."""
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
    """A valid one-pixel PNG."""

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
    """The multipart files of a qualification request: a photo (JPEG) and PDFs."""
    files = {}
    for kind in kinds:
        if kind == "photo":
            files[f"doc_{kind}"] = (io.BytesIO(JPEG_BYTES), "عکس پرسنلی.jpg")
        else:
            files[f"doc_{kind}"] = (io.BytesIO(MINIMAL_PDF), f"مدرک {kind}.pdf")
    return files


# Hostile input shared by the security tests.
UUID_NAME = re.compile(r"[0-9a-f]{2}/[0-9a-f]{32}\.(pdf|jpg|png)")
XSS = '"><script>alert(1)</script><img src=x onerror=alert(1)>'
RAW_MARKUP = ("<script>alert(1)</script>", "<img src=x onerror=alert(1)>")


def files_under(root) -> list[str]:
    """Stored documents (the store's own tmp/ folder of uploads in progress is left out)."""
    skip = os.path.join(str(root), "tmp")
    return [os.path.join(r, f) for r, _d, fs in os.walk(root) for f in fs if not r.startswith(skip)]
