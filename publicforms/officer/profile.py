"""The officer's profile: what is on record, the changes that need no review, and the
municipal district the first release's Tehran officers are asked for."""

from __future__ import annotations

from flask import flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _

import models
from persian import normalize_mobile
from web.errors import domain_message, show_error
from web.extensions import identity_checker
from web.security import safe_next
from web.session import client_ip

from ..forms import CodeForm, DistrictForm, ProfileForm, officer_form_data
from .access import officer_required


@officer_required
def profile():
    return render_template("officer/profile.html", officer=g.account)


@officer_required
def profile_edit():
    officer = g.account
    form = ProfileForm(**officer_form_data(officer)) if request.method == "GET" else ProfileForm()
    form.fill_choices()
    direct = models.directly_editable_fields(officer)
    if form.validate_on_submit():
        # Only the fields this officer may change directly are read: a crafted
        # national_code, birth_date or status is ignored.
        # Reviewed fields are read too, so that changing one frozen under review is
        # refused with a message instead of silently ignored.
        readable = direct + tuple(f for f in models.REVIEWED_FIELDS if f not in direct)
        data = {name: request.form.get(name, "") for name in readable if name in request.form}
        typed_mobile = data.pop("mobile", None)
        new_mobile = typed_mobile is not None and normalize_mobile(typed_mobile) != officer.mobile
        try:
            changed = models.update_profile(officer, data, g.actor)
            if new_mobile:
                verification = models.start_mobile_change(
                    officer, form.current_password.data or "", typed_mobile, identity_checker(), client_ip()
                )
        except models.DomainError as error:
            show_error(form, error)
        else:
            if new_mobile:
                if changed:
                    flash(_("Your other changes were saved."), "success")
                return redirect(url_for("officer_site.mobile_confirm", token=verification.token), code=303)
            flash(_("Your information was saved.") if changed else _("Nothing was changed."), "success")
            return redirect(url_for("officer_site.profile"))
    frozen = models.reviewed_fields_frozen(officer) and officer.can_edit_reviewed_fields_directly()
    return render_template(
        "officer/profile_edit.html",
        form=form,
        direct=direct,
        officer=officer,
        frozen=frozen,
        frozen_request=models.qualification.open_request(officer) if frozen else None,
    ), (422 if form.errors else 200)


@officer_required
def district():
    """Asked once of an officer of a split city (Tehran) registered before districts existed;
    their requests already filed stay with the university that has them."""
    officer = g.account
    target = safe_next(request.values.get("next"), url_for("officer_site.dashboard"))
    if not officer.needs_district():
        return redirect(target)
    form = DistrictForm()
    form.fill_districts(officer.city)
    if form.validate_on_submit():
        try:
            models.set_district(officer, form.district.data, g.actor)
        except models.DomainError as error:
            show_error(form, error, fallback=form.district)
        else:
            flash(_("Thank you: your municipal district is saved."), "success")
            return redirect(target)
    elif request.method == "GET":
        form.next.data = target
    return render_template("officer/district.html", form=form, officer=officer), (422 if form.errors else 200)


@officer_required
def profile_complete():
    """A migrated officer fills in what the old record lacked (the registration form's
    fields and rules); the other officer pages lead here until it is done."""
    officer = g.account
    if not officer.profile_incomplete:
        return redirect(url_for("officer_site.dashboard"))
    missing = models.missing_profile_fields(officer)
    form = ProfileForm(**officer_form_data(officer)) if request.method == "GET" else ProfileForm()
    form.fill_choices()
    if form.validate_on_submit():
        data = {name: request.form.get(name, "") for name in missing}
        try:
            models.complete_profile(officer, data, g.actor)
        except models.DomainError as error:
            show_error(form, error)
        else:
            flash(_("Thank you: your profile is complete."), "success")
            return redirect(url_for("officer_site.dashboard"))
    return render_template("officer/profile_complete.html", form=form, missing=missing, officer=officer), (
        422 if form.errors else 200
    )


@officer_required
def mobile_confirm(token):
    """The code sent to the new mobile; the change takes effect once it is right."""
    officer = g.account
    if models.registration.pending(token, models.registration.MOBILE_CHANGE, officer) is None:
        flash(_("This attempt has ended (10 minutes passed or 5 wrong codes). Start again."), "error")
        return redirect(url_for("officer_site.profile_edit"))
    form = CodeForm()
    if form.validate_on_submit():
        try:
            models.confirm_mobile_change(officer, token, form.code.data, client_ip())
        except models.DomainError as error:
            if error.code == "verification_ended":
                flash(domain_message(error), "error")
                return redirect(url_for("officer_site.profile_edit"))
            show_error(form, error, fallback=form.code)
        else:
            flash(_("Your mobile was changed. The previous number was told by SMS."), "success")
            return redirect(url_for("officer_site.profile"), code=303)
    return render_template("officer/mobile_confirm.html", form=form), (422 if form.errors else 200)
