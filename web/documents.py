"""Documents on both doors: the app's document store, storing uploads before the rows that
name them, and serving a stored document so that no browser runs it."""

from __future__ import annotations

from flask import current_app, g, request, send_file

import models
import storage

from .errors import domain_message
from .security import deny, format_policy, parse_policy


def get_store() -> storage.DocumentStore:
    """The document store of this app (created once per app)."""
    store = current_app.extensions.get("documents")
    if store is None:
        store = current_app.extensions["documents"] = storage.DocumentStore(current_app.config["UPLOAD_DIR"])
    return store


def save_uploaded_documents() -> tuple[list, dict]:
    """Store each uploaded ``doc_<code>`` file; return ([(code, stored)], {code: error}).

    A refused file (its content is not a PDF, JPEG or PNG; too large) is an error of its
    kind; a failing disk removes what was stored and raises ``StorageUnavailable``."""
    uploads, errors = [], {}
    store = get_store()
    for kind in models.document_kinds():
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


def store_uploads(owner, attach) -> dict:
    """Save the uploaded files and attach them (``attach(owner, actor, code, stored)``);
    return {code: error}. A file is on disk (fsynced) before its row commits."""
    uploads, errors = save_uploaded_documents()
    replaced = []

    def record():
        # All or nothing: a quota refusing the third file leaves no row of the first two.
        with models.db.atomic():
            for code, stored in uploads:
                document = attach(owner, g.actor, code, stored)
                replaced.extend(getattr(document, "removed_storage_names", ()))

    recorded_or_removed(uploads, record)
    # A draft's replaced file: its row is gone, so is the file (``sweep-documents`` would
    # find it later anyway).
    for storage_name in replaced:
        get_store().delete(storage_name)
    return errors


def send_document(document, inline: bool):
    """Stream a stored document with headers that stop a browser from running it; a page
    of this site may frame it (the review page shows documents side by side)."""
    try:
        handle = get_store().open(document.storage_name)
    except FileNotFoundError:
        deny(404)
    response = send_file(handle, mimetype=document.content_type, as_attachment=False, max_age=0, conditional=False)
    response.headers.update(storage.safe_headers(document.content_type))
    response.headers["Content-Disposition"] = storage.content_disposition(document.display_name, inline=inline)
    policy = parse_policy(response.headers["Content-Security-Policy"])
    if inline and document.content_type == "application/pdf":
        # Chromium refuses to render a PDF inside a sandboxed CSP; uploads are
        # already refused when they also look like HTML, and nosniff stays.
        policy.pop("sandbox", None)
    policy["frame-ancestors"] = ("'self'",)
    response.headers["Content-Security-Policy"] = format_policy(policy)
    response.headers["X-Frame-Options"] = "SAMEORIGIN"
    return response
