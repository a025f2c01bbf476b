"""Flask-WTF forms of the public pages. They collect and render; the rules that decide
whether a value is acceptable live in ``models`` and are applied by the views."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, RadioField, SelectChoice, SelectField, StringField, TextAreaField

import models
from models.officer_rules import FIELDS_BY_NAME, FREE_FIELDS, GENDERS, REFERENCE, REVIEWED_FIELDS
from web.forms import LoginForm, required


def place_choices():
    """Province options, and every city grouped by province (an <optgroup> each)."""
    grouped = models.cities_by_province()
    provinces = [SelectChoice("", _l("Choose…"))] + [SelectChoice(str(p.id), p.name) for p, _ in grouped]
    cities = [SelectChoice("", _l("Choose…"))]  # no optgroup: rendered outside any <optgroup>
    for province, cities_of in grouped:
        cities += [SelectChoice(str(c.id), c.name, optgroup=province.name) for c in cities_of]
    return provinces, cities


def study_choices():
    fields = [SelectChoice("", _l("Choose…"))] + [
        SelectChoice(str(f.id), f.name) for f in models.FieldOfStudy.select().order_by(models.FieldOfStudy.name)
    ]
    degrees = [SelectChoice("", _l("Choose…"))] + [
        SelectChoice(str(d.id), d.name) for d in models.DegreeLevel.select().order_by(models.DegreeLevel.rank)
    ]
    return fields, degrees


class NoValidateSelect(SelectField):
    """The domain checks the chosen id; WTForms' own choice check would only duplicate it."""

    def pre_validate(self, form):
        pass


GENDER_CHOICES = [SelectChoice(value, _l(label)) for value, label in GENDERS]

# The form field of each of the officer's fields (models.officer_rules.OFFICER_FIELDS),
# created in the order of the pages: a form lists its fields, and the error summary its
# errors, in the order they were created. The mixins below take them by policy.
OFFICER_FORM_FIELDS = {
    "national_code": StringField(_l("National code"), description=_l("10 digits; it cannot be changed later")),
    "birth_date": StringField(_l("Birth date"), description=_l("Jalali, like 1370/05/21; it cannot be changed later")),
    "first_name": StringField(_l("First name")),
    "last_name": StringField(_l("Last name")),
    "father_name": StringField(_l("Father's name")),
    "gender": RadioField(_l("Gender"), choices=GENDER_CHOICES, validate_choice=False),
    "id_card_number": StringField(_l("ID booklet number")),
    "mobile": StringField(_l("Mobile"), description=_l("Like 09121234567")),
    "phone": StringField(_l("Landline (optional)"), description=_l("With the area code, like 02188776655")),
    "email": EmailField(_l("E-mail (optional)")),
    "province": NoValidateSelect(_l("Province of residence")),
    "city": NoValidateSelect(_l("City of residence")),
    "address": TextAreaField(_l("Postal address")),
    "postal_code": StringField(_l("Postal code"), description=_l("10 digits")),
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


@officer_fields("province", "city")
class PlaceMixin:
    def fill_places(self):
        self.province.choices, self.city.choices = place_choices()


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
    password = PasswordField(_l("Password"), description=_l("At least 8 characters, not a common password"))
    password_confirm = PasswordField(_l("Repeat the password"))


class OfficerLoginForm(LoginForm):
    username = StringField(_l("User code or national code"), validators=[required()])


class PasswordChangeForm(FlaskForm):
    current_password = PasswordField(_l("Current password"))
    new_password = PasswordField(_l("New password"), description=_l("At least 8 characters, not a common password"))
    new_password_confirm = PasswordField(_l("Repeat the new password"))


class ProfileForm(ReviewedFieldsMixin, FreeFieldsMixin, FlaskForm):
    """Free fields, and the reviewed ones while they are still directly editable."""

    current_password = PasswordField(
        _l("Current password"),
        description=_l("Needed only to change the mobile: a code will be sent to the new number."),
    )


class PlaceForm(PlaceMixin, FlaskForm):
    pass


class EditRequestForm(ReviewedFieldsMixin, FreeFieldsMixin, FlaskForm):
    comment = TextAreaField(_l("Your comment for the reviewer (optional)"))


class BranchForm(PlaceMixin, FlaskForm):
    name = StringField(_l("Branch name"))
    address = TextAreaField(_l("Postal address"))
    province = NoValidateSelect(_l("Province"))
    city = NoValidateSelect(_l("City"))


class ManagerMobileForm(FlaskForm):
    manager_mobile = StringField(_l("The manager's mobile"), description=_l("Like 09121234567"))


class NominationForm(FlaskForm):
    national_code = StringField(
        _l("National code of the technical officer"),
        description=_l("The officer must be qualified and free; they will be asked to accept."),
    )


class TerminationForm(FlaskForm):
    reason = TextAreaField(_l("Why do you end the cooperation?"))


class PasswordResetRequestForm(FlaskForm):
    username = StringField(_l("User code or national code"), validators=[required()])


class CodeForm(FlaskForm):
    """The one field of a confirmation by SMS (registration, a new mobile)."""

    code = StringField(_l("Code sent by SMS"), validators=[required()])


class PasswordResetForm(FlaskForm):
    username = StringField(_l("User code or national code"), validators=[required()])
    code = StringField(_l("Code sent by SMS"), validators=[required()])
    new_password = PasswordField(_l("New password"), description=_l("At least 8 characters, not a common password"))
    new_password_confirm = PasswordField(_l("Repeat the new password"))


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
    return data
