"""Forms both doors use. They collect and render; the rules live in ``models``."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, PasswordField, StringField
from wtforms.validators import InputRequired, Length


def required(message=None):
    """An input that must be typed; ``message`` says which and what to do (GOV.UK: «کد ملی
    خود را وارد کنید» rather than «این فیلد الزامی است»)."""
    return InputRequired(message=message or _l("This field is required."))


def at_most(characters: int):
    """A length limit for a typed field: nothing longer reaches the domain or a column
    (PostgreSQL refuses an over-long value with an error, finding L8)."""
    return Length(max=characters, message=_l("Write at most %(max)d characters."))


class ActionForm(FlaskForm):
    """A bare form: its CSRF token protects buttons such as log out."""


class LoginForm(FlaskForm):
    """A login: user name and password, and the page to go to afterwards."""

    username = StringField(_l("User name"), validators=[required(_l("Enter your user name.")), at_most(80)])
    password = PasswordField(_l("Password"), validators=[required(_l("Enter your password.")), at_most(256)])
    next = HiddenField()
