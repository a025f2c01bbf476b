"""Forms both doors use. They collect and render; the rules live in ``models``."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, PasswordField, StringField
from wtforms.validators import InputRequired


def required():
    return InputRequired(message=_l("This field is required."))


class ActionForm(FlaskForm):
    """A bare form: its CSRF token protects buttons such as log out."""


class LoginForm(FlaskForm):
    """A login: user name and password, and the page to go to afterwards."""

    username = StringField(_l("User name"), validators=[required()])
    password = PasswordField(_l("Password"), validators=[required()])
    next = HiddenField()
