"""Officer accounts: registration, login and logout, password reset and change."""

from __future__ import annotations

from flask import abort, flash, g, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user

import models
from web.errors import domain_message, show_error
from web.extensions import identity_checker, limiter
from web.forms import ActionForm
from web.login import login_page
from web.session import client_ip, sign_out

from ..forms import (
    CodeForm,
    OfficerLoginForm,
    PasswordChangeForm,
    PasswordResetForm,
    PasswordResetRequestForm,
    RegistrationForm,
)
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
    """Step one: a one-time code goes to the registered mobile (the answer is the same
    whether or not the account exists)."""
    form = PasswordResetRequestForm()
    if form.validate_on_submit():
        models.request_password_reset(form.username.data, client_ip())
        flash(
            _("If this account exists, a code was sent to its registered mobile. It is valid for 10 minutes."), "info"
        )
        return redirect(url_for("officer_site.password_reset_confirm", username=form.username.data.strip()))
    return render_template("officer/password_reset.html", form=form), (422 if form.errors else 200)


@limiter.limit("20 per hour", methods=["POST"])
def password_reset_confirm():
    """Step two: the code and a new password."""
    form = PasswordResetForm()
    if request.method == "GET":
        form.username.data = request.args.get("username", "")
    elif form.validate_on_submit() and _same_passwords(form):
        try:
            models.reset_password(form.username.data, form.code.data, form.new_password.data or "", client_ip())
        except models.DomainError as error:
            show_error(form, error, fallback=form.code)
        else:
            flash(_("Your password was changed. Log in with the new password."), "success")
            return redirect(url_for("officer_site.login"))
    return render_template("officer/password_reset_confirm.html", form=form), (422 if form.errors else 200)


@officer_required
def password():
    return password_change_view("officer/password.html", "officer_site.dashboard")


def password_change_view(template, done_endpoint):
    """Change the logged-in account's password; every other session of it ends."""
    form = PasswordChangeForm()
    if form.validate_on_submit():
        try:
            models.change_password(
                g.account,
                form.current_password.data or "",
                form.new_password.data or "",
                keep_token=current_user.token,
                confirm=form.new_password_confirm.data or "",
            )
        except models.DomainError as error:
            show_error(form, error)
        else:
            flash(_("Your password was changed. Other sessions were logged out."), "success")
            return redirect(url_for(done_endpoint))
    return render_template(template, form=form), (422 if form.errors else 200)


def _same_passwords(form) -> bool:
    """The new password typed twice the same; else the second field says so."""
    if form.new_password.data != form.new_password_confirm.data:
        form.new_password_confirm.errors = [_("The two passwords are not the same.")]
        return False
    return True
