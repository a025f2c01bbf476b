"""The officer's fields: how each is cleaned, who may change it when, and how it is shown.

One table (:data:`OFFICER_FIELDS`, a :class:`FieldSpec` per field, in the order of the
registration form) decides, for every field, whether it is locked, free (changed at once)
or reviewed (changed through a request once the officer is qualified), how its value is
cleaned, and its label. The registration form, the profile form, edit requests, the back
office and the legacy import all clean values through :func:`clean_fields`; the web
layer takes the labels and the profile and review pages their rows from the same table.
Adding a field: a column on ``Officer``, its migration, a line here (and a cleaner), the
form field and its place on the registration page.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from email_validator import EmailNotValidError, validate_email
from peewee import IntegrityError

from persian import (
    age_on,
    is_valid_national_code,
    normalize_mobile,
    normalize_national_code,
    normalize_phone,
    normalize_postal_code,
    normalize_text,
    parse_jalali_date,
    to_ascii_digits,
)

from .accounts import Officer, new_user_code, password_problem
from .audit import audit
from .base import N_, DomainError, db, tehran_today
from .notices import queue_sms
from .reference import (
    City,
    DegreeLevel,
    FieldDegree,
    FieldOfStudy,
    Province,
    check_study,
    clean_district,
    route_id,
)
from .vocabulary import State

LOCKED, FREE, REVIEWED = "locked", "free", "reviewed"
# What kind of value a field holds: text; a code (digits, or an address in Latin letters:
# written left to right); a date (shown in the Jalali calendar); one of fixed choices; or a
# row of a reference table (shown by its name).
TEXT, CODE, DATE, CHOICE, REFERENCE = "text", "code", "date", "choice", "reference"

GENDERS = (("male", N_("Male")), ("female", N_("Female")))


@dataclass(frozen=True)
class FieldSpec:
    """One field of an officer's record."""

    name: str
    policy: str  # LOCKED, FREE or REVIEWED
    label: str  # a message id: whoever shows the label translates it
    clean: Callable | None  # value -> clean value, or DomainError (None: the city and the district, cleaned
    # with the province and the city)
    kind: str = TEXT
    choices: tuple = ()  # (value, label message id) of a CHOICE field
    reference: type | None = None  # the reference table a REFERENCE field names a row of
    optional: bool = False
    # What to say when the field is left empty (GOV.UK: a message that names the field and
    # says what to do), in place of a cleaner's generic "required".
    missing: str | None = None


_NAME_RE = re.compile(r"^[\w\u200c\s'.\-]+$")


class ValidationFailed(DomainError):
    """Several fields were refused; ``errors`` maps a field to (msgid, params) and
    ``codes`` a field to its cleaner's machine code (when the raise site gave one)."""

    def __init__(self, errors: dict, codes: dict | None = None):
        super().__init__(N_("Please correct the errors below."), code="invalid_fields")
        self.errors = errors
        self.codes = codes or {}


def _name(value, minimum=2, maximum=60):
    value = normalize_text(value)
    if not value:
        raise DomainError(N_("This field is required."), code="required")
    if len(value) < minimum or len(value) > maximum or not _NAME_RE.match(value) or re.search(r"\d|_", value):
        raise DomainError(N_("Enter a name of %(min)s to %(max)s letters."), code="invalid", min=minimum, max=maximum)
    return value


def _national_code(value):
    code = normalize_national_code(value)
    if not code:
        raise DomainError(N_("This field is required."), code="required")
    if not is_valid_national_code(code):
        raise DomainError(N_("This national code is not valid; check its ten digits."), code="invalid")
    return code


def is_adult(birth_date, today, minimum_age: int = 18) -> bool:
    return age_on(birth_date, today) >= minimum_age


