"""Officer accounts: registration, login and logout, password reset and change."""

from __future__ import annotations

from flask import abort, redirect, render_template, request, session, url_for
from flask_babel import gettext as _

import models
from web.errors import domain_message, show_error
from web.extensions import identity_checker, limiter
from web.forms import ActionForm
from web.login import login_page
from web.session import client_ip, sign_out

from ..forms import (
    CodeForm,
    OfficerLoginForm,
    PasswordResetForm,
    PasswordResetRequestForm,
    RegistrationForm,
)
from ..passwords import password_change_view, reset_confirm_page, reset_request_page
from .access import officer_required

# The Flask session remembers which account this browser just registered, so the page
# with the user code survives a reload and shows nobody else's.
REGISTERED_KEY = "registered_officer"


def register():
    """Step one: the form and the identity checks; a code goes to the mobile."""
    form = RegistrationForm()
    form.fill_choices()
    error_code, status = None, (422 if request.method == "POST" else 200)
    if form.validate_on_submit():
        try:
            verification = models.start_registration(request.form.to_dict(), identity_checker(), client_ip())
        except models.DomainError as error:
            error_code = error.code if isinstance(error, models.IdentityUnavailable | models.Throttled) else None
            status = 429 if isinstance(error, models.Throttled) else 422
            show_error(form, error)
        else:
            return redirect(url_for("officer_site.register_confirm", token=verification.token), code=303)
    return render_template("officer/register.html", form=form, error_code=error_code), status


def register_confirm(token):
    """Step two: the code from the SMS; the account exists once it is right."""
    if models.registration.pending(token, models.registration.REGISTRATION) is None:
        return _attempt_ended()
    form = CodeForm()
    if form.validate_on_submit():
        try:
            officer = models.confirm_registration(token, form.code.data, client_ip())
        except models.DomainError as error:
            if error.code in ("verification_ended", "registration_invalid"):
                return _attempt_ended(error)
            show_error(form, error, fallback=form.code)
        else:
            session[REGISTERED_KEY] = officer.id
            return redirect(url_for("officer_site.registered"), code=303)
    return render_template("officer/register_confirm.html", form=form), (422 if form.errors else 200)


def _attempt_ended(error=None):
    """The attempt is over (expired, used, too many tries): say so and offer a new start."""
    message = (
        domain_message(error)
        if error is not None
        else _("This attempt has ended (10 minutes passed or 5 wrong codes). Start again.")
    )
    return render_template("officer/register_ended.html", message=message), 410


def registered():
    """The user code of the account this browser registered (a reload shows it again)."""
    officer = models.Officer.get_or_none(models.Officer.id == session.get(REGISTERED_KEY, 0))
    if officer is None:
        abort(404)
    return render_template("officer/registered.html", officer=officer)


def login():
    return login_page(
        "officer",
        OfficerLoginForm(),
        lambda form: render_template("officer/login.html", form=form),
        url_for("officer_site.dashboard"),
    )


def logout():
    if ActionForm().validate_on_submit():
        sign_out()
    return redirect(url_for("public.home"))


@limiter.limit("10 per hour", methods=["POST"])
def password_reset():
    """Step one: a one-time code goes to the registered mobile."""
    return reset_request_page(
        "officer", PasswordResetRequestForm(), "officer_site.password_reset_confirm", numeric_username=True
    )


@limiter.limit("20 per hour", methods=["POST"])
def password_reset_confirm():
    """Step two: the code and a new password."""
    return reset_confirm_page(
        "officer", PasswordResetForm(), "officer_site.password_reset", "officer_site.login", numeric_username=True
    )


@officer_required
def password():
    return password_change_view("officer_site.dashboard")
