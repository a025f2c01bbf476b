"""Officer pages for edit requests: reviewed changes to the profile and documents."""
from __future__ import annotations

from flask import flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _

import models
from models import DomainError, EditRequest, ValidationFailed
from models import edit_requests as edits

from .forms import EditRequestForm
from .officer import bp, officer_required, profile_values
from .officer_requests import _document_kinds, discard, recorded_or_removed, save_uploaded_documents
from .web import apply_errors, domain_message, deny


def _own(request_id) -> EditRequest:
    found = EditRequest.find(g.actor, request_id)
    if found is None:
        deny(404)
    return found


def _submitted_fields() -> dict:
    # Only the fields an edit request may carry; national_code and birth_date are never read.
    return {name: request.form.get(name, "") for name in edits.EDITABLE_FIELDS if name in request.form}


@bp.route("/edit-requests/")
@officer_required
def edit_request_list():
    requests_ = list(EditRequest.visible_to(g.actor).order_by(EditRequest.created_at.desc()))
    return render_template("officer/edit_request_list.html", requests=requests_,
                           open_request=edits.open_edit_request(g.account))


@bp.route("/edit-requests/new", methods=["GET", "POST"])
@officer_required
def edit_request_new():
    officer = g.account
    if officer.can_edit_reviewed_fields_directly():
        flash(_("Until your first qualification is approved, edit your information directly."), "info")
        return redirect(url_for("officer_site.profile_edit"))
    existing = edits.open_edit_request(officer)
    if existing is not None:
        return redirect(url_for("officer_site.edit_request_detail", request_id=existing.id))
    form = EditRequestForm(**profile_values(officer)) if request.method == "GET" else EditRequestForm()
    form.fill_choices()
    upload_errors, general_errors = {}, []
    if form.validate_on_submit():
        uploads, upload_errors = save_uploaded_documents()
        if not upload_errors:
            try:
                created = []
                recorded_or_removed(uploads, lambda: created.append(
                    edits.file_edit_request(officer, g.actor, _submitted_fields(), uploads)))
            except ValidationFailed as failed:
                apply_errors(form, failed.errors)
            except DomainError as error:
                general_errors.append(domain_message(error))
            else:
                flash(_("Your edit request was sent to %(university)s.",
                        university=created[0].university.name), "success")
                return redirect(url_for("officer_site.edit_request_detail", request_id=created[0].id))
        else:
            discard(uploads)
    failed = bool(form.errors or upload_errors or general_errors)
    return render_template("officer/edit_request_new.html", form=form, officer=officer,
                           policy=models.FIELD_POLICY, kinds=_document_kinds(), documents={},
                           upload_errors=upload_errors, general_errors=general_errors), (422 if failed else 200)


@bp.route("/edit-requests/<int:request_id>", methods=["GET", "POST"])
@officer_required
def edit_request_detail(request_id):
    edit = _own(request_id)
    form = EditRequestForm(**profile_values(g.account)) if request.method == "GET" else EditRequestForm()
    form.fill_choices()
    upload_errors, general_errors = {}, []
    if form.validate_on_submit() and request.form.get("action") == "resubmit":
        uploads, upload_errors = save_uploaded_documents()
        if upload_errors:
            discard(uploads)
        else:
            try:
                recorded_or_removed(uploads, lambda: edits.revise(edit, g.actor, _submitted_fields(), uploads))
                edit.apply("resubmit", g.actor, note=request.form.get("comment", ""))
            except ValidationFailed as failed:
                apply_errors(form, failed.errors)
            except DomainError as error:
                general_errors.append(domain_message(error))
            else:
                flash(_("Your request was sent back to the reviewer."), "success")
                return redirect(url_for("officer_site.edit_request_detail", request_id=edit.id))
    failed = bool(form.errors or upload_errors or general_errors)
    return render_template("officer/edit_request_detail.html", edit=edit, form=form,
                           history=list(edit.history()), kinds=_document_kinds(),
                           documents={d.kind.code: d for d in edit.current_documents()},
                           upload_errors=upload_errors, general_errors=general_errors,
                           comparison=edit.comparison()), (422 if failed else 200)
