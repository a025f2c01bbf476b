"""The officer's edit requests: reviewed changes to the profile and the documents."""

from __future__ import annotations

from flask import flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _

import models
from models import EditRequest
from models import edit_requests as edits
from web.documents import discard, recorded_or_removed, save_uploaded_documents
from web.errors import refusals_flashed, show_error
from web.extensions import identity_checker
from web.forms import ActionForm
from web.security import deny

from ..forms import EditRequestForm, officer_form_data
from .access import officer_required


def _own(request_id) -> EditRequest:
    found = EditRequest.find(g.actor, request_id)
    if found is None:
        deny(404)
    return found


def _submitted_fields() -> dict:
    # Only the fields an edit request may carry; national_code and birth_date are never read.
    return {name: request.form.get(name, "") for name in edits.EDITABLE_FIELDS if name in request.form}


def _form(officer) -> EditRequestForm:
    form = EditRequestForm(**officer_form_data(officer)) if request.method == "GET" else EditRequestForm()
    form.fill_choices()
    return form


@officer_required
def edit_request_list():
    requests_ = list(EditRequest.visible_to(g.actor).order_by(EditRequest.created_at.desc()))
    return render_template(
        "officer/edit_request_list.html", requests=requests_, open_request=edits.open_edit_request(g.account)
    )


@officer_required
def edit_request_new():
    officer = g.account
    if officer.can_edit_reviewed_fields_directly():
        flash(_("Until your first qualification is approved, edit your information directly."), "info")
        return redirect(url_for("officer_site.profile_edit"))
    existing = edits.open_edit_request(officer)
    if existing is not None:
        return redirect(url_for("officer_site.edit_request_detail", request_id=existing.id))
    form = _form(officer)
    upload_errors = {}
    if form.validate_on_submit():
        uploads, upload_errors = save_uploaded_documents()
        if upload_errors:
            discard(uploads)
        else:
            try:
                created = []
                recorded_or_removed(
                    uploads,
                    lambda: created.append(
                        edits.file_edit_request(officer, g.actor, _submitted_fields(), uploads, identity_checker())
                    ),
                )
            except models.DomainError as error:
                show_error(form, error)
            else:
                flash(
                    _("Your edit request was sent to %(university)s.", university=created[0].university.name), "success"
                )
                return redirect(url_for("officer_site.edit_request_detail", request_id=created[0].id))
    failed = bool(form.errors or upload_errors)
    return render_template(
        "officer/edit_request_new.html",
        form=form,
        officer=officer,
        kinds=models.document_kinds(),
        documents={},
        upload_errors=upload_errors,
    ), (422 if failed else 200)


@officer_required
def edit_request_detail(request_id):
    edit = _own(request_id)
    form = _form(g.account)
    upload_errors = {}
    if request.form.get("action") == "withdraw" and ActionForm().validate_on_submit():
        with refusals_flashed():
            edit.apply("withdraw", g.actor)
            flash(_("Your edit request was withdrawn."), "success")
        return redirect(url_for("officer_site.edit_request_detail", request_id=edit.id))
    if form.validate_on_submit() and request.form.get("action") == "resubmit":
        uploads, upload_errors = save_uploaded_documents()
        if upload_errors:
            discard(uploads)
        else:
            try:
                recorded_or_removed(
                    uploads, lambda: edits.revise(edit, g.actor, _submitted_fields(), uploads, identity_checker())
                )
                edit.apply("resubmit", g.actor, note=request.form.get("comment", ""))
            except models.DomainError as error:
                show_error(form, error)
            else:
                flash(_("Your request was sent back to the reviewer."), "success")
                return redirect(url_for("officer_site.edit_request_detail", request_id=edit.id))
    failed = bool(form.errors or upload_errors)
    return render_template(
        "officer/edit_request_detail.html",
        edit=edit,
        form=form,
        history=list(edit.history()),
        kinds=models.document_kinds(),
        documents={d.kind.code: d for d in edit.current_documents()},
        upload_errors=upload_errors,
        comparison=edit.comparison(),
        can_withdraw="withdraw" in edit.allowed_actions(g.actor),
    ), (422 if failed else 200)
