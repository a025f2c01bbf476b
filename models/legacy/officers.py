"""The officers phase: ``officers.csv`` through the registration form's cleaners.

Contract: an officer keeps its legacy user code and password; it is already present
when an officer with the same national code *and* user code exists; a qualified row
is imported qualified (number ``L-<user code>``, the university of its city, or of its
district in a split city: the optional ``district`` column). The
phase publishes, by national code, whether each accepted officer is qualified, and the
national codes it refused, for the contracts phase.
"""

from __future__ import annotations

import re

from persian import normalize_national_code, normalize_text, to_ascii_digits

from ..accounts import Officer
from ..base import N_
from ..officer_rules import REGISTRATION_FIELDS
from .cleaning import clean_row, resolve_places
from .files import COLUMNS, OFFICERS, plain_key
from .passwords import password_job
from .phase import Candidate, Checked, Phase, Refusal, insert_rows, select_in
from .report import Problem

_USER_CODE_RE = re.compile(r"[0-9A-Za-z._-]{1,12}")
_GENDERS = {"male": "male", "female": "female", "m": "male", "f": "female", "مرد": "male", "زن": "female"}
# The report lists a row's problems in the order of the file's columns.
_COLUMN_ORDER = {name: i for i, name in enumerate(COLUMNS[OFFICERS])}


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
        resolve_places(row, self.context.ref, data, fields, problems)
        cleaned = clean_row(self.context.ref, data, fields, problems)
        qualified = to_ascii_digits(row["qualified"]).strip()
        if qualified not in ("0", "1", ""):
            problems.append(Problem("qualified", "invalid_qualified", N_("The qualified column must be 1 or 0."), {}))
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
        if problems:
            problems.sort(key=lambda p: _COLUMN_ORDER.get(p.field, len(_COLUMN_ORDER)))
            return Refusal(line, user_code or national_code, problems, national_code or None)
        return Candidate(
            line,
            user_code,
            self._values(user_code, cleaned, qualified == "1"),
            password,
            extra={"qualified": qualified == "1"},
            ref=national_code,
        )

    def _values(self, user_code: str, cleaned: dict, qualified: bool) -> dict:
        now, city = self.context.now, cleaned["city"].id
        return {
            "user_code": user_code,
            "national_code": cleaned["national_code"],
            "birth_date": cleaned["birth_date"],
            "first_name": cleaned["first_name"],
            "last_name": cleaned["last_name"],
            "father_name": cleaned["father_name"],
            "gender": cleaned["gender"],
            "id_card_number": cleaned["id_card_number"],
            "mobile": cleaned["mobile"],
            "phone": cleaned["phone"],
            "email": cleaned["email"],
            "address": cleaned["address"],
            "postal_code": cleaned["postal_code"],
            "province": cleaned["province"].id,
            "city": city,
            "district": cleaned.get("district"),
            "field_of_study": cleaned["field_of_study"].id,
            "degree_level": cleaned["degree_level"].id,
            "password_hash": "",
            "is_active": True,
            "university": self.context.ref.university_of(city, cleaned.get("district")) if qualified else None,
            "qualified_at": now if qualified else None,
            "qualification_number": f"L-{user_code}" if qualified else None,
            "created_at": now,
            "legacy": True,
        }

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
