"""The test-data helpers (tests/helpers.py): made-up national codes and Jalali dates."""

import datetime

import jdatetime
import pytest

import helpers
from helpers import JALALI_MONTHS, format_jalali_long, jalali_today, national_code
from persian import is_valid_national_code, normalize_text


def test_made_up_national_codes_are_valid_and_distinct():
    codes = [national_code(n * 7919) for n in range(1, 2000)]
    assert all(is_valid_national_code(code) for code in codes)
    assert len(set(codes)) == len(codes)
    # Nine equal digits would make a code that passes the checksum but is never issued.
    assert is_valid_national_code(national_code(111111111))
    assert is_valid_national_code(national_code(0))


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (datetime.date(2026, 11, 26), "۵ آذر ۱۴۰۵"),
        (datetime.date(2024, 3, 20), "۱ فروردین ۱۴۰۳"),
        (datetime.date(2025, 3, 20), "۳۰ اسفند ۱۴۰۳"),
        (datetime.date(1979, 2, 11), "۲۲ بهمن ۱۳۵۷"),
        (None, ""),
    ],
)
def test_format_jalali_long(value, expected):
    assert format_jalali_long(value) == expected


def test_jalali_months():
    assert len(JALALI_MONTHS) == 12
    assert JALALI_MONTHS[0] == "فروردین"
    assert JALALI_MONTHS[8] == "آذر"
    assert JALALI_MONTHS[11] == "اسفند"
    # Month names must already be in normalised Persian spelling.
    assert all(normalize_text(m) == m for m in JALALI_MONTHS)


@pytest.mark.parametrize(
    ("today", "expected"),
    [
        (datetime.date(2024, 3, 20), jdatetime.date(1403, 1, 1)),
        (datetime.datetime(2026, 11, 26, 10, 0), jdatetime.date(1405, 9, 5)),
    ],
)
def test_jalali_today_with_override(today, expected):
    assert jalali_today(today) == expected


def test_jalali_today_uses_tehran_clock(monkeypatch):
    monkeypatch.setattr(helpers, "_tehran_today", lambda: datetime.date(2024, 3, 20))
    assert jalali_today() == jdatetime.date(1403, 1, 1)
    assert isinstance(jalali_today(), jdatetime.date)
