"""The officer's profile: what is on record, the changes that need no review, and the
municipal district the first release's Tehran officers are asked for."""

from __future__ import annotations

from flask import flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _

import models
from web.errors import show_error
from web.security import safe_next

from ..forms import DistrictForm, ProfileForm, officer_form_data
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
        data = {name: request.form.get(name, "") for name in direct if name in request.form}
        try:
            changed = models.update_profile(officer, data, g.actor)
        except models.DomainError as error:
            show_error(form, error)
        else:
            flash(_("Your information was saved.") if changed else _("Nothing was changed."), "success")
            return redirect(url_for("officer_site.profile"))
    return render_template("officer/profile_edit.html", form=form, direct=direct, officer=officer), (
        422 if form.errors else 200
    )


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
