"""Officer pages for qualification requests and their documents."""

from __future__ import annotations

from flask import flash, g, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _

import models
import storage
from models import DomainError, QualificationRequest, ValidationFailed
from models import qualification as quals

from .forms import ActionForm, PlaceForm
from .officer import bp, officer_required
from .web import apply_errors, deny, domain_message, get_store


def _own_request(request_id) -> QualificationRequest:
    found = models.qualification.own_request(g.account, request_id)
    if found is None:
        deny(404)
    return found


def _document_kinds():
    return models.document_kinds()


def save_uploaded_documents() -> tuple[list, dict]:
    """Store each uploaded ``doc_<code>`` file; return ([(code, stored)], {code: error})."""
    uploads, errors = [], {}
    store = get_store()
    for kind in _document_kinds():
        upload = request.files.get(f"doc_{kind.code}")
        if upload is None or not upload.filename:
            continue
        try:
            uploads.append((kind.code, store.save(upload.stream, upload.filename)))
        except storage.UploadRejected as error:
            errors[kind.code] = domain_message(error)
        except storage.StorageUnavailable:
            discard(uploads)
            raise
    return uploads, errors


def discard(uploads) -> None:
    """Remove stored files whose rows will not be written."""
    for _code, stored in uploads:
        get_store().delete(stored.storage_name)


def recorded_or_removed(uploads, record) -> None:
    """Run ``record`` (which writes the rows naming the files); if it fails, remove the
    files so that neither a row nor a file is left alone."""
    try:
        record()
    except Exception:
        discard(uploads)
        raise


def store_uploads(qrequest, attach) -> dict:
    """Save the uploaded files and attach them to a request; return {code: error}.

    A file is on disk (fsynced) before its row commits."""
    uploads, errors = save_uploaded_documents()

    def record():
        for code, stored in uploads:
            attach(qrequest, g.actor, code, stored)

    recorded_or_removed(uploads, record)
    return errors


@bp.route("/qualification/")
@officer_required
def qualification_list():
    requests_ = list(
        QualificationRequest.select()
        .where(QualificationRequest.officer == g.account.id)
        .order_by(QualificationRequest.created_at.desc())
    )
    return render_template("officer/qualification_list.html", requests=requests_, officer=g.account)


@bp.route("/qualification/new", methods=["GET", "POST"])
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
    upload_errors, general_errors = {}, []
    if form.validate_on_submit():
        action = request.form.get("action", "save")
        qrequest = current or quals.start_request(officer, g.actor)
        try:
            upload_errors = store_uploads(qrequest, quals.attach_document)
            if action == "submit" and not upload_errors:
                qrequest.apply("submit", g.actor)
                flash(
                    _("Your request was sent to %(university)s for review.", university=qrequest.university.name),
                    "success",
                )
                return redirect(url_for("officer_site.qualification_detail", request_id=qrequest.id))
        except DomainError as error:
            general_errors.append(domain_message(error))
        if not upload_errors and not general_errors:
            flash(_("Your draft was saved. You can come back and finish it later."), "success")
            return redirect(url_for("officer_site.qualification_new"))
        current = qrequest
    place_form = PlaceForm(province=str(officer.province_id), city=str(officer.city_id))
    place_form.fill_places()
    status = 422 if (upload_errors or general_errors) else 200
    return render_template(
        "officer/qualification_new.html",
        officer=officer,
        qrequest=current,
        kinds=_document_kinds(),
        upload_errors=upload_errors,
        general_errors=general_errors,
        form=form,
        place_form=place_form,
        documents=_documents_by_kind(current),
    ), status


def _documents_by_kind(qrequest):
    if qrequest is None:
        return {}
    return {d.kind.code: d for d in qrequest.current_documents()}


@bp.route("/qualification/place", methods=["POST"])
@officer_required
def qualification_place():
    form = PlaceForm()
    form.fill_places()
    if form.validate_on_submit():
        try:
            models.update_place_before_qualification(g.account, request.form.to_dict(), g.actor)
        except ValidationFailed as failed:
            apply_errors(form, failed.errors)
            for field in (form.province, form.city):
                for message in field.errors:
                    flash(message, "danger")
        except DomainError as error:
            flash(domain_message(error), "danger")
        else:
            flash(
                _(
                    "Your province and city were saved. Your request will be reviewed by %(university)s.",
                    university=g.account.reviewing_university().name,
                ),
                "success",
            )
    return redirect(url_for("officer_site.qualification_new"))


@bp.route("/qualification/<int:request_id>", methods=["GET", "POST"])
@officer_required
def qualification_detail(request_id):
    qrequest = _own_request(request_id)
    form = ActionForm()
    upload_errors, general_errors = {}, []
    if form.validate_on_submit():
        action = request.form.get("action", "")
        try:
            upload_errors = (
                store_uploads(qrequest, quals.attach_document) if quals.can_change_documents(qrequest, g.actor) else {}
            )
            if action in ("submit", "resubmit") and not upload_errors:
                qrequest.apply(action, g.actor, note=request.form.get("comment", ""))
                flash(_("Your request was sent back to the reviewer."), "success")
                return redirect(url_for("officer_site.qualification_detail", request_id=qrequest.id))
        except DomainError as error:
            general_errors.append(domain_message(error))
        if not upload_errors and not general_errors:
            flash(_("Your changes were saved."), "success")
            return redirect(url_for("officer_site.qualification_detail", request_id=qrequest.id))
    status = 422 if (upload_errors or general_errors) else 200
    return render_template(
        "officer/qualification_detail.html",
        qrequest=qrequest,
        history=list(qrequest.history()),
        documents=_documents_by_kind(qrequest),
        kinds=_document_kinds(),
        form=form,
        upload_errors=upload_errors,
        general_errors=general_errors,
        can_fix=quals.can_change_documents(qrequest, g.actor),
    ), status


@bp.route("/documents/<int:document_id>")
@officer_required
def document(document_id):
    found = models.Document.get_or_none((models.Document.id == document_id) & (models.Document.officer == g.account.id))
    if found is None:
        deny(404)
    return send_document(found, inline=False)


def send_document(document, inline: bool):
    """Stream a stored document with headers that stop a browser from running it."""
    try:
        handle = get_store().open(document.storage_name)
    except FileNotFoundError:
        deny(404)
    response = send_file(handle, mimetype=document.content_type, as_attachment=False, max_age=0, conditional=False)
    response.headers.update(storage.safe_headers(document.content_type))
    response.headers["Content-Disposition"] = storage.content_disposition(document.display_name, inline=inline)
    if inline and document.content_type == "application/pdf":
        # Chromium refuses to render a PDF inside a sandboxed CSP; uploads are
        # already refused when they also look like HTML, and nosniff stays.
        response.headers["Content-Security-Policy"] = "default-src 'none'; frame-ancestors 'self'"
    else:
        response.headers["Content-Security-Policy"] += "; frame-ancestors 'self'"
    response.headers["X-Frame-Options"] = "SAMEORIGIN"
    return response