def _birth_date(value, today=None):
    if not normalize_text(value):
        raise DomainError(N_("This field is required."), code="required")
    date = parse_jalali_date(value)
    if date is None:
        raise DomainError(N_("Enter a real Jalali date like 1370/05/21."), code="invalid")
    today = today or tehran_today()
    if date > today:
        raise DomainError(N_("The birth date cannot be in the future."), code="birth_date_in_future")
    if not is_adult(date, today):
        raise DomainError(N_("A technical officer must be at least 18 years old."), code="under_age")
    if today.year - date.year > 100:
        raise DomainError(N_("Enter a real Jalali date like 1370/05/21."), code="invalid")
    return date


def _mobile(value):
    if not normalize_text(value):
        raise DomainError(N_("This field is required."), code="required")
    mobile = normalize_mobile(value)
    if not mobile:
        raise DomainError(N_("Enter a mobile number like 09121234567."), code="invalid")
    return mobile


def _phone(value):
    if not normalize_text(value):
        return ""
    phone = normalize_phone(value)
    if not phone:
        raise DomainError(N_("Enter a landline number with its area code, like 02188776655."), code="invalid")
    return phone


def _email(value):
    value = normalize_text(value)
    if not value:
        return ""
    try:
        return validate_email(value, check_deliverability=False).normalized
    except EmailNotValidError:
        raise DomainError(N_("Enter a valid e-mail address."), code="invalid") from None


def _address(value):
    value = normalize_text(value)
    if not value:
        raise DomainError(N_("This field is required."), code="required")
    if len(value) < 10 or len(value) > 500:
        raise DomainError(N_("Enter the full postal address (10 to 500 characters)."), code="invalid")
    return value


def _postal_code(value):
    if not normalize_text(value):
        raise DomainError(N_("This field is required."), code="required")
    code = normalize_postal_code(value)
    if not code:
        raise DomainError(N_("The postal code has 10 digits."), code="invalid")
    return code


def _gender(value):
    if value not in dict(GENDERS):
        raise DomainError(N_("Choose the gender."), code="invalid")
    return value


def _id_card_number(value):
    value = to_ascii_digits(normalize_text(value)).replace(" ", "")
    if not value:
        raise DomainError(N_("This field is required."), code="required")
    if not value.isdigit() or len(value) > 10:
        raise DomainError(N_("The ID booklet number is at most 10 digits."), code="invalid")
    return value


def _reference(model, value, message):
    try:
        row = model.get_or_none(model.id == int(to_ascii_digits(str(value))))
    except (TypeError, ValueError):
        row = None
    if row is None:
        raise DomainError(message, code="invalid")
    return row


def _field_of_study(value):
    field = _reference(FieldOfStudy, value, N_("Choose your field of study."))
    if not field.eligible:
        raise DomainError(
            N_("The field of study %(name)s is not accepted for technical officers under the current rules."),
            code="ineligible_field_of_study",
            name=field.name,
        )
    return field


def _degree_level(value):
    degree = _reference(DegreeLevel, value, N_("Choose your degree level."))
    if not degree.eligible:
        raise DomainError(
            N_("The degree level %(name)s is not accepted for technical officers under the current rules."),
            code="ineligible_degree_level",
            name=degree.name,
        )
    return degree


