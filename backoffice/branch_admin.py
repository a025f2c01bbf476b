"""The directorate's tools for any distributor's branches and manager (issue 15: "the
directorate can do both for any distributor"): rename or re-address a branch, close it,
set the manager's mobile. Every rule is in ``models.branches``; these views read a small
form, call the operation with the staff actor and show the outcome."""

from __future__ import annotations

from flask import flash, redirect, request
from flask_admin import expose
from flask_babel import gettext

import models
from web.errors import domain_message, status_of
from web.forms import ActionForm
from web.security import deny

from .base import staff_actor

TEMPLATE = "admin/branch_tool.html"


def _render(view, tool, subject, values, error=None):
    status = 200 if error is None else status_of(error)
    message = domain_message(error) if error is not None else ""
    return view.render(TEMPLATE, tool=tool, subject=subject, values=values, error=message), status


def _posted(names) -> dict:
    return {name: (request.form.get(name) or "").strip() for name in names}


class BranchToolsMixin:
    """``/admin/branch/change/?id=N`` (name, address) and ``/admin/branch/close/?id=N``."""

    def _branch(self):
        branch = models.Branch.get_or_none(models.Branch.id == request.args.get("id", type=models.parse_id))
        if branch is None:
            deny(404)
        return branch

    @expose("/change/", methods=("GET", "POST"))
    def change_view(self):
        branch = self._branch()
        values = {"name": branch.name, "address": branch.address}
        if request.method == "POST":
            if not ActionForm().validate_on_submit():
                deny(400)
            values = _posted(("name", "address"))
            try:
                models.edit_branch(branch, staff_actor(), **values)
            except models.DomainError as error:
                return _render(self, "change", branch, values, error)
            flash(gettext("The branch was changed."), "success")
            return redirect(self.get_url(".index_view"))
        return _render(self, "change", branch, values)

    @expose("/close/", methods=("GET", "POST"))
    def close_view(self):
        branch = self._branch()
        values = {"reason": ""}
        if request.method == "POST":
            if not ActionForm().validate_on_submit():
                deny(400)
            values = _posted(("reason",))
            try:
                models.close_branch(branch, staff_actor(), values["reason"])
            except models.DomainError as error:
                return _render(self, "close", branch, values, error)
            flash(gettext("The branch was closed."), "success")
            return redirect(self.get_url(".index_view"))
        return _render(self, "close", branch, values)


class ManagerMobileMixin:
    """``/admin/distributor/manager-mobile/?id=N``: the directorate sets a distributor's
    manager's mobile with a reason (the old number is told)."""

    @expose("/manager-mobile/", methods=("GET", "POST"))
    def manager_mobile_view(self):
        distributor = models.Distributor.get_or_none(
            models.Distributor.id == request.args.get("id", type=models.parse_id)
        )
        if distributor is None:
            deny(404)
        values = {"mobile": distributor.manager_mobile or "", "reason": ""}
        if request.method == "POST":
            if not ActionForm().validate_on_submit():
                deny(400)
            values = _posted(("mobile", "reason"))
            try:
                models.change_manager_mobile_by_directorate(
                    distributor, staff_actor(), values["mobile"], values["reason"]
                )
            except models.DomainError as error:
                return _render(self, "manager_mobile", distributor, values, error)
            flash(gettext("The manager's mobile was changed."), "success")
            return redirect(self.get_url(".index_view"))
        return _render(self, "manager_mobile", distributor, values)
