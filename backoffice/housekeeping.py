"""What the directorate does so that no request stays stuck: cancel one with a reason,
reassign many at once (to a reviewer or back to the pool), see the escalated ones.
Mixed into every cartable; the rules are :mod:`models.reassignment` and the flows."""

from __future__ import annotations

from flask import abort, flash, redirect, request
from flask_admin import expose
from flask_admin.actions import action
from flask_babel import gettext, ngettext
from flask_babel import lazy_gettext as _l

import models
from models import StaffUser, University
from persian import to_ascii_digits
from web.errors import flash_error, refusals_flashed
from web.forms import ActionForm

from .base import staff_actor


def _ids(text: str) -> list[int]:
    """Request numbers typed or pasted in any way: ``12, 13 ۱۴``."""
    cleaned = to_ascii_digits(text or "")
    return [int(part) for part in cleaned.replace(",", " ").replace("،", " ").split() if part.isdigit()]


class HousekeepingMixin:
    """Cancel, bulk reassignment and the escalated list, for the directorate only."""

    def is_action_allowed(self, name):
        if name == "return_to_pool" and not staff_actor().is_directorate:
            return False
        return super().is_action_allowed(name)

    @expose("/cancel/", methods=("POST",))
    def cancel_view(self):
        item = self._visible_request()
        if not ActionForm().validate_on_submit():
            abort(400)
        with refusals_flashed():
            item.apply(models.Action.CANCEL, staff_actor(), note=request.form.get("note", ""))
            flash(gettext("The request was cancelled; the applicant was told why."), "success")
        return redirect(self.get_url(".review_view", id=item.id))

    @action("return_to_pool", _l("Return to the pool"), _l("Return the selected requests to their university's pool?"))
    def action_return_to_pool(self, ids):
        self._bulk(ids, None, None, "")

    def _bulk(self, ids, university, reviewer, note):
        try:
            result = models.bulk_reassign(
                self.model.REQUEST_TYPE, ids, staff_actor(), university=university, reviewer=reviewer, note=note
            )
        except models.DomainError as error:
            flash_error(error)
            return None
        flash(
            ngettext("%(num)d request was reassigned.", "%(num)d requests were reassigned.", result["done"]),
            "success",
        )
        if result["skipped"]:
            flash(
                gettext("Not reassigned (changed meanwhile or not waiting for review): %(ids)s")
                % {"ids": ", ".join(str(i) for i, _msg in result["skipped"])},
                "warning",
            )
        return result

    @expose("/bulk-reassign/", methods=("GET", "POST"))
    def bulk_reassign_view(self):
        if not staff_actor().is_directorate:
            abort(403)
        form = ActionForm()
        if request.method == "POST":
            if not form.validate_on_submit():
                abort(400)
            university = University.get_or_none(University.id == request.form.get("university", type=int))
            reviewer_id = request.form.get("reviewer", type=int)
            reviewer = StaffUser.get_or_none(StaffUser.id == reviewer_id) if reviewer_id else None
            if self._bulk(_ids(request.form.get("ids", "")), university, reviewer, request.form.get("note", "")):
                return redirect(self.get_url(".index_view"))
        return self.render(
            "admin/bulk_reassign.html",
            form=form,
            typed=request.form.get("ids", "") or request.args.get("ids", ""),
            universities=list(University.select().order_by(University.name)),
            reviewers=list(
                StaffUser.select()
                .where((StaffUser.role == "university") & (StaffUser.is_active == True))  # noqa: E712
                .order_by(StaffUser.username)
            ),
        )

    @expose("/escalated/")
    def escalated_view(self):
        """The directorate's list of this type's escalated requests (a reviewer: their university's)."""
        actor = staff_actor()
        query = self.model.visible_to(actor, models.time_rules.escalated(self.model))
        return self.render(
            "admin/escalated.html",
            rows=list(query.order_by(self.model.due_on, self.model.id).limit(500)),
            cutoff=models.time_rules.escalation_cutoff(),
        )