OFFICER_FIELDS = (
    FieldSpec(
        "national_code", LOCKED, N_("National code"), _national_code, CODE, missing=N_("Enter your national code.")
    ),
    FieldSpec("birth_date", LOCKED, N_("Birth date"), _birth_date, DATE, missing=N_("Enter your birth date.")),
    FieldSpec("first_name", REVIEWED, N_("First name"), _name, missing=N_("Enter your first name.")),
    FieldSpec(
        "last_name", REVIEWED, N_("Last name"), lambda v: _name(v, maximum=80), missing=N_("Enter your last name.")
    ),
    FieldSpec("father_name", FREE, N_("Father's name"), _name, missing=N_("Enter your father's name.")),
    FieldSpec("gender", FREE, N_("Gender"), _gender, CHOICE, choices=GENDERS),
    FieldSpec(
        "id_card_number",
        FREE,
        N_("ID booklet number"),
        _id_card_number,
        CODE,
        missing=N_("Enter the number of your ID booklet (shenasnameh)."),
    ),
    FieldSpec("mobile", FREE, N_("Mobile"), _mobile, CODE, missing=N_("Enter your mobile number.")),
    FieldSpec("phone", FREE, N_("Landline"), _phone, CODE, optional=True),
    FieldSpec("email", FREE, N_("E-mail"), _email, CODE, optional=True),
    FieldSpec(
        "province",
        REVIEWED,
        N_("Province"),
        lambda v: _reference(Province, v, N_("Choose your province.")),
        REFERENCE,
        reference=Province,
    ),
    FieldSpec("city", REVIEWED, N_("City"), None, REFERENCE, reference=City),
    # The municipal district (منطقه) of a city split between universities (Tehran): routes the file.
    FieldSpec("district", REVIEWED, N_("Municipal district"), None, optional=True),
    FieldSpec("address", FREE, N_("Postal address"), _address, missing=N_("Enter your postal address.")),
    FieldSpec("postal_code", FREE, N_("Postal code"), _postal_code, CODE, missing=N_("Enter your postal code.")),
    FieldSpec("field_of_study", REVIEWED, N_("Field of study"), _field_of_study, REFERENCE, reference=FieldOfStudy),
    FieldSpec("degree_level", REVIEWED, N_("Degree level"), _degree_level, REFERENCE, reference=DegreeLevel),
)
FIELDS_BY_NAME = {spec.name: spec for spec in OFFICER_FIELDS}
FIELD_POLICY = {spec.name: spec.policy for spec in OFFICER_FIELDS}
FREE_FIELDS = tuple(spec.name for spec in OFFICER_FIELDS if spec.policy == FREE)
REVIEWED_FIELDS = tuple(spec.name for spec in OFFICER_FIELDS if spec.policy == REVIEWED)
OPTIONAL_FIELDS = tuple(spec.name for spec in OFFICER_FIELDS if spec.optional)
REGISTRATION_FIELDS = tuple(spec.name for spec in OFFICER_FIELDS)
CLEANERS = {spec.name: spec.clean for spec in OFFICER_FIELDS if spec.clean is not None}


def _refusal(name: str, error: DomainError) -> tuple:
    """The (msgid, params) of a field's refusal: an empty field gets its own message."""
    spec = FIELDS_BY_NAME.get(name)
    if error.code == "required" and spec is not None and spec.missing:
        return spec.missing, {}
    return error.msgid, error.params


def clean_fields(data: dict, fields, officer=None) -> dict:
    """Clean the named fields; raise ValidationFailed listing every bad one.

    The city, the district and the field x degree pair are checked together; when only one
    of a pair is named, ``officer`` (if given) supplies the other as it stands.
    """
    clean, errors, codes = {}, {}, {}
    for name in fields:
        if name in ("city", "district"):
            continue
        try:
            clean[name] = CLEANERS[name](data.get(name, ""))
        except DomainError as error:
            errors[name], codes[name] = _refusal(name, error), error.code
    if "city" in fields:
        try:
            clean["city"] = clean_city(data.get("city"), clean.get("province"))
        except DomainError as error:
            errors["city"], codes["city"] = (error.msgid, error.params), error.code
    if "district" in fields:
        city = clean.get("city") if "city" in fields else getattr(officer, "city", None)
        try:
            clean["district"] = clean_district(city, data.get("district"))
        except DomainError as error:
            errors["district"], codes["district"] = (error.msgid, error.params), error.code
    if ("field_of_study" in fields or "degree_level" in fields) and not (
        {"field_of_study", "degree_level"} & set(errors)
    ):
        field = clean.get("field_of_study", getattr(officer, "field_of_study", None))
        degree = clean.get("degree_level", getattr(officer, "degree_level", None))
        try:
            check_study(field, degree)
        except DomainError as error:
            errors[error.field], codes[error.field] = (error.msgid, error.params), error.code
    if errors:
        raise ValidationFailed(errors, codes)
    return clean


def clean_city(value, province):
    city = _reference(City, value, N_("Choose your city."))
    if province is not None and city.province_id != province.id:
        raise DomainError(
            N_("The city %(city)s is not in the province %(province)s."),
            code="city_not_in_province",
            city=city.name,
            province=province.name,
        )
    return city


