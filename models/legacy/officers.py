"""The officers phase: ``officers.csv`` through the registration form's cleaners.

Contract: a row is refused only for what makes the person or the account unknowable
(national code, user code, password, a birth date that cannot be read); anything else
today's form would refuse is imported as it is, reported as a warning, and flags the
officer ``profile_incomplete`` when a field must be filled in at the first login. An
officer keeps its legacy user code and password; it is already present when an officer
with the same national code *and* user code exists; a qualified row is imported
qualified (``qualification_number`` and ``qualified_at`` from the file when it has them,
else ``L-<user code>`` and the import's time; the university of its city, or of its
district in a split city: the optional ``district`` column). The phase
publishes, by national code, whether each accepted officer is qualified, and the
national codes it refused, for the contracts phase.
"""

from __future__ import annotations

import re

from persian import normalize_national_code, normalize_text, parse_jalali_date, to_ascii_digits

from ..accounts import Officer
from ..base import N_
from ..officer_rules import REGISTRATION_FIELDS
from ..profile_completion import needs_completion
from .cleaning import ERROR, WARNING, clean_row, resolve_places
from .files import COLUMNS, OFFICERS, plain_key
from .passwords import password_job
from .phase import Candidate, Checked, Phase, Refusal, insert_rows, select_in, tehran_midnight_utc
from .report import Problem

_USER_CODE_RE = re.compile(r"[0-9A-Za-z._-]{1,12}")
_GENDERS = {"male": "male", "female": "female", "m": "male", "f": "female", "مرد": "male", "زن": "female"}
# The report lists a row's problems in the order of the file's columns.
_COLUMN_ORDER = {name: i for i, name in enumerate(COLUMNS[OFFICERS])}


# What makes a person or an account unknowable: a row with a problem here is refused.
# Everything else is imported as it is, reported as a warning, and completed by the
# officer at the first login (models.profile_completion).
IDENTITY_FIELDS = ("user_code", "national_code", "password_format", "password", "password_salt")
# A birth date that cannot be read cannot be stored (nor checked with the civil registry);
# one that today's form refuses for the officer's age is kept, with a warning.
_UNREADABLE_BIRTH_DATE = ("missing_birth_date", "invalid_birth_date")
# The value stored when today's cleaner refuses the old one: the old text as it is (within
# the column's length), except where a wrong value would be used (an SMS to a landline).
_MAX_LENGTH = {"first_name": 60, "last_name": 80, "father_name": 60, "id_card_number": 20, "postal_code": 10}
_NOT_KEPT = ("gender", "mobile", "phone", "email", "province", "city", "field_of_study", "degree_level")


def _as_it_is(name: str, raw) -> str | None:
    if name in _NOT_KEPT:
        return None if name in ("province", "city", "field_of_study", "degree_level") else ""
    value = normalize_text(raw)
    if name in ("id_card_number", "postal_code"):
        value = to_ascii_digits(value).replace(" ", "")
    return value[: _MAX_LENGTH[name]] if name in _MAX_LENGTH else value


def _warning(problem: Problem) -> Problem:
    return problem._replace(severity=WARNING)


