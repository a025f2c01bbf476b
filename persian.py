"""Persian text normalisation, Iranian identifier validators and Jalali dates.

Pure functions only: this module must not import Flask so that it can be used
from models, forms, CLI scripts and tests alike.

Conventions:
* Normalisers return a canonical string, or ``None`` when the input cannot be
  made valid (documented per function).
* Stored/compared values use ASCII digits; Persian digits are only for display.
"""

from __future__ import annotations

import datetime
import re
import threading
import unicodedata
from zoneinfo import ZoneInfo

import icu
import jdatetime

__all__ = [
    "TEHRAN",
    "to_ascii_digits",
    "to_persian_digits",
    "normalize_text",
    "sort_key",
    "sorted_persian",
    "digits_only",
    "normalize_national_code",
    "is_valid_national_code",
    "normalize_mobile",
    "normalize_postal_code",
    "normalize_phone",
    "parse_jalali_date",
    "format_jalali_date",
    "format_jalali_datetime",
    "to_tehran",
    "age_on",
]

TEHRAN = ZoneInfo("Asia/Tehran")

_PERSIAN_DIGITS = "۰۱۲۳۴۵۶۷۸۹"  # U+06F0..U+06F9
_ARABIC_DIGITS = "٠١٢٣٤٥٦٧٨٩"  # U+0660..U+0669
_ASCII_DIGITS = "0123456789"

_TO_ASCII = str.maketrans(_PERSIAN_DIGITS + _ARABIC_DIGITS, _ASCII_DIGITS * 2)
# Arabic-Indic digits are also shown as Persian ones: ٤٥٦ look different in
# Persian typography and would look like typos on a Persian page.
_TO_PERSIAN = str.maketrans(_ASCII_DIGITS + _ARABIC_DIGITS, _PERSIAN_DIGITS * 2)

ZWNJ = "\u200c"

# Arabic letters that Arabic keyboards/layouts (and many phones) produce in
# place of the Persian ones; mixing them breaks searching and uniqueness.
_ARABIC_TO_PERSIAN_LETTERS = str.maketrans(
    {
        "\u064a": "\u06cc",  # ي Arabic yeh -> ی Farsi yeh
        "\u0649": "\u06cc",  # ى alef maksura -> ی Farsi yeh
        "\u0643": "\u06a9",  # ك Arabic kaf -> ک keheh
        "\u0640": None,  # ـ tatweel is purely decorative stretching
    }
)

_WHITESPACE_RUN = re.compile(r"\s+")
_EDGE_SPACE_OR_ZWNJ = re.compile(r"^[\s\u200c]+|[\s\u200c]+$")

# Separators people type (or paste) inside codes and phone numbers. Bidi marks
# and ZWNJ arrive invisibly when copying from Persian documents and phones.
_SEPARATORS = re.compile(
    r"[\s\-_./\\,()\u060c\u066b\u066c\u200c\u200d\u200e\u200f\u061c"
    r"\u2010\u2011\u2012\u2013\u2014\u2212]+"
)

_MOBILE_RE = re.compile(r"09[0-9]{9}")
# Iranian area codes are 0 + [1-8] + one more digit (e.g. 021 Tehran, 031
# Isfahan); 09 is the mobile range, which has its own field and validator.
_LANDLINE_RE = re.compile(r"0[1-8][0-9]{9}")
_POSTAL_RE = re.compile(r"[1-9][0-9]{9}")
# ZWNJ and bidi marks sneak in when dates are pasted from RTL text.
_INVISIBLE_MARKS = re.compile(r"[\u200c\u200e\u200f\u061c]")
_JALALI_DATE_RE = re.compile(r"([0-9]{4})([/-])([0-9]{1,2})\2([0-9]{1,2})")

_MIN_JALALI_YEAR = 1200
_MAX_JALALI_YEAR = 1500


# --- digits and text ------------------------------------------------------


def to_ascii_digits(text) -> str:
    """Map Persian (۰-۹) and Arabic-Indic (٠-٩) digits to ASCII 0-9.

    Every other character is left unchanged. ``None`` gives ``''``.
    """
    if text is None:
        return ""
    return str(text).translate(_TO_ASCII)


def to_persian_digits(value) -> str:
    """Render ``value`` with Persian digits, for display (Jinja filter).

    ASCII and Arabic-Indic digits become ۰-۹; ``None`` gives ``''``.
    """
    if value is None:
        return ""
    return str(value).translate(_TO_PERSIAN)


def normalize_text(text) -> str:
    """Canonicalise free Persian text for storage and comparison.

    NFC-composes, replaces Arabic ي/ى/ك with Persian ی/ک, removes tatweel,
    converts digits to ASCII, collapses whitespace runs to one space and strips
    whitespace and ZWNJ from both ends. Internal ZWNJ (نیم‌فاصله) is kept
    because it is part of correct Persian spelling. ``None`` gives ``''``.
    """
    if text is None:
        return ""
    # NFC so that e.g. ا + U+0653 and the precomposed آ compare equal.
    text = unicodedata.normalize("NFC", str(text))
    text = text.translate(_ARABIC_TO_PERSIAN_LETTERS)
    text = to_ascii_digits(text)
    text = _WHITESPACE_RUN.sub(" ", text)
    return _EDGE_SPACE_OR_ZWNJ.sub("", text)