MOBILE_NEEDS_CODE = N_(
    "A new mobile takes effect only after the code sent to it is confirmed; enter your current password to change it."
)
ALREADY_REGISTERED = N_("An officer is already registered with this national code. Log in, or recover your password.")


def validate_registration(data: dict, with_password: bool = True) -> dict:
    """Clean a registration form (every field, the password twice unless ``with_password``
    is false, one registration per national code); raise ValidationFailed listing every
    problem."""
    errors = {}
    try:
        clean = clean_fields(data, REGISTRATION_FIELDS)
    except ValidationFailed as failed:
        errors, clean = dict(failed.errors), {}
    password = data.get("password") or ""
    problem = password_problem(password) if with_password else None
    if problem:
        errors["password"] = (problem, {})
    elif with_password and password != (data.get("password_confirm") or ""):
        errors["password_confirm"] = (N_("The two passwords are not the same."), {})
    code = clean.get("national_code")
    if code and Officer.select().where(Officer.national_code == code).exists():
        errors["national_code"] = (ALREADY_REGISTERED, {})
    if errors:
        raise ValidationFailed(errors)
    return clean


def register_officer(data: dict, actor=None) -> Officer:
    """Register an officer at once from cleaned-and-checked form data (the public form
    goes through :mod:`models.registration`, which confirms the mobile first)."""
    clean = validate_registration(data)
    officer = Officer(**clean)
    officer.set_password(data.get("password") or "")
    return create_officer(officer, actor)


def create_officer(officer: Officer, actor=None) -> Officer:
    """Save a new officer with a fresh user code and queue the SMS that tells it."""
    code = officer.national_code
    for _attempt in range(20):
        officer.user_code = new_user_code()
        try:
            with db.atomic():
                officer.save()
                queue_sms(
                    officer.mobile,
                    N_("Your registration as a technical officer is complete. Your user code: %(user_code)s"),
                    user_code=officer.user_code,
                )
                audit(actor or officer.as_actor(), "officer_registered", officer)
            return officer
        except IntegrityError:
            officer.id = None
            if Officer.select().where(Officer.national_code == code).exists():
                raise ValidationFailed({"national_code": (ALREADY_REGISTERED, {})}) from None
    raise RuntimeError("could not issue a unique user code")


# The states of a qualification request in which what it reviews is frozen.
UNDER_REVIEW = (State.SUBMITTED, State.DEFICIENT)

FROZEN_UNDER_REVIEW = N_(
    "Your qualification request is under review, so your name, place, field of study and degree cannot change now. To change them, withdraw the request first, then file a new one."  # noqa: E501  (one message id)
)


def reviewed_fields_frozen(officer) -> bool:
    """True while a qualification request of the officer is submitted or deficient: what
    it reviews (names, place, field, degree) then changes by no route (issue 14)."""
    requests = officer.qualification_requests
    return requests.where(requests.model.status.in_(UNDER_REVIEW)).exists()


def directly_editable_fields(officer) -> tuple:
    """Free fields always; the reviewed ones too until the first approval, except while
    a qualification request is under review."""
    reviewed = officer.can_edit_reviewed_fields_directly() and not reviewed_fields_frozen(officer)
    return FREE_FIELDS + (REVIEWED_FIELDS if reviewed else ())


def refuse_frozen_changes(officer, data: dict) -> None:
    """Refuse (with a message) a change of a reviewed field frozen under review; posting
    the value it already has is no change. Before qualification only: afterwards the
    reviewed fields are not direct at all and a posted value is ignored."""
    if not officer.can_edit_reviewed_fields_directly() or not reviewed_fields_frozen(officer):
        return
    posted = [f for f in REVIEWED_FIELDS if f in data]
    if not posted:
        return
    if "city" in posted and "province" not in posted:
        data, posted = dict(data, province=str(officer.province_id)), posted + ["province"]
    try:
        clean = clean_fields(data, posted)
    except ValidationFailed:
        raise DomainError(FROZEN_UNDER_REVIEW, code="frozen_under_review") from None
    if any(getattr(officer, f) != value for f, value in clean.items()):
        raise DomainError(FROZEN_UNDER_REVIEW, code="frozen_under_review")


