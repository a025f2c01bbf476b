"""Flask-WTF forms of the public pages. They collect and render; the rules that decide
whether a value is acceptable live in ``models`` and are applied by the views."""

from __future__ import annotations

from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    EmailField,
    HiddenField,
    PasswordField,
    RadioField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)

import models
from models.officer_rules import FIELDS_BY_NAME, FREE_FIELDS, GENDERS, REFERENCE, REVIEWED_FIELDS
from persian import to_persian_digits
from web.forms import LoginForm, at_most, required


def place_choices():
    """Province options, and every city grouped by province (an <optgroup> each)."""
    grouped = models.cities_by_province()
    provinces = [SelectChoice("", _l("Choose…"))] + [SelectChoice(str(p.id), p.name) for p, _ in grouped]
    cities = [SelectChoice("", _l("Choose…"))]  # no optgroup: rendered outside any <optgroup>
    for province, cities_of in grouped:
        cities += [SelectChoice(str(c.id), c.name, optgroup=province.name) for c in cities_of]
    return provinces, cities


def district_choices():
    """The municipal districts of the split cities (Tehran's 22), «منطقه ۱» … «منطقه ۲۲»;
    the value is the number."""
    numbers = sorted({n for ns in models.districts_by_city().values() for n in ns})
    persian_digits = str(get_locale() or "fa").startswith("fa")
    return [SelectChoice("", _l("Choose…"))] + [
        SelectChoice(str(n), _l("District %(number)s", number=to_persian_digits(n) if persian_digits else n))
        for n in numbers
    ]


def study_choices():
    fields = [SelectChoice("", _l("Choose…"))] + [
        SelectChoice(str(f.id), f.name) for f in models.in_persian_order(models.FieldOfStudy.select())
    ]
    degrees = [SelectChoice("", _l("Choose…"))] + [
        SelectChoice(str(d.id), d.name) for d in models.DegreeLevel.select().order_by(models.DegreeLevel.rank)
    ]
    return fields, degrees


class NoValidateSelect(SelectField):
    """The domain checks the chosen id; WTForms' own choice check would only duplicate it."""

    def pre_validate(self, form):
        pass


ENTER_USERNAME = _l("Enter your user code or your national code.")
ENTER_CODE = _l("Enter the code we sent to your mobile by SMS.")

GENDER_CHOICES = [SelectChoice(value, _l(label)) for value, label in GENDERS]

# The form field of each of the officer's fields (models.officer_rules.OFFICER_FIELDS),
# created in the order of the pages: a form lists its fields, and the error summary its
# errors, in the order they were created. The mixins below take them by policy.
OFFICER_FORM_FIELDS = {
    "national_code": StringField(
        _l("National code"), description=_l("10 digits; it cannot be changed later"), validators=[at_most(20)]
    ),
    "birth_date": StringField(
        _l("Birth date"),
        description=_l("Jalali, like 1370/05/21; it cannot be changed later"),
        validators=[at_most(20)],
    ),
    "first_name": StringField(_l("First name"), validators=[at_most(80)]),
    "last_name": StringField(_l("Last name"), validators=[at_most(100)]),
    "father_name": StringField(_l("Father's name"), validators=[at_most(80)]),
    "gender": RadioField(_l("Gender"), choices=GENDER_CHOICES, validate_choice=False),
    "id_card_number": StringField(_l("ID booklet number"), validators=[at_most(30)]),
    "mobile": StringField(_l("Mobile"), description=_l("Like 09121234567"), validators=[at_most(20)]),
    "phone": StringField(
        _l("Landline (optional)"), description=_l("With the area code, like 02188776655"), validators=[at_most(20)]
    ),
    "email": EmailField(_l("E-mail (optional)"), validators=[at_most(254)]),
    "province": NoValidateSelect(_l("Province of residence")),
    "city": NoValidateSelect(_l("City of residence")),
    "district": NoValidateSelect(
        _l("Municipal district"),
        description=_l("Only in Tehran, whose districts are covered by three universities; leave it empty elsewhere."),
    ),
    "address": TextAreaField(_l("Postal address"), validators=[at_most(500)]),
    "postal_code": StringField(_l("Postal code"), description=_l("10 digits"), validators=[at_most(20)]),
    "field_of_study": NoValidateSelect(_l("Field of study")),
    "degree_level": NoValidateSelect(_l("Degree level")),
}


def officer_fields(*names):
    """A class decorator: the class gets the officer's form fields of these names."""

    def decorate(cls):
        for name in names:
            setattr(cls, name, OFFICER_FORM_FIELDS[name])
        return cls

    return decorate


@officer_fields("province", "city", "district")
class PlaceMixin:
    def fill_places(self):
        self.province.choices, self.city.choices = place_choices()
        self.district.choices = district_choices()
        # The script shows the district only for these cities (the page works without it).
        self.split_city_ids = " ".join(str(city_id) for city_id in models.districts_by_city())


@officer_fields(*FREE_FIELDS)
class FreeFieldsMixin:
    """The fields an officer changes at once."""


