"""Officer pages for cooperation requests and terminations ("Contracted centres")."""
from __future__ import annotations

from flask import flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _

from models import Cooperation, DomainError, TerminationRequest
from models import cooperation as coops

from .forms import ActionForm, TerminationForm
from .officer import bp, officer_required
from .web import domain_message, deny


def _own_cooperation(cooperation_id) -> Cooperation:
    found = Cooperation.find(g.actor, cooperation_id, coops.with_branch_and_distributor())
    if found is None:
        deny(404)
    return found


@bp.route("/cooperation/")
@officer_required
def cooperation_list():
    cooperations = list(Cooperation.visible_to(g.actor, coops.with_branch_and_distributor())
                        .order_by(Cooperation.created_at.desc()))
    pending = [c for c in cooperations if c.status == "pending_officer"]
    archive = [c for c in cooperations if c.status != "pending_officer"]
    return render_template("officer/cooperation_list.html", pending=pending, archive=archive)


@bp.route("/cooperation/<int:cooperation_id>", methods=["GET", "POST"])
@officer_required
def cooperation_detail(cooperation_id):
    cooperation = _own_cooperation(cooperation_id)
    form = ActionForm()
    if form.validate_on_submit():
        decision = request.form.get("decision")
        action = {"approve": "officer_approve", "reject": "officer_reject"}.get(decision)
        if action is None:
            flash(_("Choose a decision."), "danger")
        else:
            try:
                cooperation.apply(action, g.actor, note=request.form.get("note", ""))
            except DomainError as error:
                flash(domain_message(error), "danger")
            else:
                flash(_("Your answer was recorded. The request was sent to the university for review.")
                      if decision == "approve" else _("You declined the request; the distributor was told."),
                      "success")
                return redirect(url_for("officer_site.cooperation_list"))
    return render_template("officer/cooperation_detail.html", cooperation=cooperation, form=form,
                           history=list(cooperation.history()))


@bp.route("/termination/")
@officer_required
def termination_list():
    terminations = list(TerminationRequest.visible_to(g.actor).order_by(TerminationRequest.created_at.desc()))
    return render_template("officer/termination_list.html", terminations=terminations,
                           active=coops.active_cooperation_of(g.account))


@bp.route("/termination/new", methods=["GET", "POST"])
@officer_required
def termination_new():
    active = coops.active_cooperation_of(g.account)
    form = TerminationForm()
    if form.validate_on_submit():
        try:
            termination = coops.save_termination(g.account, g.actor, form.reason.data)
            if request.form.get("action") == "finalize":
                coops.finalize_termination(termination, g.actor)
                flash(_("The cooperation has ended. The distributor's management was informed by SMS."), "success")
                return redirect(url_for("officer_site.termination_list"))
        except DomainError as error:
            target = form.reason if error.field == "reason" else None
            if target is not None:
                target.errors = [domain_message(error)]
            else:
                form.form_errors.append(domain_message(error))
        else:
            flash(_("Your request was saved. It takes effect only when you finalize it."), "success")
            return redirect(url_for("officer_site.termination_detail", termination_id=termination.id))
    return render_template("officer/termination_new.html", form=form, active=active), (422 if form.errors else 200)


@bp.route("/termination/<int:termination_id>", methods=["GET", "POST"])
@officer_required
def termination_detail(termination_id):
    termination = TerminationRequest.visible_to(g.actor).where(TerminationRequest.id == termination_id).first()
    if termination is None:
        deny(404)
    form = ActionForm()
    if form.validate_on_submit() and request.form.get("action") == "finalize":
        try:
            coops.finalize_termination(termination, g.actor)
        except DomainError as error:
            flash(domain_message(error), "danger")
        else:
            flash(_("The cooperation has ended. The distributor's management was informed by SMS."), "success")
        return redirect(url_for("officer_site.termination_detail", termination_id=termination.id))
    return render_template("officer/termination_detail.html", termination=termination, form=form,
                           cooperation=_own_cooperation(termination.cooperation_id))