def update_profile(officer, data: dict, actor) -> list[str]:
    """Change what the officer may change at once; return the names that changed.

    Anything else in ``data`` (national code, birth date, a reviewed field after
    approval, status...) is ignored; a changed reviewed field while a qualification
    request is under review is refused, and nothing changes."""
    refuse_frozen_changes(officer, data)
    allowed = directly_editable_fields(officer)
    present = [f for f in allowed if f in data]
    if "city" in present and "province" not in present:
        data, present = dict(data, province=str(officer.province_id)), present + ["province"]
    if "city" in present and "district" not in present and "district" in allowed:
        data, present = dict(data, district=data.get("district", "")), present + ["district"]
    clean = clean_fields(data, present, officer=officer)
    changed = [f for f, v in clean.items() if getattr(officer, f) != v]
    if "mobile" in changed:
        # The recovery channel changes only through models.registration.start_mobile_change
        # (the password, Shahkar, a code to the new number) or the directorate.
        raise ValidationFailed({"mobile": (MOBILE_NEEDS_CODE, {})}, {"mobile": "mobile_needs_code"})
    if not changed:
        return []
    # The names of the changed fields, not their values: the audit log is read and exported
    # by staff who must not collect mobiles and addresses from it (I3).
    detail = ", ".join(changed)
    with db.atomic():
        update = {getattr(Officer, f): clean[f] for f in changed}
        if {"city", "district"} & set(changed) and officer.university_id is not None:
            update[Officer.university] = route_id(
                clean.get("city", officer.city), clean.get("district", officer.district)
            )
        Officer.update(update).where(Officer.id == officer.id).execute()
        for f in changed:
            setattr(officer, f, clean[f])
        audit(actor, "profile_changed", officer, detail=detail)
    return changed


def update_place_before_qualification(officer, data: dict, actor):
    """Before the first approval, the officer corrects province, city and district directly."""
    if not officer.can_edit_reviewed_fields_directly():
        raise DomainError(N_("After qualification, the province and city change only through an edit request."))
    if reviewed_fields_frozen(officer):
        raise DomainError(FROZEN_UNDER_REVIEW, code="frozen_under_review")
    clean_fields(data, ("province", "city", "district"))  # all required here (the district for a split city)
    update_profile(
        officer,
        {"province": data.get("province"), "city": data.get("city"), "district": data.get("district", "")},
        actor,
    )
    return officer


def set_district(officer, value, actor):
    """An officer of a split city who has no district yet (the first release did not ask) tells
    it, at login. Their requests already open stay with the university that has them; the
    ones to come, and the file once qualified, go to the district's university."""
    district = clean_district(officer.city, value)
    with db.atomic():
        update = {Officer.district: district}
        if officer.university_id is not None:
            update[Officer.university] = route_id(officer.city, district)
        Officer.update(update).where(Officer.id == officer.id).execute()
        audit(actor, "district_set", officer, detail=f"district: {district}")
    officer.district = district
    return officer


def set_allowed_degrees(field, degree_ids, actor) -> None:
    """The directorate restricts a field of study to some degree levels (none: no restriction,
    every eligible degree). Checked wherever the eligible switches are (:func:`check_study`)."""
    chosen = {int(d) for d in degree_ids}
    with db.atomic():
        FieldDegree.delete().where((FieldDegree.field == field.id) & FieldDegree.degree.not_in(chosen or {0})).execute()
        present = {d for (d,) in FieldDegree.select(FieldDegree.degree).where(FieldDegree.field == field.id).tuples()}
        for degree_id in sorted(chosen - present):
            FieldDegree.create(field=field.id, degree=degree_id)
        audit(actor, "field_degrees_changed", field, detail=", ".join(map(str, sorted(chosen))))