_collators = threading.local()


def _persian_collator():
    # An ICU collator is not safe to share between threads, so each thread builds its own.
    collator = getattr(_collators, "fa", None)
    if collator is None:
        collator = _collators.fa = icu.Collator.createInstance(icu.Locale("fa"))
    return collator


def sort_key(text) -> bytes:
    """The key that puts Persian text in Persian alphabetical order (ICU's ``fa`` collation).

    Code-point order puts the letters only Persian has (پ چ ژ ک گ ی) after «ه», so that
    «کرمان» follows «همدان»; this key puts them where the alphabet does (ب پ ت … ک گ ل …
    و ه ی), and ي/ك sort as ی/ک. ``None`` sorts as ``''``.
    """
    return _persian_collator().getSortKey("" if text is None else str(text))


def sorted_persian(items, key=str) -> list:
    """``items`` in Persian alphabetical order of ``key(item)`` (its text by default)."""
    return sorted(items, key=lambda item: sort_key(key(item)))


def mask_name(first: str, last: str) -> str:
    """«م… ا…»: the initials only."""
    return " ".join(f"{part[:1]}…" for part in (first, last) if part)


def digits_only(text) -> str:
    """ASCII-fy digits and drop typed separators (spaces, - _ . / etc.).

    Meant for national codes, postal codes and phone numbers only. Letters,
    ``+`` and other symbols are deliberately kept, so that a later strict
    check rejects them instead of silently accepting ``abc0912...``.
    ``None`` gives ``''``.
    """
    return _SEPARATORS.sub("", to_ascii_digits(text))


# --- national code (کد ملی) -------------------------------------------------


def normalize_national_code(text) -> str:
    """Return the national code as ASCII digits without separators.

    Legacy codes were sometimes issued/recorded without their leading zeros,
    so an all-digit value of 8 or 9 digits is left-padded with zeros to 10;
    this keeps ``499370899`` and ``0499370899`` one and the same record.
    The result may still be invalid: check it with ``is_valid_national_code``.
    """
    code = digits_only(text)
    if code.isascii() and code.isdigit() and len(code) in (8, 9):
        code = code.zfill(10)
    return code


def _national_code_check_digit(first_nine: str) -> int:
    """Check digit of the Iranian national-code checksum (mod 11)."""
    total = sum(int(digit) * (10 - i) for i, digit in enumerate(first_nine))
    remainder = total % 11
    return remainder if remainder < 2 else 11 - remainder


def is_valid_national_code(code) -> bool:
    """True if ``code`` is a valid Iranian national code (کد ملی).

    Input is normalised first (Persian/Arabic digits, separators, and 8- or
    9-digit legacy codes left-padded with zeros). The result must be 10 ASCII
    digits, not all identical (those pass the checksum but are never issued),
    and its last digit must match the mod-11 check digit.
    """
    code = normalize_national_code(code)
    if len(code) != 10 or not (code.isascii() and code.isdigit()):
        return False
    if len(set(code)) == 1:
        return False
    return _national_code_check_digit(code[:9]) == int(code[9])


# --- phone numbers and postal code ------------------------------------------


def _strip_iran_prefix(number: str, local_length: int) -> str:
    """Replace a +98 / 0098 / bare 98 country prefix by the trunk ``0``.

    ``local_length`` is the length without the leading 0 (10 for both mobile
    and landline), used to tell a bare ``98`` prefix from a number's digits.
    """
    if number.startswith("+98"):
        return "0" + number[3:]
    if number.startswith("0098"):
        return "0" + number[4:]
    if number.startswith("98") and len(number) == local_length + 2:
        return "0" + number[2:]
    return number


def normalize_mobile(text) -> str | None:
    """Return an Iranian mobile number as ``09xxxxxxxxx``, or ``None``.

    Accepts ``09121234567``, ``9121234567``, ``+989121234567``,
    ``00989121234567``, ``989121234567``, with Persian/Arabic digits, spaces
    and dashes. Any other country code, or a wrong length, gives ``None``.
    """
    number = _strip_iran_prefix(digits_only(text), local_length=10)
    if len(number) == 10 and number.startswith("9"):
        number = "0" + number  # the trunk 0 is often omitted
    return number if _MOBILE_RE.fullmatch(number) else None


def normalize_phone(text) -> str | None:
    """Return a landline number with area code as 11 digits, e.g. ``02188776655``.

    Accepts Persian/Arabic digits, separators and a +98 / 0098 prefix. Empty
    input gives ``''`` (the field is optional); an invalid number gives
    ``None``. Mobile numbers (09...) are rejected: use ``normalize_mobile``.
    """
    number = digits_only(text)
    if not number:
        return ""
    number = _strip_iran_prefix(number, local_length=10)
    return number if _LANDLINE_RE.fullmatch(number) else None


