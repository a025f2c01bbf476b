"""Tests for persian.py: normalisation, Iranian validators and Jalali dates."""

import datetime
from zoneinfo import ZoneInfo

import jdatetime
import pytest

import persian
from persian import (
    age_on,
    digits_only,
    format_jalali_date,
    format_jalali_datetime,
    is_valid_national_code,
    normalize_mobile,
    normalize_national_code,
    normalize_phone,
    normalize_postal_code,
    normalize_text,
    parse_jalali_date,
    to_ascii_digits,
    to_persian_digits,
    to_tehran,
)


def reference_check_digit(code: str) -> int:
    """Independent re-statement of the mod-11 rule, to audit the vectors."""
    s = sum(int(code[i]) * (10 - i) for i in range(9))
    r = s % 11
    return r if r < 2 else 11 - r


# --- digits ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("۰۱۲۳۴۵۶۷۸۹", "0123456789"),
        ("٠١٢٣٤٥٦٧٨٩", "0123456789"),
        ("کد ۱۲۳ abc ٤٥", "کد 123 abc 45"),
        ("0912", "0912"),
        ("", ""),
        (None, ""),
    ],
)
def test_to_ascii_digits(text, expected):
    assert to_ascii_digits(text) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("1403/01/01", "۱۴۰۳/۰۱/۰۱"),
        (42, "۴۲"),
        ("٤٥", "۴۵"),  # Arabic-Indic shown as Persian too
        ("abc", "abc"),
        (None, ""),
    ],
)
def test_to_persian_digits(value, expected):
    assert to_persian_digits(value) == expected


def test_digit_round_trip():
    assert to_ascii_digits(to_persian_digits("0123456789")) == "0123456789"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("0912 123-4567", "09121234567"),
        ("۰۹۱۲_۱۲۳.۴۵۶۷", "09121234567"),
        ("021/8877 6655", "02188776655"),
        ("(021) 8877\u20136655", "02188776655"),  # en dash
        ("\u200e0912\u200f1234567", "09121234567"),  # pasted bidi marks
        ("+98 912", "+98912"),  # '+' kept for the mobile parser
        ("12a4", "12a4"),  # letters kept so strict checks reject them
        (None, ""),
    ],
)
def test_digits_only(text, expected):
    assert digits_only(text) == expected


# --- normalize_text ------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("علي", "علی"),  # Arabic yeh U+064A
        ("موسى", "موسی"),  # alef maksura U+0649
        ("كامپيوتر", "کامپیوتر"),  # Arabic kaf U+0643 and yeh
        ("تهـــران", "تهران"),  # tatweel
        ("  محمد   رضا \t\n احمدی ", "محمد رضا احمدی"),
        ("خیابان ۱۲ پلاک ٣", "خیابان 12 پلاک 3"),
        ("می\u200cخواهم", "می\u200cخواهم"),  # inner ZWNJ kept
        ("\u200c سلام \u200c", "سلام"),  # edge ZWNJ/space stripped
        ("\u0627\u0653ب", "\u0622ب"),  # NFC: alef + maddah -> آ
        ("", ""),
        ("   ", ""),
        (None, ""),
    ],
)
def test_normalize_text(text, expected):
    assert normalize_text(text) == expected


def test_normalize_text_is_idempotent():
    once = normalize_text(" كيك  ـ علي ")
    assert normalize_text(once) == once


# --- national code -------------------------------------------------------------

VALID_NATIONAL_CODES = [
    "0499370899",
    "0790419904",
    "0084575948",
    "0013542419",
    "1234567891",  # 210 % 11 = 1 -> check digit 1
    "9876543210",  # 330 % 11 = 0 -> check digit 0
]


@pytest.mark.parametrize("code", VALID_NATIONAL_CODES)
def test_valid_vectors_really_satisfy_checksum(code):
    # Guards the table itself: every "valid" vector is audited independently.
    assert reference_check_digit(code) == int(code[9])


