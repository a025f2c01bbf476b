"""What a migrated officer still has to do at the first login: change a weak password,
then fill in what the old record lacked, then confirm what came over (issue 18).

The legacy import keeps rows that today's forms would refuse (a short address, no postal
code, no degree, a city the reference data does not know...) and flags the officer
``profile_incomplete``. :func:`first_login_step` tells the officer's site where to send
the officer until it is done; :func:`missing_profile_fields` lists the fields whose value
today's cleaners refuse, and :func:`complete_profile` fills them (the same field names and
cleaners as the registration form). No Flask here.
"""

from __future__ import annotations

from .accounts import Officer, password_problem
from .audit import audit
from .base import DomainError, db
from .officer_rules import CLEANERS, FIELDS_BY_NAME, LOCKED, REGISTRATION_FIELDS, clean_city, clean_fields

# The fields an officer fills in at completion: every registration field the officer can
# set (not the national code or the birth date) that is not optional.
COMPLETION_FIELDS = tuple(
    name for name in REGISTRATION_FIELDS if FIELDS_BY_NAME[name].policy != LOCKED and not FIELDS_BY_NAME[name].optional
)
PASSWORD, PROFILE, DISTRICT, CONFIRM = "password", "profile", "district", "confirm"


def needs_completion(field: str | None, code: str) -> bool:
    """Whether an import warning about ``field`` leaves something for the officer to fill in.
    A field or degree that the rules no longer accept is the officer's real one: it stays,
    and the qualification review decides."""
    return field in COMPLETION_FIELDS and not code.startswith("ineligible_")


def _stored(officer, name):
    spec = FIELDS_BY_NAME[name]
    if spec.reference is not None:
        value = getattr(officer, f"{name}_id")
        return "" if value is None else str(value)
    return getattr(officer, name) or ""


def missing_profile_fields(officer) -> list[str]:
    """The completion fields whose stored value today's cleaners refuse (in form order)."""
    missing = []
    for name in COMPLETION_FIELDS:
        value = _stored(officer, name)
        try:
            if name == "city":
                clean_city(value, officer.province if officer.province_id else None)
            else:
                CLEANERS[name](value)
        except DomainError as error:
            if not (error.code or "").startswith("ineligible_"):
                missing.append(name)
    if "city" not in missing and "province" in missing:
        missing.insert(missing.index("province") + 1, "city")  # a new province needs its city
    return missing


def first_login_step(officer) -> str | None:
    """What the officer must do before anything else: PASSWORD, PROFILE, DISTRICT (an
    officer of a split city who has not told it), CONFIRM (a migrated officer who has not
    confirmed what came over, :mod:`models.legacy_claim`), or None."""
    if officer.must_change_password:
        return PASSWORD
    if officer.profile_incomplete:
        return PROFILE
    if officer.needs_district():
        return DISTRICT
    if officer.legacy and officer.legacy_confirmed_at is None:
        return CONFIRM
    return None


def note_login_password(officer, password: str) -> None:
    """At a successful login: a migrated officer whose password today's rules refuse (the
    old system took ``123``) must change it before anything else."""
    if officer.legacy and not officer.must_change_password and password_problem(password or ""):
        Officer.update(must_change_password=True).where(Officer.id == officer.id).execute()
        officer.must_change_password = True


def password_changed(account) -> None:
    """A new password (changed or reset) passed today's rules: the forced change is done."""
    if isinstance(account, Officer) and account.must_change_password:
        Officer.update(must_change_password=False).where(Officer.id == account.id).execute()
        account.must_change_password = False


def complete_profile(officer, data: dict, actor) -> list[str]:
    """Fill in the missing fields with the registration form's cleaners; return the names
    set. Every missing field is required; the flag is cleared once nothing is missing."""
    missing = missing_profile_fields(officer)
    fields = list(missing)
    if "city" in fields and "province" not in fields:
        data = dict(data, province=str(officer.province_id or ""))
        fields.append("province")
    clean = clean_fields(data, fields)
    update = {getattr(Officer, name): clean[name] for name in missing}
    if "city" in missing and officer.qualified_at is not None and officer.university_id is None:
        update[Officer.university] = clean["city"].university_id
    with db.atomic():
        if update:
            Officer.update(update).where(Officer.id == officer.id).execute()
        for name in missing:
            setattr(officer, name, clean[name])
        if "city" in missing and Officer.university in update:
            officer.university = clean["city"].university
        Officer.update(profile_incomplete=False).where(Officer.id == officer.id).execute()
        officer.profile_incomplete = False
        audit(actor, "profile_completed", officer, detail=", ".join(missing))
    return missing
