"""Officer pages: registration, login, dashboard, inbox, profile, password."""

from __future__ import annotations

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _

import models
from models import DomainError, ValidationFailed

from .forms import (
    ActionForm,
    DistrictForm,
    OfficerLoginForm,
    PasswordChangeForm,
    PasswordResetForm,
    PasswordResetRequestForm,
    ProfileForm,
    RegistrationForm,
)
from .web import account_required, apply_errors, client_ip, domain_message, limiter, safe_next, sign_in, sign_out

bp = Blueprint("officer_site", __name__, url_prefix="/officer")
officer_required = account_required("officer", "officer_site.login")


@bp.route("/register", methods=["GET", "POST"])
def register():
    form = RegistrationForm()
    form.fill_choices()
    if form.validate_on_submit():
        try:
            officer = models.register_officer(request.form.to_dict(), actor=None)
        except ValidationFailed as failed:
            apply_errors(form, failed.errors)
        else:
            return render_template("officer/registered.html", officer=officer)
    status = 422 if request.method == "POST" else 200
    return render_template("officer/register.html", form=form), status


def _login_view(kind, form, template, home_endpoint):
    """Shared by the officer and distributor logins: throttled, generic messages."""
    if form.validate_on_submit():
        try:
            account = models.authenticate(kind, form.username.data, form.password.data, client_ip())
        except models.LoginThrottled as error:
            form.form_errors.append(domain_message(error))
            return render_template(template, form=form), 429
        except DomainError as error:
            form.form_errors.append(domain_message(error))
        else:
            sign_in(kind, account)
            return redirect(safe_next(form.next.data or request.args.get("next"), url_for(home_endpoint)))
    elif request.method == "GET":
        form.next.data = safe_next(request.args.get("next"), "")
    return render_template(template, form=form), (422 if request.method == "POST" else 200)


@bp.route("/login", methods=["GET", "POST"])
def login():
    return _login_view("officer", OfficerLoginForm(), "officer/login.html", "officer_site.dashboard")


@bp.route("/logout", methods=["POST"])
def logout():
    if ActionForm().validate_on_submit():
        sign_out()
    return redirect(url_for("public.home"))


@bp.route("/")
@officer_required
def dashboard():
    officer = g.account
    current = models.qualification.open_request(officer)
    return render_template(
        "officer/dashboard.html", officer=officer, current=current, unread=models.unread_count(officer)
    )


@bp.route("/district", methods=["GET", "POST"])
@officer_required
def district():
    """Asked once of an officer of a split city (Tehran) registered before districts existed."""
    officer = g.account
    target = safe_next(request.values.get("next"), url_for("officer_site.dashboard"))
    if not officer.needs_district():
        return redirect(target)
    form = DistrictForm()
    form.fill_districts(officer.city)
    if form.validate_on_submit():
        try:
            models.set_district(officer, form.district.data, g.actor)
        except DomainError as error:
            apply_errors(form, {"district": (error.msgid, error.params)})
        else:
            flash(_("Thank you: your municipal district is saved."), "success")
            return redirect(target)
    elif request.method == "GET":
        form.next.data = target
    return render_template("officer/district.html", form=form, officer=officer), (
        422 if request.method == "POST" else 200
    )


@bp.route("/messages/")
@officer_required
def messages():
    notices = list(models.inbox(g.account).limit(200))
    return render_template("officer/messages.html", notices=notices)


@bp.route("/messages/<int:notice_id>")
@officer_required
def message(notice_id):
    notice = models.open_notice(g.account, notice_id)
    if notice is None:
        abort(404)
    return render_template("officer/message.html", notice=notice)


@bp.route("/profile")
@officer_required
def profile():
    return render_template("officer/profile.html", officer=g.account, policy=models.FIELD_POLICY)


