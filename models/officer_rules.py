"""The officer's fields: how each is cleaned, and who may change it when.

One table (:data:`FIELD_POLICY`) decides, for every field, whether it is locked,
free (changed at once) or reviewed (changed through a request once the officer is
qualified); the registration form, the profile form, edit requests, the back
office and the legacy import all clean values through :func:`clean_field`.
"""
from __future__ import annotations

import re

from email_validator import EmailNotValidError, validate_email
from peewee import IntegrityError

from persian import (age_on, is_valid_national_code, normalize_mobile, normalize_national_code,
                     normalize_phone, normalize_postal_code, normalize_text, parse_jalali_date,
                     to_ascii_digits)

from .accounts import Officer, new_user_code, password_problem
from .audit import audit
from .base import DomainError, N_, db, tehran_today, translate
from .notices import queue_sms
from .reference import City, DegreeLevel, FieldOfStudy, Province

LOCKED, FREE, REVIEWED = "locked", "free", "reviewed"

FIELD_POLICY = {
    "national_code": LOCKED,
    "birth_date": LOCKED,
    "mobile": FREE,
    "phone": FREE,
    "email": FREE,
    "address": FREE,
    "postal_code": FREE,
    "father_name": FREE,
    "gender": FREE,
    "id_card_number": FREE,
    "first_name": REVIEWED,
    "last_name": REVIEWED,
    "field_of_study": REVIEWED,
    "degree_level": REVIEWED,
    "province": REVIEWED,
    "city": REVIEWED,
}
FREE_FIELDS = tuple(f for f, p in FIELD_POLICY.items() if p == FREE)
REVIEWED_FIELDS = tuple(f for f, p in FIELD_POLICY.items() if p == REVIEWED)
OPTIONAL_FIELDS = ("phone", "email")

_NAME_RE = re.compile(r"^[\w\u200c\s'.\-]+$")


class ValidationFailed(DomainError):
    """Several fields were refused; ``errors`` maps a field to (msgid, params)."""

    def __init__(self, errors: dict):
        super().__init__(N_("Please correct the errors below."))
        self.errors = errors


def _name(value, minimum=2, maximum=60):
    value = normalize_text(value)
    if not value:
        raise DomainError(N_("This field is required."))
    if len(value) < minimum or len(value) > maximum or not _NAME_RE.match(value) or re.search(r"\d|_", value):
        raise DomainError(N_("Enter a name of %(min)s to %(max)s letters."), min=minimum, max=maximum)
    return value


def _national_code(value):
    code = normalize_national_code(value)
    if not code:
        raise DomainError(N_("This field is required."))
    if not is_valid_national_code(code):
        raise DomainError(N_("This national code is not valid; check its ten digits."))
    return code


def is_adult(birth_date, today, minimum_age: int = 18) -> bool:
    return age_on(birth_date, today) >= minimum_age


def _birth_date(value, today=None):
    if not normalize_text(value):
        raise DomainError(N_("This field is required."))
    date = parse_jalali_date(value)
    if date is None:
        raise DomainError(N_("Enter a real Jalali date like 1370/05/21."))
    today = today or tehran_today()
    if date > today:
        raise DomainError(N_("The birth date cannot be in the future."))
    if not is_adult(date, today):
        raise DomainError(N_("A technical officer must be at least 18 years old."))
    if today.year - date.year > 100:
        raise DomainError(N_("Enter a real Jalali date like 1370/05/21."))
    return date


def _mobile(value):
    if not normalize_text(value):
        raise DomainError(N_("This field is required."))
    mobile = normalize_mobile(value)
    if not mobile:
        raise DomainError(N_("Enter a mobile number like 09121234567."))
    return mobile


def _phone(value):
    if not normalize_text(value):
        return ""
    phone = normalize_phone(value)
    if not phone:
        raise DomainError(N_("Enter a landline number with its area code, like 02188776655."))
    return phone


def _email(value):
    value = normalize_text(value)
    if not value:
        return ""
    try:
        return validate_email(value, check_deliverability=False).normalized
    except EmailNotValidError:
        raise DomainError(N_("Enter a valid e-mail address.")) from None


def _address(value):
    value = normalize_text(value)
    if not value:
        raise DomainError(N_("This field is required."))
    if len(value) < 10 or len(value) > 500:
        raise DomainError(N_("Enter the full postal address (10 to 500 characters)."))
    return value


def _postal_code(value):
    if not normalize_text(value):
        raise DomainError(N_("This field is required."))
    code = normalize_postal_code(value)
    if not code:
        raise DomainError(N_("The postal code has 10 digits."))
    return code


def _gender(value):
    if value not in ("male", "female"):
        raise DomainError(N_("Choose the gender."))
    return value


def _id_card_number(value):
    value = to_ascii_digits(normalize_text(value)).replace(" ", "")
    if not value:
        raise DomainError(N_("This field is required."))
    if not value.isdigit() or len(value) > 10:
        raise DomainError(N_("The ID booklet number is at most 10 digits."))
    return value


def _reference(model, value, message):
    try:
        row = model.get_or_none(model.id == int(to_ascii_digits(str(value))))
    except (TypeError, ValueError):
        row = None
    if row is None:
        raise DomainError(message)
    return row