@pytest.mark.parametrize(
    "code",
    VALID_NATIONAL_CODES
    + [
        "۰۴۹۹۳۷۰۸۹۹",  # Persian digits
        "٠٧٩٠٤١٩٩٠٤",  # Arabic-Indic digits
        "049-937089-9",  # typed separators
        " 0499 370 899 ",
        "499370899",  # legacy, 9 digits -> 0499370899
        "84575948",  # legacy, 8 digits -> 0084575948
    ],
)
def test_is_valid_national_code_accepts(code):
    assert is_valid_national_code(code) is True


@pytest.mark.parametrize(
    "code",
    [
        "0000000000",  # all identical (passes checksum but never issued)
        "1111111111",  # all identical, passes checksum
        "۵۵۵۵۵۵۵۵۵۵",
        "0499370898",  # wrong check digit
        "0790419905",  # wrong check digit
        "1234567890",  # wrong check digit (should be 1)
        "04993708999",  # 11 digits
        "4993708",  # 7 digits, too short to pad
        "049937089a",  # letter
        "abcdefghij",
        "",
        None,
    ],
)
def test_is_valid_national_code_rejects(code):
    assert is_valid_national_code(code) is False


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("۰۴۹۹۳۷۰۸۹۹", "0499370899"),
        ("049-937-0899", "0499370899"),
        ("499370899", "0499370899"),
        ("84575948", "0084575948"),
        ("12345", "12345"),  # returned as-is, still invalid
        ("049937089a", "049937089a"),
        (None, ""),
    ],
)
def test_normalize_national_code(text, expected):
    assert normalize_national_code(text) == expected


# --- mobile ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "09121234567",
        "9121234567",
        "+989121234567",
        "00989121234567",
        "989121234567",
        "۰۹۱۲۱۲۳۴۵۶۷",
        "٠٩١٢١٢٣٤٥٦٧",
        "+۹۸ ۹۱۲ ۱۲۳ ۴۵۶۷",
        "0912 123 4567",
        "0912-123-4567",
        "+98-912-123-4567",
        " 09121234567 ",
    ],
)
def test_normalize_mobile_accepts(text):
    assert normalize_mobile(text) == "09121234567"


@pytest.mark.parametrize(
    "text",
    [
        "0812345678",  # 10 digits not starting with 9
        "091212345",  # too short
        "08121234567",  # landline-like prefix
        "+14155552671",  # foreign country code
        "+449121234567",
        "091212345678",  # too long
        "0912123456a",
        "9121234567 8",
        "",
        None,
    ],
)
def test_normalize_mobile_rejects(text):
    assert normalize_mobile(text) is None


# --- landline and postal ------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("02188776655", "02188776655"),
        ("021-88776655", "02188776655"),
        ("(۰۲۱) ۸۸۷۷ ۶۶۵۵", "02188776655"),
        ("+982188776655", "02188776655"),
        ("00982188776655", "02188776655"),
        ("03132221100", "03132221100"),
        ("", ""),  # optional field
        ("   ", ""),
        (None, ""),
        ("88776655", None),  # no area code
        ("2188776655", None),
        ("09121234567", None),  # mobile, not landline
        ("00212345678", None),
        ("021887766550", None),
        ("0218877665x", None),
        ("+12125550100", None),
    ],
)
def test_normalize_phone(text, expected):
    assert normalize_phone(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1193653471", "1193653471"),
        ("۱۱۹۳۶۵۳۴۷۱", "1193653471"),
        ("11936-53471", "1193653471"),
        ("1193 653 471", "1193653471"),
        ("0193653471", None),  # leading 0
        ("1111111111", None),  # all identical
        ("119365347", None),  # 9 digits
        ("11936534711", None),  # 11 digits
        ("119365347a", None),
        ("", None),
        (None, None),
    ],
)
def test_normalize_postal_code(text, expected):
    assert normalize_postal_code(text) == expected


