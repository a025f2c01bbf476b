"""The officer's qualification requests and their documents."""

from __future__ import annotations

from flask import flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _

import models
from models import QualificationRequest
from models import qualification as quals
from web.documents import send_document, store_uploads
from web.errors import refusals_flashed, show_error
from web.forms import ActionForm
from web.security import deny

from ..forms import PlaceForm
from .access import officer_required


def _own_request(request_id) -> QualificationRequest:
    found = models.qualification.own_request(g.account, request_id)
    if found is None:
        deny(404)
    return found


def _with_missing_documents(qrequest, upload_errors: dict) -> dict:
    """Before a submission: each required document not attached gets its own message at
    its upload field, in the same round as a refused file (GOV.UK: every error at once)."""
    errors = dict(upload_errors)
    for kind in quals.missing_documents(qrequest):
        errors.setdefault(kind.code, _("Attach the %(document)s.", document=kind.name))
    return errors


def _documents_by_kind(qrequest) -> dict:
    if qrequest is None:
        return {}
    return {d.kind.code: d for d in qrequest.current_documents()}


@officer_required
def qualification_list():
    requests_ = list(
        QualificationRequest.select()
        .where(QualificationRequest.officer == g.account.id)
        .order_by(QualificationRequest.created_at.desc())
    )
    return render_template("officer/qualification_list.html", requests=requests_, officer=g.account)


@officer_required
def qualification_new():
    officer = g.account
    if officer.is_qualified:
        flash(_("You are already qualified."), "info")
        return redirect(url_for("officer_site.qualification_list"))
    current = quals.open_request(officer)
    if current is not None and current.status != "draft":
        return redirect(url_for("officer_site.qualification_detail", request_id=current.id))
    form = ActionForm()
    upload_errors = {}
    if form.validate_on_submit():
        action = request.form.get("action", "save")
        qrequest = current or quals.start_request(officer, g.actor)
        try:
            upload_errors = store_uploads(qrequest, quals.attach_document)
            if action == "submit":
                upload_errors = _with_missing_documents(qrequest, upload_errors)
            if action == "submit" and not upload_errors:
                qrequest.apply("submit", g.actor)
                flash(
                    _("Your request was sent to %(university)s for review.", university=qrequest.university.name),
                    "success",
                )
                return redirect(url_for("officer_site.qualification_detail", request_id=qrequest.id))
        except models.DomainError as error:
            show_error(form, error)
        if not upload_errors and not form.errors:
            flash(_("Your draft was saved. You can come back and finish it later."), "success")
            return redirect(url_for("officer_site.qualification_new"))
        current = qrequest
    place_form = PlaceForm(province=str(officer.province_id), city=str(officer.city_id))
    place_form.fill_places()
    status = 422 if (upload_errors or form.errors) else 200
    return render_template(
        "officer/qualification_new.html",
        officer=officer,
        qrequest=current,
        kinds=models.document_kinds(),
        upload_errors=upload_errors,
        form=form,
        place_form=place_form,
        documents=_documents_by_kind(current),
    ), status


@officer_required
def qualification_place():
    """Before the first approval: correct the province and city the request is routed by."""
    form = PlaceForm()
    form.fill_places()
    if form.validate_on_submit():
        with refusals_flashed():
            models.update_place_before_qualification(g.account, request.form.to_dict(), g.actor)
            flash(
                _(
                    "Your province and city were saved. Your request will be reviewed by %(university)s.",
                    university=g.account.reviewing_university().name,
                ),
                "success",
            )
    return redirect(url_for("officer_site.qualification_new"))


@officer_required
def qualification_detail(request_id):
    qrequest = _own_request(request_id)
    form = ActionForm()
    upload_errors = {}
    if form.validate_on_submit() and request.form.get("action") == "withdraw":
        with refusals_flashed():
            qrequest.apply("withdraw", g.actor)
            flash(_("Your request was withdrawn. You may change your information and file a new request."), "success")
        return redirect(url_for("officer_site.qualification_detail", request_id=qrequest.id))
    if form.validate_on_submit():
        action = request.form.get("action", "")
        try:
            upload_errors = (
                store_uploads(qrequest, quals.attach_document) if quals.can_change_documents(qrequest, g.actor) else {}
            )
            if action in ("submit", "resubmit") and quals.can_change_documents(qrequest, g.actor):
                upload_errors = _with_missing_documents(qrequest, upload_errors)
            if action in ("submit", "resubmit") and not upload_errors:
                qrequest.apply(action, g.actor, note=request.form.get("comment", ""))
                # A first submission is not "sent back": only a resubmission is.
                sent = (
                    _("Your request was sent back to the reviewer.")
                    if action == "resubmit"
                    else _("Your request was sent to the university for review.")
                )
                flash(sent, "success")
                return redirect(url_for("officer_site.qualification_detail", request_id=qrequest.id))
        except models.DomainError as error:
            show_error(form, error)
        if not upload_errors and not form.errors:
            flash(_("Your changes were saved."), "success")
            return redirect(url_for("officer_site.qualification_detail", request_id=qrequest.id))
    status = 422 if (upload_errors or form.errors) else 200
    return render_template(
        "officer/qualification_detail.html",
        qrequest=qrequest,
        history=list(qrequest.history()),
        documents=_documents_by_kind(qrequest),
        kinds=models.document_kinds(),
        form=form,
        upload_errors=upload_errors,
        can_fix=quals.can_change_documents(qrequest, g.actor),
        can_withdraw="withdraw" in qrequest.allowed_actions(g.actor),
    ), status


@officer_required
def document(document_id):
    found = models.Document.get_or_none((models.Document.id == document_id) & (models.Document.officer == g.account.id))
    if found is None:
        deny(404)
    return send_document(found, inline=False)