def _field_of_study(value):
    field = _reference(FieldOfStudy, value, N_("Choose your field of study."))
    if not field.eligible:
        raise DomainError(N_("The field of study %(name)s is not accepted for technical officers under the current rules."),
                          name=field.name)
    return field


def _degree_level(value):
    degree = _reference(DegreeLevel, value, N_("Choose your degree level."))
    if not degree.eligible:
        raise DomainError(N_("The degree level %(name)s is not accepted for technical officers under the current rules."),
                          name=degree.name)
    return degree


CLEANERS = {
    "national_code": _national_code,
    "birth_date": _birth_date,
    "first_name": _name,
    "last_name": lambda v: _name(v, maximum=80),
    "father_name": _name,
    "gender": _gender,
    "id_card_number": _id_card_number,
    "mobile": _mobile,
    "phone": _phone,
    "email": _email,
    "address": _address,
    "postal_code": _postal_code,
    "province": lambda v: _reference(Province, v, N_("Choose your province.")),
    "field_of_study": _field_of_study,
    "degree_level": _degree_level,
}


def clean_fields(data: dict, fields) -> dict:
    """Clean the named fields; raise ValidationFailed listing every bad one."""
    clean, errors = {}, {}
    for name in fields:
        if name == "city":
            continue
        try:
            clean[name] = CLEANERS[name](data.get(name, ""))
        except DomainError as error:
            errors[name] = (error.msgid, error.params)
    if "city" in fields:
        try:
            clean["city"] = clean_city(data.get("city"), clean.get("province"))
        except DomainError as error:
            errors["city"] = (error.msgid, error.params)
    if errors:
        raise ValidationFailed(errors)
    return clean


def clean_city(value, province):
    city = _reference(City, value, N_("Choose your city."))
    if province is not None and city.province_id != province.id:
        raise DomainError(N_("The city %(city)s is not in the province %(province)s."),
                          city=city.name, province=province.name)
    return city


REGISTRATION_FIELDS = ("national_code", "birth_date", "first_name", "last_name", "father_name",
                       "gender", "id_card_number", "mobile", "phone", "email", "address",
                       "postal_code", "province", "city", "field_of_study", "degree_level")


def register_officer(data: dict, actor=None) -> Officer:
    """Register an officer from the public form; issue a user code and queue its SMS."""
    errors = {}
    try:
        clean = clean_fields(data, REGISTRATION_FIELDS)
    except ValidationFailed as failed:
        errors, clean = dict(failed.errors), {}
    password = data.get("password") or ""
    problem = password_problem(password)
    if problem:
        errors["password"] = (problem, {})
    elif password != (data.get("password_confirm") or ""):
        errors["password_confirm"] = (N_("The two passwords are not the same."), {})
    code = clean.get("national_code")
    if code and Officer.select().where(Officer.national_code == code).exists():
        errors["national_code"] = (N_("An officer is already registered with this national code. Log in, or recover your password."), {})
    if errors:
        raise ValidationFailed(errors)
    officer = Officer(**clean)
    officer.set_password(password)
    for _attempt in range(20):
        officer.user_code = new_user_code()
        try:
            with db.atomic():
                officer.save()
                queue_sms(officer.mobile, translate(
                    N_("Your registration as a technical officer is complete. Your user code: %(code)s"),
                    code=officer.user_code))
                audit(actor or officer.as_actor(), "officer_registered", officer)
            return officer
        except IntegrityError:
            officer.id = None
            if Officer.select().where(Officer.national_code == code).exists():
                raise ValidationFailed({"national_code": (
                    N_("An officer is already registered with this national code. Log in, or recover your password."), {})}) from None
    raise RuntimeError("could not issue a unique user code")


def directly_editable_fields(officer) -> tuple:
    """Free fields always; the reviewed ones too until the first approval."""
    return FREE_FIELDS + (REVIEWED_FIELDS if officer.can_edit_reviewed_fields_directly() else ())


def update_profile(officer, data: dict, actor) -> list[str]:
    """Change what the officer may change at once; return the names that changed.

    Anything else in ``data`` (national code, birth date, a reviewed field after
    approval, status...) is ignored."""
    allowed = directly_editable_fields(officer)
    present = [f for f in allowed if f in data]
    if "city" in present and "province" not in present:
        data, present = dict(data, province=str(officer.province_id)), present + ["province"]
    clean = clean_fields(data, present)
    changed = [f for f, v in clean.items() if getattr(officer, f) != v]
    if not changed:
        return []
    detail = "; ".join(f"{f}: {getattr(officer, f)} → {clean[f]}" for f in changed)
    with db.atomic():
        update = {getattr(Officer, f): clean[f] for f in changed}
        if "city" in changed and officer.university_id is not None:
            update[Officer.university] = clean["city"].university_id
        Officer.update(update).where(Officer.id == officer.id).execute()
        for f in changed:
            setattr(officer, f, clean[f])
        audit(actor, "profile_changed", officer, detail=detail)
    return changed


def update_place_before_qualification(officer, data: dict, actor):
    """Before the first approval, the officer corrects province and city directly."""
    if not officer.can_edit_reviewed_fields_directly():
        raise DomainError(N_("After qualification, the province and city change only through an edit request."))
    clean_fields(data, ("province", "city"))  # both are required here
    update_profile(officer, {"province": data.get("province"), "city": data.get("city")}, actor)
    return officer