# --- Jalali parsing --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1403/01/01", datetime.date(2024, 3, 20)),
        ("1357/11/22", datetime.date(1979, 2, 11)),
        ("1403/12/30", datetime.date(2025, 3, 20)),  # 1403 is leap
        ("1399/12/30", datetime.date(2021, 3, 20)),  # 1399 is leap
        ("1400/06/31", datetime.date(2021, 9, 22)),  # months 1-6 have 31 days
        ("1400/07/30", datetime.date(2021, 10, 22)),
        ("1402/12/29", datetime.date(2024, 3, 19)),
        ("1403-01-01", datetime.date(2024, 3, 20)),
        ("1403/1/1", datetime.date(2024, 3, 20)),
        ("1403-1-01", datetime.date(2024, 3, 20)),
        ("۱۴۰۳/۰۱/۰۱", datetime.date(2024, 3, 20)),
        ("١٤٠٣/٠١/٠١", datetime.date(2024, 3, 20)),
        ("  ۱۳۵۷-۱۱-۲۲ ", datetime.date(1979, 2, 11)),
        ("\u200f1403/01/01\u200e", datetime.date(2024, 3, 20)),
        ("1200/01/01", jdatetime.date(1200, 1, 1).togregorian()),
        ("1500/01/01", jdatetime.date(1500, 1, 1).togregorian()),
    ],
)
def test_parse_jalali_date_valid(text, expected):
    assert parse_jalali_date(text) == expected


def test_1404_is_not_leap():
    # Computed with jdatetime rather than assumed: 1404 has a 29-day Esfand.
    with pytest.raises(ValueError):
        jdatetime.date(1404, 12, 30)
    assert parse_jalali_date("1404/12/30") is None
    assert parse_jalali_date("1404/12/29") == datetime.date(2026, 3, 20)


@pytest.mark.parametrize(
    "text",
    [
        "1402/12/30",  # 1402 is not leap
        "1404/12/30",  # 1404 is not leap
        "1400/07/31",  # months 7-11 have 30 days
        "1400/11/31",
        "1400/13/01",
        "1400/00/10",
        "1400/01/00",
        "1400/01/32",
        "1199/12/29",  # year out of range
        "1501/01/01",
        "2024/03/20",  # a Gregorian date is not accepted as Jalali
        "1403/01-01",  # mixed separators
        "1403.01.01",
        "14030101",
        "03/01/01",
        "1403/001/01",
        "1403/01/01 12:00",
        "hello",
        "",
        None,
    ],
)
def test_parse_jalali_date_invalid(text):
    assert parse_jalali_date(text) is None


@pytest.mark.parametrize(
    "text",
    ["1403/01/01", "1357/11/22", "1403/12/30", "1400/06/31", "1300/07/30"],
)
def test_jalali_round_trip(text):
    assert format_jalali_date(parse_jalali_date(text)) == text


def test_round_trip_every_day_of_a_leap_year():
    day = datetime.date(2024, 3, 20)  # 1403/01/01
    for _ in range(366):
        assert parse_jalali_date(format_jalali_date(day)) == day
        day += datetime.timedelta(days=1)
    assert format_jalali_date(day) == "1404/01/01"


# --- Jalali formatting ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "persian_digits", "expected"),
    [
        (datetime.date(2024, 3, 20), False, "1403/01/01"),
        (datetime.date(2024, 3, 20), True, "۱۴۰۳/۰۱/۰۱"),
        (datetime.datetime(1979, 2, 11, 23, 59), False, "1357/11/22"),
        (jdatetime.date(1403, 12, 30), False, "1403/12/30"),
        (None, False, ""),
        (None, True, ""),
    ],
)
def test_format_jalali_date(value, persian_digits, expected):
    assert format_jalali_date(value, persian_digits=persian_digits) == expected


@pytest.mark.parametrize(
    ("value", "persian_digits", "expected"),
    [
        (datetime.datetime(2024, 3, 20, 9, 5, 59), False, "1403/01/01 09:05"),
        (datetime.datetime(2024, 3, 20, 9, 5), True, "۱۴۰۳/۰۱/۰۱ ۰۹:۰۵"),
        (datetime.date(2024, 3, 20), False, "1403/01/01"),
        (None, False, ""),
    ],
)
def test_format_jalali_datetime(value, persian_digits, expected):
    assert format_jalali_datetime(value, persian_digits=persian_digits) == expected


