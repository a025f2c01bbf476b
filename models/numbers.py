"""Numbers and tokens the public sees: qualification numbers and the unguessable tokens of
the certificate's QR code and a branch's public page.

Sequential numbers let anyone walk the register (finding L1): a qualification number is
``<Jalali year>-<8 random digits><check digit>``, so a mistyped digit is caught before any
lookup and the numbers in use cannot be listed by counting.
"""

from __future__ import annotations

import re
import secrets

import jdatetime

from .accounts import Officer
from .base import tehran_today

_NUMBER = re.compile(r"^(\d{4})-(\d{9})$")


def luhn_digit(digits: str) -> int:
    """The Luhn check digit of a string of ASCII digits (catches any one wrong digit and
    most swaps of two neighbours)."""
    total = 0
    for position, digit in enumerate(reversed(digits)):
        value = int(digit)
        if position % 2 == 0:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return (10 - total % 10) % 10


def is_well_formed_qualification_number(text: str) -> bool:
    """True if ``text`` has the shape of a qualification number and its check digit holds."""
    match = _NUMBER.match(text or "")
    if not match:
        return False
    year, body = match.groups()
    return luhn_digit(year + body[:-1]) == int(body[-1])


def issue_qualification_number(now=None) -> str:
    """A new qualification number, random and not yet given to anyone: every approval
    (whatever the door or the import) takes its number from here."""
    year = jdatetime.date.fromgregorian(date=tehran_today(now)).year
    while True:
        body = f"{secrets.randbelow(10**8):08d}"
        number = f"{year}-{body}{luhn_digit(f'{year}{body}')}"
        if not Officer.select().where(Officer.qualification_number == number).exists():
            return number


def new_public_token() -> str:
    """An unguessable token for a public link (22 URL-safe characters, 128 bits)."""
    return secrets.token_urlsafe(16)
