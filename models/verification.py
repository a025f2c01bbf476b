"""What the public may learn about a qualification, and nothing more."""

from __future__ import annotations

from dataclasses import dataclass

from peewee import JOIN

from persian import is_valid_national_code, normalize_national_code

from .accounts import Officer
from .cooperation import active_cooperation_of
from .reference import FieldOfStudy


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


def lookup(query: str) -> Verification:
    """A qualification number tells the holder's name, field and current branch; a
    national code answers only whether its holder is qualified."""
    if query.isdigit() and len(query) in (8, 9, 10) and is_valid_national_code(query):
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