@officer_fields(*REVIEWED_FIELDS)
class ReviewedFieldsMixin(PlaceMixin):
    """The fields reviewed with a request: name, place, field and degree."""

    def fill_choices(self):
        self.fill_places()
        self.field_of_study.choices, self.degree_level.choices = study_choices()


@officer_fields("national_code", "birth_date")
class RegistrationForm(ReviewedFieldsMixin, FreeFieldsMixin, FlaskForm):
    # The page (register.html) places the fields; the form only collects them.
    password = PasswordField(
        _l("Password"), description=_l("At least 8 characters, not a common password"), validators=[at_most(256)]
    )
    password_confirm = PasswordField(_l("Repeat the password"), validators=[at_most(256)])


class OfficerLoginForm(LoginForm):
    username = StringField(_l("User code or national code"), validators=[required(ENTER_USERNAME), at_most(40)])


class PasswordChangeForm(FlaskForm):
    current_password = PasswordField(_l("Current password"), validators=[at_most(256)])
    new_password = PasswordField(
        _l("New password"), description=_l("At least 8 characters, not a common password"), validators=[at_most(256)]
    )
    new_password_confirm = PasswordField(_l("Repeat the new password"), validators=[at_most(256)])


class ProfileForm(ReviewedFieldsMixin, FreeFieldsMixin, FlaskForm):
    """Free fields, and the reviewed ones while they are still directly editable."""

    current_password = PasswordField(
        _l("Current password"),
        description=_l("Needed only to change the mobile: a code will be sent to the new number."),
    )


class DistrictForm(FlaskForm):
    """The municipal district alone, for an officer of a split city who has none yet."""

    district = NoValidateSelect(_l("Municipal district"))
    next = HiddenField()

    def fill_districts(self, city):
        numbers = set(models.districts_by_city().get(city.id, []))
        self.district.choices = [c for c in district_choices() if not c.value or int(c.value) in numbers]


class DisputeForm(FlaskForm):
    """A migrated officer's word that a contract which came over is wrong."""

    cooperation_id = HiddenField()
    reason = TextAreaField(_l("What is wrong with this contract?"), validators=[required(), at_most(1000)])


class PlaceForm(PlaceMixin, FlaskForm):
    pass


class EditRequestForm(ReviewedFieldsMixin, FreeFieldsMixin, FlaskForm):
    comment = TextAreaField(_l("Your comment for the reviewer (optional)"), validators=[at_most(2000)])


class BranchForm(PlaceMixin, FlaskForm):
    name = StringField(_l("Branch name"), validators=[at_most(200)])
    address = TextAreaField(_l("Postal address"), validators=[at_most(500)])
    province = NoValidateSelect(_l("Province"))
    city = NoValidateSelect(_l("City"))


class ManagerMobileForm(FlaskForm):
    manager_mobile = StringField(_l("The manager's mobile"), description=_l("Like 09121234567"))


class NominationForm(FlaskForm):
    national_code = StringField(
        _l("National code of the technical officer"),
        description=_l("The officer must be qualified and free; they will be asked to accept."),
        validators=[at_most(20)],
    )


class TerminationForm(FlaskForm):
    reason = TextAreaField(_l("Why do you end the cooperation?"), validators=[at_most(2000)])


class PasswordResetRequestForm(FlaskForm):
    username = StringField(_l("User code or national code"), validators=[required(ENTER_USERNAME), at_most(40)])


class CodeForm(FlaskForm):
    """The one field of a confirmation by SMS (registration, a new mobile)."""

    code = StringField(_l("Code sent by SMS"), validators=[required(ENTER_CODE)])


class PasswordResetForm(FlaskForm):
    username = StringField(_l("User code or national code"), validators=[required(ENTER_USERNAME), at_most(40)])
    code = StringField(_l("Code sent by SMS"), validators=[required(ENTER_CODE), at_most(20)])
    new_password = PasswordField(
        _l("New password"), description=_l("At least 8 characters, not a common password"), validators=[at_most(256)]
    )
    new_password_confirm = PasswordField(_l("Repeat the new password"), validators=[at_most(256)])


class DistributorPasswordResetRequestForm(PasswordResetRequestForm):
    """A distributor names itself by its user name (the code goes to the manager's mobile)."""

    username = StringField(_l("User name"), validators=[required(), at_most(80)])


class DistributorPasswordResetForm(PasswordResetForm):
    username = StringField(_l("User name"), validators=[required(), at_most(80)])


class VerifyForm(FlaskForm):
    q = StringField(_l("Qualification number or national code"), validators=[at_most(40)])


def officer_form_data(officer) -> dict:
    """The officer's current values as the data of a profile or edit-request form (the id
    of a reference row for its select)."""
    data = {}
    for name in REVIEWED_FIELDS + FREE_FIELDS:
        if FIELDS_BY_NAME[name].kind == REFERENCE:
            value = getattr(officer, name + "_id")
            data[name] = "" if value is None else str(value)  # a migrated officer may lack one
        else:
            data[name] = getattr(officer, name)
    data["district"] = "" if officer.district is None else str(officer.district)  # the select's value
    return data