def normalize_postal_code(text) -> str | None:
    """Return a 10-digit Iranian postal code (کد پستی) or ``None``.

    Accepts Persian/Arabic digits, spaces and dashes. Deliberately simple:
    exactly 10 digits, not starting with 0 and not all the same digit. (The
    official scheme is stricter, e.g. no 0 or 2 in the first five digits, but
    we avoid rejecting real codes on a rule we cannot verify.)
    """
    code = digits_only(text)
    if not _POSTAL_RE.fullmatch(code) or len(set(code)) == 1:
        return None
    return code


# --- Jalali dates -----------------------------------------------------------


def _clean_date_text(text) -> str:
    """ASCII digits, without surrounding spaces or invisible ZWNJ/bidi marks.

    Unlike ``digits_only`` this keeps '/' and '-', which are the date's
    field separators.
    """
    text = _INVISIBLE_MARKS.sub("", to_ascii_digits(text))
    return text.strip()


def parse_jalali_date(text) -> datetime.date | None:
    """Parse a Jalali ``YYYY/MM/DD`` or ``YYYY-MM-DD`` into a Gregorian date.

    Persian/Arabic digits and 1- or 2-digit month/day are accepted. Returns
    ``None`` for anything that is not a real Jalali date (e.g. 1402/12/30,
    since 1402 is not a leap year) or whose year is outside 1200..1500.
    """
    if text is None:
        return None
    match = _JALALI_DATE_RE.fullmatch(_clean_date_text(text))
    if not match:
        return None
    year, month, day = int(match[1]), int(match[3]), int(match[4])
    if not _MIN_JALALI_YEAR <= year <= _MAX_JALALI_YEAR:
        return None
    try:
        return jdatetime.date(year, month, day).togregorian()
    except ValueError:
        return None


def _to_jalali(d) -> jdatetime.date:
    """Jalali date of a ``date``, ``datetime`` (its date part) or Jalali date."""
    if isinstance(d, jdatetime.datetime):
        return d.date()
    if isinstance(d, jdatetime.date):
        return d
    if isinstance(d, datetime.datetime):
        d = d.date()
    return jdatetime.date.fromgregorian(date=d)


def _maybe_persian(text: str, persian_digits: bool) -> str:
    return to_persian_digits(text) if persian_digits else text


def format_jalali_date(d, persian_digits=False) -> str:
    """Format a date/datetime as Jalali ``YYYY/MM/DD``; ``None`` gives ``''``.

    A ``datetime`` contributes only its date part, so convert it to Tehran
    time first (``to_tehran``) if it is in UTC.
    """
    if d is None:
        return ""
    j = _to_jalali(d)
    return _maybe_persian(f"{j.year:04d}/{j.month:02d}/{j.day:02d}", persian_digits)


def format_jalali_datetime(dt, persian_digits=False) -> str:
    """Format a datetime as Jalali ``YYYY/MM/DD HH:MM``; ``None`` gives ``''``.

    ``dt`` is formatted as-is, in whatever zone it carries: callers holding
    naive UTC timestamps must convert with ``to_tehran(dt)`` first. A plain
    ``date`` is formatted like ``format_jalali_date``.
    """
    if dt is None:
        return ""
    if not isinstance(dt, datetime.datetime):
        return format_jalali_date(dt, persian_digits)
    text = f"{format_jalali_date(dt)} {dt.hour:02d}:{dt.minute:02d}"
    return _maybe_persian(text, persian_digits)


def to_tehran(dt) -> datetime.datetime | None:
    """Convert a naive-UTC (or aware) datetime to an aware Asia/Tehran one.

    The database stores naive UTC; zoneinfo knows Iran's historical offsets,
    including the DST that Iran abolished in 2022. ``None`` gives ``None``.
    """
    if dt is None:
        return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=datetime.UTC)
    return dt.astimezone(TEHRAN)


def _tehran_today() -> datetime.date:
    # The server clock is usually UTC; between 00:00 and ~03:30 Tehran time
    # the UTC date is still "yesterday", so ask for Tehran's date explicitly.
    return datetime.datetime.now(TEHRAN).date()


def _as_gregorian(d) -> datetime.date:
    """Gregorian ``date`` from a date, datetime or Jalali date."""
    if isinstance(d, (jdatetime.date, jdatetime.datetime)):
        d = d.togregorian()
    if isinstance(d, datetime.datetime):
        return d.date()
    return d


def age_on(birth_date, on_date=None) -> int:
    """Age in full years on ``on_date`` (default: today in Tehran).

    Gregorian arithmetic: the year counts on the birthday itself; someone born
    on 29 February turns a year older on 1 March in non-leap years. Accepts
    date, datetime or Jalali dates. Negative if ``on_date`` precedes birth.
    """
    born = _as_gregorian(birth_date)
    on = _as_gregorian(on_date) if on_date is not None else _tehran_today()
    before_birthday = (on.month, on.day) < (born.month, born.day)
    return on.year - born.year - before_birthday
