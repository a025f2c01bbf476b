"""The directorate's account tools for one officer, at ``/admin/officer/manage/?id=N``
(``OfficerView`` takes this mixin), and the list of open claims. Every rule is in
``models.account_admin``; this module reads the form and shows the outcome."""

from __future__ import annotations

from flask import flash, redirect, request
from flask_admin import expose
from flask_admin.menu import MenuLink
from flask_babel import get_locale, gettext
from flask_babel import lazy_gettext as _l
from markupsafe import Markup

import models
import storage
from models import account_admin
from persian import to_persian_digits
from web.documents import get_store, send_document
from web.errors import domain_message, status_of
from web.extensions import identity_checker
from web.forms import ActionForm
from web.security import deny

from .base import StaffAccessMixin, cached_options, clear_options_cache, staff_actor

MESSAGES = {
    "deactivate": _l("The account was deactivated."),
    "reactivate": _l("The account was reactivated."),
    "suspend_qualification": _l("The qualification was suspended."),
    "revoke_qualification": _l("The qualification was revoked."),
    "reinstate_qualification": _l("The qualification was reinstated."),
    "change_mobile": _l("The mobile was changed."),
    "correct_identity": _l("The correction was filed; another directorate account must confirm it."),
    "confirm_correction": _l("The correction was confirmed and applied."),
    "reject_correction": _l("The correction was rejected."),
    "dismiss_claim": _l("The claim was dismissed."),
}


def _stored_evidence():
    """The uploaded ``doc_evidence`` file, stored (judged by content), or None."""
    upload = request.files.get("doc_evidence")
    if upload is None or not upload.filename:
        return None
    return get_store().save(upload.stream, upload.filename)


def run_action(officer, actor, action: str, form) -> None:
    """Dispatch one POSTed action to its domain operation (raises DomainError)."""
    reason = form.get("reason", "")
    simple = {
        "deactivate": account_admin.deactivate_officer,
        "reactivate": account_admin.reactivate_officer,
        "suspend_qualification": account_admin.suspend_qualification,
        "revoke_qualification": account_admin.revoke_qualification,
        "reinstate_qualification": account_admin.reinstate_qualification,
    }
    if action in simple:
        simple[action](officer, actor, reason)
    elif action == "change_mobile":
        account_admin.change_mobile_by_directorate(officer, actor, form.get("mobile", ""), reason, identity_checker())
    elif action == "correct_identity":
        _propose(officer, actor, form, reason)
    elif action == "confirm_correction":
        account_admin.confirm_correction(officer, actor, form.get("correction", type=int), reason)
    elif action == "reject_correction":
        account_admin.reject_correction(officer, actor, form.get("correction", type=int), reason)
    elif action == "dismiss_claim":
        account_admin.dismiss_claim(officer, actor, form.get("claim", type=int), reason)
    else:
        raise models.DomainError(models.N_("Choose an action."), code="unknown_action")


def _propose(officer, actor, form, reason):
    data = {name: form.get(name, "") for name in account_admin.CORRECTABLE_FIELDS}
    try:
        evidence = _stored_evidence()
    except storage.UploadRejected as error:
        raise models.DomainError(error.msgid, field="doc_evidence", **(error.params or {})) from None
    try:
        account_admin.propose_correction(officer, actor, data, reason, evidence)
    except Exception:
        if evidence is not None:
            get_store().delete(evidence.storage_name)
        raise


class OfficerManageMixin:
    """Adds the manage page and the evidence documents to the directorate's officer view."""

    def _managed_officer(self):
        officer = self.get_one(request.args.get("id"))
        if officer is None:
            deny(404)
        return officer

    @expose("/manage/", methods=("GET", "POST"))
    def manage_view(self):
        officer = self._managed_officer()
        actor = staff_actor()
        form = ActionForm()
        errors, status, error_code = [], 200, None
        if request.method == "POST":
            if not form.validate_on_submit():
                deny(400)
            action = request.form.get("action", "")
            try:
                run_action(officer, actor, action, request.form)
            except models.DomainError as error:
                errors, status = _messages(error), status_of(error)
                # The contract's marker when the identity service (Shahkar) did not answer.
                error_code = error.code if isinstance(error, models.IdentityUnavailable) else None
            else:
                clear_options_cache()  # the menu's count of open claims may have changed
                flash(str(MESSAGES[action]), "success")
                return redirect(self.get_url(".manage_view", id=officer.id), code=303)
        return self.render(
            "admin/officer_manage.html",
            officer=models.Officer.get_by_id(officer.id),
            form=form,
            errors=errors,
            error_code=error_code,
            typed=request.form if errors else {},
            corrections=list(account_admin.corrections_of(officer)),
            claims=list(models.registration.open_claims(officer)),
            cooperation=models.cooperation.active_cooperation_of(officer),
            me=actor.id,
        ), status

    @expose("/evidence/")
    def evidence_view(self):
        """An evidence document of a correction of this officer."""
        officer = self._managed_officer()
        document = models.Document.get_or_none(
            (models.Document.id == request.args.get("doc", type=int))
            & (models.Document.request_type == account_admin.IdentityCorrection.REQUEST_TYPE)
            & (models.Document.officer == officer.id)
        )
        if document is None:
            deny(404)
        return send_document(document, inline=request.args.get("inline") == "1")

    @expose("/claims/")
    def claims_view(self):
        """Open claims on registered national codes, oldest first, each beside the account
        it claims (read in the same statement)."""
        claims = models.registration.open_claims().join(models.Officer).select_extend(models.Officer)
        return self.render("admin/officer_claims.html", claims=list(claims))


def _messages(error) -> list[str]:
    if isinstance(error, models.ValidationFailed):
        return [gettext(msgid) % params if params else gettext(msgid) for msgid, params in error.errors.values()]
    return [domain_message(error)]


def open_claims_waiting() -> int:
    """How many identity claims wait for the directorate, counted at most once a minute."""
    return cached_options("open_claims", lambda: models.registration.open_claims().count())


class ClaimsMenuLink(StaffAccessMixin, MenuLink):
    """The directorate's menu entry for the identity claims waiting for it, with how many
    wait. The menu is drawn on every back-office page, so the number is counted (one
    indexed COUNT) at most once a minute per process, and again after a manage action."""

    def __init__(self):
        super().__init__(name=_l("Identity claims"), endpoint="officer.claims_view")

    @property
    def name(self):
        waiting = open_claims_waiting()
        if not waiting:
            return str(self._label)
        shown = to_persian_digits(waiting) if str(get_locale() or "fa") == "fa" else str(waiting)
        return Markup('{} <span class="badge badge-pill badge-warning" data-count="{}">{}</span>').format(
            str(self._label), waiting, shown
        )

    @name.setter
    def name(self, value):
        self._label = value