# --- time zone, today, age -------------------------------------------------------------


@pytest.mark.parametrize(
    ("utc", "expected"),
    [
        # +03:30 with no DST (Iran abolished DST in 2022).
        (datetime.datetime(2024, 7, 1, 20, 30), datetime.datetime(2024, 7, 2, 0, 0)),
        (datetime.datetime(2025, 1, 1, 0, 0), datetime.datetime(2025, 1, 1, 3, 30)),
        # Summer 2021 still had DST: +04:30.
        (datetime.datetime(2021, 7, 1, 0, 0), datetime.datetime(2021, 7, 1, 4, 30)),
    ],
)
def test_to_tehran(utc, expected):
    local = to_tehran(utc)
    assert local.tzinfo == ZoneInfo("Asia/Tehran")
    assert local.replace(tzinfo=None) == expected
    assert local == utc.replace(tzinfo=datetime.UTC)  # same instant


def test_to_tehran_aware_and_none():
    aware = datetime.datetime(2024, 1, 1, 12, tzinfo=datetime.UTC)
    assert to_tehran(aware).hour == 15
    assert to_tehran(None) is None


def test_utc_then_format_crosses_jalali_midnight():
    # 21:00 UTC on 1403/01/01 is already 1403/01/02 in Tehran.
    utc = datetime.datetime(2024, 3, 20, 21, 0)
    assert format_jalali_datetime(to_tehran(utc)) == "1403/01/02 00:30"


@pytest.mark.parametrize(
    ("birth", "on", "expected"),
    [
        (datetime.date(1990, 5, 15), datetime.date(2024, 5, 15), 34),  # birthday
        (datetime.date(1990, 5, 15), datetime.date(2024, 5, 14), 33),  # day before
        (datetime.date(1990, 5, 15), datetime.date(2024, 5, 16), 34),
        (datetime.date(1990, 12, 31), datetime.date(2024, 1, 1), 33),
        (datetime.date(2006, 3, 1), datetime.date(2024, 3, 1), 18),
        (datetime.date(2006, 3, 2), datetime.date(2024, 3, 1), 17),
        (datetime.date(2000, 2, 29), datetime.date(2023, 2, 28), 22),
        (datetime.date(2000, 2, 29), datetime.date(2023, 3, 1), 23),
        (datetime.date(2000, 2, 29), datetime.date(2024, 2, 29), 24),
        (datetime.date(2024, 1, 1), datetime.date(2024, 1, 1), 0),
        (datetime.datetime(1990, 5, 15, 23, 0), datetime.datetime(2024, 5, 15, 0, 1), 34),
        # Jalali inputs use Gregorian arithmetic: 1369/02/25 is 1990-05-15, and
        # 1403/02/25 is 2024-05-14 (the day before the Gregorian birthday).
        (jdatetime.date(1369, 2, 25), jdatetime.date(1403, 2, 25), 33),
        (jdatetime.date(1369, 2, 25), jdatetime.date(1403, 2, 26), 34),
    ],
)
def test_age_on(birth, on, expected):
    assert age_on(birth, on) == expected


def test_age_on_defaults_to_tehran_today(monkeypatch):
    monkeypatch.setattr(persian, "_tehran_today", lambda: datetime.date(2024, 5, 15))
    assert age_on(datetime.date(1990, 5, 15)) == 34


def test_parsed_birth_date_gives_age():
    birth = parse_jalali_date("۱۳۶۹/۰۲/۲۵")  # 1990-05-15
    assert age_on(birth, parse_jalali_date("1403/02/25")) == 33  # 2024-05-14
    assert age_on(birth, parse_jalali_date("1403/02/26")) == 34  # 2024-05-15


def test_module_does_not_import_flask():
    # A fresh interpreter, so Flask loaded by other tests cannot mask it.
    import os
    import subprocess
    import sys

    code = "import sys, persian; sys.exit('flask' in sys.modules)"
    project_dir = os.path.dirname(os.path.abspath(persian.__file__))
    subprocess.run([sys.executable, "-c", code], check=True, cwd=project_dir)