@bp.route("/profile/edit", methods=["GET", "POST"])
@officer_required
def profile_edit():
    officer = g.account
    form = ProfileForm(**profile_values(officer)) if request.method == "GET" else ProfileForm()
    form.fill_choices()
    direct = models.directly_editable_fields(officer)
    if form.validate_on_submit():
        # Only the fields this officer may change directly are read: a crafted
        # national_code, birth_date or status is ignored.
        data = {name: request.form.get(name, "") for name in direct if name in request.form}
        try:
            changed = models.update_profile(officer, data, g.actor)
        except ValidationFailed as failed:
            apply_errors(form, failed.errors)
        else:
            flash(_("Your information was saved.") if changed else _("Nothing was changed."), "success")
            return redirect(url_for("officer_site.profile"))
    return render_template("officer/profile_edit.html", form=form, direct=direct, officer=officer), (
        422 if form.errors else 200
    )


def profile_values(officer) -> dict:
    """The officer's current values as form data (ids for the selects)."""
    values = {name: getattr(officer, name) for name in models.FREE_FIELDS}
    values.update(
        first_name=officer.first_name,
        last_name=officer.last_name,
        province=str(officer.province_id),
        city=str(officer.city_id),
        field_of_study=str(officer.field_of_study_id),
        degree_level=str(officer.degree_level_id),
    )
    return values


@bp.route("/certificate")
@officer_required
def certificate():
    """A printable certificate with a QR code pointing to the public verification page."""
    officer = g.account
    if not officer.is_qualified:
        flash(_("The certificate is available once your qualification is approved."), "info")
        return redirect(url_for("officer_site.dashboard"))
    from .public import qr_svg

    verify_url = url_for("public.verify", q=officer.qualification_number, _external=True)
    return render_template("officer/certificate.html", officer=officer, qr=qr_svg(verify_url), verify_url=verify_url)


@bp.route("/password/reset", methods=["GET", "POST"])
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


@bp.route("/password/reset/confirm", methods=["GET", "POST"])
@limiter.limit("20 per hour", methods=["POST"])
def password_reset_confirm():
    form = PasswordResetForm()
    if request.method == "GET":
        form.username.data = request.args.get("username", "")
    elif form.validate_on_submit():
        if form.new_password.data != form.new_password_confirm.data:
            form.new_password_confirm.errors = [_("The two passwords are not the same.")]
        else:
            try:
                models.reset_password(form.username.data, form.code.data, form.new_password.data or "", client_ip())
            except DomainError as error:
                target = getattr(form, error.field or "", None) or form.code
                target.errors = [domain_message(error)]
            else:
                flash(_("Your password was changed. Log in with the new password."), "success")
                return redirect(url_for("officer_site.login"))
    return render_template("officer/password_reset_confirm.html", form=form), (422 if form.errors else 200)


@bp.route("/password", methods=["GET", "POST"])
@officer_required
def password():
    return password_change_view("officer/password.html", "officer_site.dashboard")


def password_change_view(template, done_endpoint):
    """Change the logged-in account's password; every other session of it ends."""
    from flask_login import current_user

    form = PasswordChangeForm()
    if form.validate_on_submit():
        if form.new_password.data != form.new_password_confirm.data:
            form.new_password_confirm.errors = [_("The two passwords are not the same.")]
        else:
            try:
                models.change_password(
                    g.account,
                    form.current_password.data or "",
                    form.new_password.data or "",
                    keep_token=current_user.token,
                )
            except DomainError as error:
                field = getattr(form, error.field or "", None)
                if field is not None:
                    field.errors = [domain_message(error)]
                else:
                    form.form_errors.append(domain_message(error))
            else:
                flash(_("Your password was changed. Other sessions were logged out."), "success")
                return redirect(url_for(done_endpoint))
    return render_template(template, form=form), (422 if form.errors else 200)


from . import (
    officer_cooperation,  # noqa: E402,F401
    officer_edit_requests,  # noqa: E402,F401
    officer_requests,  # noqa: E402,F401  (registers the request pages on bp)
)
