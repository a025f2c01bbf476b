"""The officer's profile: what is on record, and the changes that need no review."""

from __future__ import annotations

from flask import flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _

import models
from web.errors import show_error

from ..forms import ProfileForm, officer_form_data
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
        try:
            changed = models.update_profile(officer, data, g.actor)
        except models.DomainError as error:
            show_error(form, error)
        else:
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
