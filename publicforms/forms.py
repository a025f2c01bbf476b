"""Flask-WTF forms of the public pages. They collect and render; the rules that decide
whether a value is acceptable live in ``models`` and are applied by the views."""

from __future__ import annotations

from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, HiddenField, PasswordField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import InputRequired

import models
from persian import to_persian_digits


def place_choices():
    """Province options, and every city grouped by province (an <optgroup> each)."""
    grouped = models.cities_by_province()
    provinces = [("", _l("Choose…"))] + [(str(p.id), p.name) for p, _ in grouped]
    cities = {None: [("", _l("Choose…"))]}  # a None group renders outside any <optgroup>
    for province, cities_of in grouped:
        cities[province.name] = [(str(c.id), c.name) for c in cities_of]
    return provinces, cities


def district_choices():
    """The municipal districts of the split cities (Tehran's 22), «منطقه ۱» … «منطقه ۲۲»;
    the value is the number."""
    numbers = sorted({n for ns in models.districts_by_city().values() for n in ns})
    persian_digits = str(get_locale() or "fa").startswith("fa")
    return [("", _l("Choose…"))] + [
        (str(n), _l("District %(number)s", number=to_persian_digits(n) if persian_digits else n)) for n in numbers
    ]


def study_choices():
    fields = [("", _l("Choose…"))] + [
        (str(f.id), f.name) for f in models.in_persian_order(models.FieldOfStudy.select())
    ]
    degrees = [("", _l("Choose…"))] + [
        (str(d.id), d.name) for d in models.DegreeLevel.select().order_by(models.DegreeLevel.rank)
    ]
    return fields, degrees


class NoValidateSelect(SelectField):
    """The domain checks the chosen id; WTForms' own choice check would only duplicate it."""

    def pre_validate(self, form):
        pass


class PlaceMixin:
    province = NoValidateSelect(_l("Province of residence"))
    city = NoValidateSelect(_l("City of residence"))
    district = NoValidateSelect(
        _l("Municipal district"),
        description=_l("Only in Tehran, whose districts are covered by three universities; leave it empty elsewhere."),
    )

    def fill_places(self):
        self.province.choices, self.city.choices = place_choices()
        self.district.choices = district_choices()
        # The script shows the district only for these cities (the page works without it).
        self.split_city_ids = " ".join(str(city_id) for city_id in models.districts_by_city())


GENDER_CHOICES = [("male", _l("Male")), ("female", _l("Female"))]


class FreeFieldsMixin:
    father_name = StringField(_l("Father's name"))
    gender = RadioField(_l("Gender"), choices=GENDER_CHOICES, validate_choice=False)
    id_card_number = StringField(_l("ID booklet number"))
    mobile = StringField(_l("Mobile"), description=_l("Like 09121234567"))
    phone = StringField(_l("Landline (optional)"), description=_l("With the area code, like 02188776655"))
    email = EmailField(_l("E-mail (optional)"))
    address = TextAreaField(_l("Postal address"))
    postal_code = StringField(_l("Postal code"), description=_l("10 digits"))


class RegistrationForm(PlaceMixin, FreeFieldsMixin, FlaskForm):
    # The same fields as ReviewedFieldsMixin, kept explicit for the contract's order.
    national_code = StringField(_l("National code"), description=_l("10 digits; it cannot be changed later"))
    birth_date = StringField(_l("Birth date"), description=_l("Jalali, like 1370/05/21; it cannot be changed later"))
    first_name = StringField(_l("First name"))
    last_name = StringField(_l("Last name"))
    field_of_study = NoValidateSelect(_l("Field of study"))
    degree_level = NoValidateSelect(_l("Degree level"))
    password = PasswordField(_l("Password"), description=_l("At least 8 characters, not a common password"))
    password_confirm = PasswordField(_l("Repeat the password"))

    field_order = (
        "national_code",
        "birth_date",
        "first_name",
        "last_name",
        "father_name",
        "gender",
        "id_card_number",
        "mobile",
        "phone",
        "email",
        "province",
        "city",
        "district",
        "address",
        "postal_code",
        "field_of_study",
        "degree_level",
        "password",
        "password_confirm",
    )

    def fill_choices(self):
        self.fill_places()
        self.field_of_study.choices, self.degree_level.choices = study_choices()


class LoginForm(FlaskForm):
    username = StringField(_l("User name"), validators=[InputRequired(message=_l("This field is required."))])
    password = PasswordField(_l("Password"), validators=[InputRequired(message=_l("This field is required."))])
    next = HiddenField()


class OfficerLoginForm(LoginForm):
    username = StringField(
        _l("User code or national code"), validators=[InputRequired(message=_l("This field is required."))]
    )


class PasswordChangeForm(FlaskForm):
    current_password = PasswordField(_l("Current password"))
    new_password = PasswordField(_l("New password"), description=_l("At least 8 characters, not a common password"))
    new_password_confirm = PasswordField(_l("Repeat the new password"))


class ReviewedFieldsMixin(PlaceMixin):
    first_name = StringField(_l("First name"))
    last_name = StringField(_l("Last name"))
    field_of_study = NoValidateSelect(_l("Field of study"))
    degree_level = NoValidateSelect(_l("Degree level"))

    def fill_choices(self):
        self.fill_places()
        self.field_of_study.choices, self.degree_level.choices = study_choices()


class ProfileForm(ReviewedFieldsMixin, FreeFieldsMixin, FlaskForm):
    """Free fields, and the reviewed ones while they are still directly editable."""


class DistrictForm(FlaskForm):
    """The municipal district alone, for an officer of a split city who has none yet."""

    district = NoValidateSelect(_l("Municipal district"))
    next = HiddenField()

    def fill_districts(self, city):
        numbers = set(models.districts_by_city().get(city.id, []))
        self.district.choices = [choice for choice in district_choices() if not choice[0] or int(choice[0]) in numbers]


class PlaceForm(PlaceMixin, FlaskForm):
    pass


class EditRequestForm(ReviewedFieldsMixin, FreeFieldsMixin, FlaskForm):
    comment = TextAreaField(_l("Your comment for the reviewer (optional)"))


class ActionForm(FlaskForm):
    """A bare form: its CSRF token protects buttons such as log out."""


class BranchForm(PlaceMixin, FlaskForm):
    name = StringField(_l("Branch name"))
    address = TextAreaField(_l("Postal address"))
    province = NoValidateSelect(_l("Province"))
    city = NoValidateSelect(_l("City"))


class NominationForm(FlaskForm):
    national_code = StringField(
        _l("National code of the technical officer"),
        description=_l("The officer must be qualified and free; they will be asked to accept."),
    )


class TerminationForm(FlaskForm):
    reason = TextAreaField(_l("Why do you end the cooperation?"))


class PasswordResetRequestForm(FlaskForm):
    username = StringField(
        _l("User code or national code"), validators=[InputRequired(message=_l("This field is required."))]
    )


class PasswordResetForm(FlaskForm):
    username = StringField(
        _l("User code or national code"), validators=[InputRequired(message=_l("This field is required."))]
    )
    code = StringField(_l("Code sent by SMS"), validators=[InputRequired(message=_l("This field is required."))])
    new_password = PasswordField(_l("New password"), description=_l("At least 8 characters, not a common password"))
    new_password_confirm = PasswordField(_l("Repeat the new password"))
