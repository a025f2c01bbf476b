"""The officer's "Contracted centres": cooperation requests from distributors, and ending
the active cooperation (a termination)."""

from __future__ import annotations

from flask import flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _

import models
from models import Cooperation, TerminationRequest
from models import cooperation as coops
from web.errors import ERROR, refusals_flashed, show_error
from web.forms import ActionForm
from web.security import deny

from ..forms import TerminationForm
from .access import officer_required


def _own_cooperation(cooperation_id) -> Cooperation:
    found = Cooperation.find(g.actor, cooperation_id, coops.with_branch_and_distributor())
    if found is None:
        deny(404)
    return found


@officer_required
def cooperation_list():
    cooperations = list(
        Cooperation.visible_to(g.actor, coops.with_branch_and_distributor()).order_by(Cooperation.created_at.desc())
    )
    pending = [c for c in cooperations if c.status == "pending_officer"]
    archive = [c for c in cooperations if c.status != "pending_officer"]
    return render_template("officer/cooperation_list.html", pending=pending, archive=archive)


OFFICER_DECISIONS = {"approve": "officer_approve", "reject": "officer_reject"}


@officer_required
def cooperation_detail(cooperation_id):
    cooperation = _own_cooperation(cooperation_id)
    form = ActionForm()
    if form.validate_on_submit():
        decision = request.form.get("decision")
        action = OFFICER_DECISIONS.get(decision)
        if action is None:
            flash(_("Choose a decision."), ERROR)
        else:
            with refusals_flashed():  # shown on this page, drawn again below
                cooperation.apply(action, g.actor, note=request.form.get("note", ""))
                flash(
                    _("Your answer was recorded. The request was sent to the university for review.")
                    if decision == "approve"
                    else _("You declined the request; the distributor was told."),
                    "success",
                )
                return redirect(url_for("officer_site.cooperation_list"))
    return render_template(
        "officer/cooperation_detail.html", cooperation=cooperation, form=form, history=list(cooperation.history())
    )


@officer_required
def termination_list():
    terminations = list(TerminationRequest.visible_to(g.actor).order_by(TerminationRequest.created_at.desc()))
    return render_template(
        "officer/termination_list.html", terminations=terminations, active=coops.active_cooperation_of(g.account)
    )


@officer_required
def termination_new():
    active = coops.active_cooperation_of(g.account)
    form = TerminationForm()
    if form.validate_on_submit():
        try:
            termination = models.termination.save_termination(g.account, g.actor, form.reason.data)
            if request.form.get("action") == "finalize":
                models.termination.finalize_termination(termination, g.actor)
                flash(_("The cooperation has ended. The distributor's management was informed by SMS."), "success")
                return redirect(url_for("officer_site.termination_list"))
        except models.DomainError as error:
            show_error(form, error)
        else:
            flash(_("Your request was saved. It takes effect only when you finalize it."), "success")
            return redirect(url_for("officer_site.termination_detail", termination_id=termination.id))
    return render_template("officer/termination_new.html", form=form, active=active), (422 if form.errors else 200)


@officer_required
def termination_detail(termination_id):
    termination = TerminationRequest.visible_to(g.actor).where(TerminationRequest.id == termination_id).first()
    if termination is None:
        deny(404)
    form = ActionForm()
    if form.validate_on_submit() and request.form.get("action") == "finalize":
        with refusals_flashed():
            models.termination.finalize_termination(termination, g.actor)
            flash(_("The cooperation has ended. The distributor's management was informed by SMS."), "success")
        return redirect(url_for("officer_site.termination_detail", termination_id=termination.id))
    return render_template(
        "officer/termination_detail.html",
        termination=termination,
        form=form,
        cooperation=_own_cooperation(termination.cooperation_id),
    )
