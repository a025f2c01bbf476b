"""Distributor pages: branches, nominating an officer, withdrawing a nomination, releasing
an officer; the password's change and recovery by SMS to the manager's mobile."""

from __future__ import annotations

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

import models
from models import Branch, Cooperation, time_rules
from models import cooperation as coops
from persian import to_ascii_digits
from web.errors import refusals_flashed, show_error
from web.extensions import limiter
from web.forms import ActionForm, LoginForm
from web.login import login_page
from web.security import deny
from web.session import account_required, sign_out

from .forms import (
    BranchForm,
    DistributorPasswordResetForm,
    DistributorPasswordResetRequestForm,
    ManagerMobileForm,
    NominationForm,
)
from .passwords import password_change_view, reset_confirm_page, reset_request_page

bp = Blueprint("distributor_site", __name__, url_prefix="/distributor")
distributor_required = account_required("distributor", "distributor_site.login")
_OPEN_WITHOUT_MOBILE = {"distributor_site.login", "distributor_site.logout", "distributor_site.manager_mobile"}


@bp.before_request
def _ask_for_the_manager_mobile():
    """A distributor migrated without a manager mobile gives it before anything else."""
    if (
        current_user.is_authenticated
        and current_user.kind == "distributor"
        and current_user.account.needs_manager_mobile
        and request.endpoint not in _OPEN_WITHOUT_MOBILE
    ):
        return redirect(url_for("distributor_site.manager_mobile"))
    return None


@bp.route("/manager-mobile", methods=["GET", "POST"])
@distributor_required
def manager_mobile():
    if not g.account.needs_manager_mobile:
        return redirect(url_for("distributor_site.dashboard"))
    form = ManagerMobileForm()
    if form.validate_on_submit():
        try:
            models.give_manager_mobile(g.account, form.manager_mobile.data or "", g.actor)
        except models.DomainError as error:
            show_error(form, error)
        else:
            flash(_("Thank you: the manager's mobile was saved."), "success")
            return redirect(url_for("distributor_site.dashboard"))
    return render_template("distributor/manager_mobile.html", form=form), (422 if form.errors else 200)


@bp.route("/login", methods=["GET", "POST"])
def login():
    return login_page(
        "distributor",
        LoginForm(),
        lambda form: render_template("distributor/login.html", form=form),
        url_for("distributor_site.dashboard"),
    )


@bp.route("/logout", methods=["POST"])
def logout():
    if ActionForm().validate_on_submit():
        sign_out()
    return redirect(url_for("public.home"))


@bp.route("/password", methods=["GET", "POST"])
@distributor_required
def password():
    """The distributor changes its password; the manager's mobile is told by SMS."""
    return password_change_view("distributor_site.dashboard")


@bp.route("/password/reset", methods=["GET", "POST"])
@limiter.limit("10 per hour", methods=["POST"])
def password_reset():
    """A forgotten password: a one-time code goes to the manager's mobile."""
    return reset_request_page(
        "distributor", DistributorPasswordResetRequestForm(), "distributor_site.password_reset_confirm"
    )


@bp.route("/password/reset/confirm", methods=["GET", "POST"])
@limiter.limit("20 per hour", methods=["POST"])
def password_reset_confirm():
    """The code from the SMS and a new password."""
    return reset_confirm_page(
        "distributor", DistributorPasswordResetForm(), "distributor_site.password_reset", "distributor_site.login"
    )


def _own_branch(branch_id) -> Branch:
    branch = Branch.visible_to(g.actor).where(Branch.id == branch_id).first()
    if branch is None:
        deny(404)
    return branch


@bp.route("/")
@distributor_required
def dashboard():
    branches = list(Branch.visible_to(g.actor).order_by(Branch.name))
    cooperations = list(
        Cooperation.visible_to(
            g.actor,
            Cooperation.select(Cooperation, models.Officer, Branch)
            .join(models.Officer)
            .switch(Cooperation)
            .join(Branch),
        )
        .order_by(Cooperation.created_at.desc())
        .limit(500)
    )
    # Every branch's serving officer, even one whose cooperation is older than the 500 listed.
    active = coops.serving_officers(g.account.id)
    vacancies = {v.branch.id: v for v in time_rules.vacancies(models.utcnow(), distributor_id=g.account.id)}
    return render_template(
        "distributor/dashboard.html",
        distributor=g.account,
        branches=branches,
        cooperations=cooperations,
        active=active,
        vacancies=vacancies,
        withdrawable={c.id for c in cooperations if "withdraw" in c.allowed_actions(g.actor)},
        form=ActionForm(),
    )


@bp.route("/branches/new", methods=["GET", "POST"])
@distributor_required
def branch_new():
    form = BranchForm()
    form.fill_places()
    if form.validate_on_submit():
        province = models.Province.get_or_none(models.Province.id == _int(form.province.data))
        city = models.City.get_or_none(models.City.id == _int(form.city.data))
        try:
            coops.create_branch(
                g.actor, form.name.data, province, city, form.address.data, district=form.district.data or ""
            )
        except models.DomainError as error:
            show_error(form, error)
        else:
            flash(_("The branch was defined. Now name its technical officer."), "success")
            return redirect(url_for("distributor_site.dashboard"))
    return render_template("distributor/branch_new.html", form=form), (422 if form.errors else 200)


def _int(value):
    return models.parse_id(to_ascii_digits(str(value)))


@bp.route("/branches/<int:branch_id>/nominate", methods=["GET", "POST"])
@distributor_required
def nominate(branch_id):
    branch = _own_branch(branch_id)
    form = NominationForm()
    if form.validate_on_submit():
        try:
            if request.form.get("step") == "check":
                # The page's own form asks first: is this the person? (A POST of the
                # national code alone, as the contract has it, nominates at once.)
                officer = coops.nominee(branch, g.actor, form.national_code.data or "")
                masked_name = coops.mask_name(officer.first_name, officer.last_name)
                return render_template(
                    "distributor/nominate_confirm.html",
                    form=form,
                    branch=branch,
                    officer=officer,
                    masked_name=masked_name,
                )
            coops.nominate(branch, g.actor, form.national_code.data or "")
        except models.DomainError as error:
            show_error(form, error, fallback=form.national_code)
        else:
            flash(_("The request was sent to the officer; they must accept it."), "success")
            return redirect(url_for("distributor_site.dashboard"))
    return render_template(
        "distributor/nominate.html", form=form, branch=branch, current=branch.active_cooperation()
    ), (422 if form.errors else 200)


@bp.route("/branches/<int:branch_id>/release", methods=["POST"])
@distributor_required
def release(branch_id):
    branch = _own_branch(branch_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    with refusals_flashed():
        coops.release(branch, g.actor)
        flash(_("The officer was released; the branch has no technical officer now."), "success")
    return redirect(url_for("distributor_site.dashboard"))


@bp.route("/cooperation/<int:cooperation_id>/withdraw", methods=["POST"])
@distributor_required
def withdraw(cooperation_id):
    """Take back a nomination that is still waiting on the officer or the university."""
    cooperation = Cooperation.find(g.actor, cooperation_id)
    if cooperation is None:
        deny(404)
    if not ActionForm().validate_on_submit():
        abort(400)
    with refusals_flashed():
        coops.withdraw(cooperation, g.actor)
        flash(_("The request was withdrawn; the branch may name another officer."), "success")
    return redirect(url_for("distributor_site.dashboard"))
