"""What the public may learn about a qualification, and nothing more."""

from __future__ import annotations

import re
from dataclasses import dataclass

from peewee import JOIN

from persian import is_valid_national_code, normalize_national_code

from . import ratelimit
from .accounts import Officer
from .base import N_, DomainError
from .cooperation import active_cooperation_of
from .numbers import is_well_formed_qualification_number
from .reference import FieldOfStudy

# Limits that hold whatever address asks (a scraper rotates addresses): how often one
# number or one national code may be asked about in an hour, and how many numbers that
# match nobody may be tried in an hour by everyone together. A QR scan of a real
# certificate carries its token and is never held back.
LOOKUPS_PER_QUERY_PER_HOUR = 20
MISSES_PER_HOUR = 2000
HOUR = 3600
_NEW_NUMBER = re.compile(r"^\d{4}-\d{9}$")
_ANY_NUMBER = re.compile(r"^(\d{4}|L)-\d+$")


class VerificationThrottled(DomainError):
    """Too many questions about one number or national code, or too many misses."""


THROTTLED = N_("Too many checks were made. Try again in an hour, or scan the certificate's QR code.")


@dataclass(frozen=True)
class Verification:
    kind: str  # "number" or "national_code"
    valid: bool
    name: str = ""
    field: str = ""
    qualified_on: object = None
    branch: str = ""
    distributor: str = ""
    branch_id: int | None = None


def lookup(query: str, token: str = "") -> Verification:
    """A qualification number tells the holder's name, field and current branch; a
    national code answers only whether its holder is qualified.

    Raises :class:`VerificationThrottled` past the limits above, unless ``token`` is the
    one the officer's certificate carries for this number."""
    if token and _certificate(query, token) is not None:
        return _answer(_certificate(query, token))
    is_national_code = query.isascii() and query.isdigit() and len(query) in (8, 9, 10)
    if is_national_code and not is_valid_national_code(query):
        return Verification(kind="national_code", valid=False)
    if not is_national_code and _NEW_NUMBER.match(query) and not is_well_formed_qualification_number(query):
        return Verification(kind="number", valid=False)  # a typo: no lookup needed
    if not is_national_code and ratelimit.current("verify:misses")[0] >= MISSES_PER_HOUR:
        raise VerificationThrottled(THROTTLED)
    if is_national_code or _ANY_NUMBER.match(query):
        # One person (a national code, a number) asked about again and again, from
        # however many addresses.
        key = normalize_national_code(query) if is_national_code else query
        if ratelimit.hit(f"verify:q:{key}"[:255], HOUR) > LOOKUPS_PER_QUERY_PER_HOUR:
            raise VerificationThrottled(THROTTLED)
    if is_national_code:
        officer = Officer.get_or_none(
            (Officer.national_code == normalize_national_code(query)) & (Officer.is_active == True)
        )  # noqa: E712
        return Verification(kind="national_code", valid=bool(officer and officer.qualification_in_force))
    officer = (
        Officer.select(Officer, FieldOfStudy)
        # A migrated officer may not have filled in the field yet: still verifiable.
        .join(FieldOfStudy, JOIN.LEFT_OUTER)
        .where((Officer.qualification_number == query) & (Officer.is_active == True))  # noqa: E712
        .first()
    )
    if officer is None:
        ratelimit.hit("verify:misses", HOUR)
    return _answer(officer)


def _certificate(number: str, token: str):
    return (
        Officer.select(Officer, FieldOfStudy)
        .join(FieldOfStudy)
        .where(
            (Officer.qualification_number == number)
            & (Officer.verification_token == token)
            & (Officer.is_active == True)  # noqa: E712
        )
        .first()
    )


def _answer(officer) -> Verification:
    if officer is None or not officer.qualification_in_force:
        return Verification(kind="number", valid=False)
    cooperation = active_cooperation_of(officer)
    return Verification(
        kind="number",
        valid=True,
        name=officer.full_name,
        field=officer.field_of_study.name if officer.field_of_study_id else "",
        qualified_on=officer.qualified_at,
        branch=cooperation.branch.name if cooperation else "",
        distributor=cooperation.distributor.name if cooperation else "",
        branch_id=cooperation.branch_id if cooperation else None,
    )
