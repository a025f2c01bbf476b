"""What came over from the old system (issue 18): a migrated officer sees the record, the
contracts and the scanned documents the legacy import brought, and confirms them or
disputes a contract (the dispute goes to the university of the contract's branch). The
last first-login step (``access._STEP_PAGES``); the rules are in ``models.legacy_claim``."""

from __future__ import annotations

from flask import flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _

import models
from models import legacy_claim
from web.errors import show_error
from web.forms import ActionForm

from ..forms import DisputeForm
from .access import officer_required


@officer_required
def migration_confirm():
    officer = g.account
    if not legacy_claim.needs_confirmation(officer):
        return redirect(url_for("officer_site.dashboard"))
    confirm_form = ActionForm()
    dispute_form = DisputeForm()
    disputed = None
    action = request.form.get("action") if request.method == "POST" else None
    if action == "confirm":
        if confirm_form.validate_on_submit():
            legacy_claim.confirm_migration(officer, g.actor)
            flash(_("Thank you: what came over from the old system is confirmed."), "success")
            return redirect(url_for("officer_site.dashboard"), code=303)
    elif action == "dispute":
        disputed = request.form.get("cooperation_id", type=int)
        if dispute_form.validate_on_submit():
            try:
                legacy_claim.dispute_contract(officer, disputed, dispute_form.reason.data, g.actor)
            except models.DomainError as error:
                show_error(dispute_form, error, fallback=dispute_form.reason)
            else:
                flash(_("Your dispute was sent to the university of the branch."), "success")
                return redirect(url_for("officer_site.migration_confirm"), code=303)
    failed = bool(confirm_form.errors or dispute_form.errors) or action not in (None, "confirm", "dispute")
    return render_template(
        "officer/migration_confirm.html",
        officer=officer,
        came=legacy_claim.came_over(officer),
        confirm_form=confirm_form,
        dispute_form=dispute_form,
        disputed=disputed,
    ), (422 if failed else 200)