class OfficerPhase(Phase):
    file = OFFICERS
    hashes = True

    def validate(self, line, row):
        problems = []
        user_code = plain_key(row["user_code"])
        national_code = normalize_national_code(row["national_code"])
        if not _USER_CODE_RE.fullmatch(user_code):
            problems.append(
                Problem(
                    "user_code",
                    "invalid_user_code",
                    N_("The user code is missing or not valid (at most 12 letters or digits)."),
                    {},
                )
            )
        data = {name: row.get(name, "") for name in REGISTRATION_FIELDS}
        gender = normalize_text(row["gender"]).lower()
        data["gender"] = _GENDERS.get(gender, gender)
        fields = list(REGISTRATION_FIELDS)
        resolve_places(row, self.context.ref, data, fields, problems, severity=WARNING)
        cleaned = clean_row(self.context.ref, data, fields, problems)
        problems = [self._severity(p) for p in problems]
        birth_date = cleaned.get("birth_date") or parse_jalali_date(row["birth_date"])
        qualified = to_ascii_digits(row["qualified"]).strip()
        if qualified not in ("0", "1", ""):
            problems.append(
                Problem(
                    "qualified",
                    "invalid_qualified",
                    N_("The qualified column must be 1 or 0; the officer was imported as not qualified."),
                    {},
                    WARNING,
                )
            )
        password = password_job(row, problems)
        for kind, key, msgid in (
            (
                "national_code",
                national_code,
                N_("Several rows have this national code (lines %(lines)s); none of them was imported."),
            ),
            (
                "user_code",
                user_code,
                N_("Several rows have this user code (lines %(lines)s); none of them was imported."),
            ),
        ):
            dup = self.duplicate_problem(kind, key, msgid)
            if dup:
                problems.append(dup)
        problems.sort(key=lambda p: _COLUMN_ORDER.get(p.field, len(_COLUMN_ORDER)))
        province = self._province_name(cleaned, row)
        errors = [p for p in problems if p.severity == ERROR]
        if errors:
            return Refusal(line, user_code or national_code, errors, national_code or None, province)
        warnings = [p for p in problems if p.severity == WARNING]
        for problem in warnings:
            if problem.code.startswith("ineligible_"):
                # The officer's real field or degree, which the rules no longer accept: kept.
                cleaned[problem.field] = int(data[problem.field])
        values = self._values(user_code, cleaned, row, birth_date, qualified == "1", warnings)
        return Candidate(
            line,
            user_code,
            values,
            password,
            extra={"qualified": qualified == "1"},
            ref=national_code,
            warnings=warnings,
            province=province,
        )

    @staticmethod
    def _severity(problem: Problem) -> Problem:
        """Refuse only what makes the person or the account unknowable."""
        if problem.field in IDENTITY_FIELDS or problem.code in _UNREADABLE_BIRTH_DATE:
            return problem._replace(severity=ERROR)
        return _warning(problem)

    def _province_name(self, cleaned: dict, row: dict) -> str:
        if cleaned.get("province") is not None:
            return cleaned["province"].name
        return normalize_text(row.get("province")) or "-"

    def _values(self, user_code: str, cleaned: dict, row: dict, birth_date, qualified: bool, warnings) -> dict:
        now = self.context.now
        values = {
            name: cleaned[name] if name in cleaned else _as_it_is(name, row.get(name, ""))
            for name in REGISTRATION_FIELDS
            if name not in ("national_code", "birth_date")
        }
        for name in ("province", "city", "field_of_study", "degree_level"):
            if values[name] is not None and not isinstance(values[name], int):
                values[name] = values[name].id
        # A district the cleaner refused is not kept as typed: the officer is asked at login.
        values["district"] = cleaned.get("district")
        city = values["city"]
        number, qualified_at = self._qualification(user_code, row, warnings) if qualified else (None, None)
        values.update(
            user_code=user_code,
            national_code=cleaned["national_code"],
            birth_date=birth_date,
            password_hash="",
            is_active=True,
            university=self.context.ref.university_of(city, values["district"]) if qualified and city else None,
            qualified_at=qualified_at,
            qualification_number=number,
            created_at=now,
            legacy=True,
            profile_incomplete=any(needs_completion(p.field, p.code) for p in warnings),
        )
        return values

    def _qualification(self, user_code: str, row: dict, warnings: list) -> tuple:
        """The legacy qualification's number and date when the file has them, else
        ``L-<user code>`` and the import's time."""
        number = plain_key(row.get("qualification_number", ""))
        if len(number) > 20:
            warnings.append(
                Problem(
                    "qualification_number",
                    "invalid_qualification_number",
                    N_("The qualification number is longer than 20 characters; L-<user code> was used."),
                    {},
                    WARNING,
                )
            )
            number = ""
        at = None
        raw_date = normalize_text(row.get("qualified_at", ""))
        if raw_date:
            day = parse_jalali_date(raw_date)
            if day is None or day > self.context.today:
                warnings.append(
                    Problem(
                        "qualified_at",
                        "invalid_qualified_at",
                        N_("The qualification date is not a real past Jalali date; the import's date was used."),
                        {},
                        WARNING,
                    )
                )
            else:
                at = tehran_midnight_utc(day)
        return number or f"L-{user_code}", at or self.context.now

    def precheck(self, batch):
        existing = select_in(
            Officer,
            (Officer.national_code, Officer.user_code, Officer.qualified_at),
            [(Officer.national_code, [c.ref for c in batch]), (Officer.user_code, [c.key for c in batch])],
        )
        by_code = {o.national_code: o for o in existing}
        by_user_code = {o.user_code: o for o in existing}
        checked = Checked()
        for c in batch:
            found = by_code.get(c.ref)
            if found is not None and found.user_code == c.key:
                # What the contracts phase must know is the database's answer, not the file's.
                c.extra["qualified"] = found.qualified_at is not None
                checked.present.append(c)
            elif found is not None:
                checked.refused.append(
                    self.refusal(
                        c,
                        Problem(
                            None,
                            "national_code_exists",
                            N_("An officer with this national code is already registered under another user code."),
                            {},
                        ),
                    )
                )
            elif c.key in by_user_code:
                checked.refused.append(
                    self.refusal(
                        c,
                        Problem(None, "user_code_taken", N_("This user code already belongs to another officer."), {}),
                    )
                )
            else:
                checked.new.append(c)
        return checked

    def published(self, candidate):
        """Whether the officer is qualified: only a qualified officer can hold a contract."""
        return candidate.extra["qualified"]

    def insert(self, batch):
        insert_rows(Officer, [c.values for c in batch])
        wanted = {c.ref: c.key for c in batch}
        return {
            o.user_code
            for o in select_in(
                Officer, (Officer.national_code, Officer.user_code), [(Officer.national_code, list(wanted))]
            )
            if wanted.get(o.national_code) == o.user_code
        }
