"""Documents on both doors: the app's document store, storing uploads before the rows that
name them, and serving a stored document so that no browser runs it."""

from __future__ import annotations

from flask import Response, current_app, g, request, send_file

import models
import pdf_previews
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


def preview_pages(document) -> int:
    """How many page pictures the review page shows for a PDF (0: no preview, the
    reviewer downloads the file)."""
    try:
        return pdf_previews.page_count(get_store().path_for(document.storage_name))
    except (pdf_previews.NoPreview, OSError):
        return 0


def send_document(document, inline: bool):
    """Stream a stored document with headers that stop a browser from running it; a page
    of this site may frame it (the review page shows documents side by side).

    An inline PDF is never sent as a PDF (finding I5): the browser's viewer ignores the
    sandbox, so ``?page=N`` gets a picture of that page drawn on the server
    (``pdf_previews``). Everything keeps the bare ``sandbox`` of ``storage.safe_headers``."""
    if inline and document.content_type == "application/pdf":
        return _send_page_picture(document, request.args.get("page", 1, type=models.parse_id))
    try:
        handle = get_store().open(document.storage_name)
    except FileNotFoundError:
        deny(404)
    response = send_file(handle, mimetype=document.content_type, as_attachment=False, max_age=0, conditional=False)
    return _framed(response, document.display_name, inline)


def _send_page_picture(document, number):
    try:
        picture = pdf_previews.render_page(get_store().path_for(document.storage_name), number or 0)
    except (pdf_previews.NoPreview, OSError):
        deny(404)
    response = Response(picture, mimetype="image/png")
    return _framed(response, f"{document.display_name}-{number}.png", inline=True)


def _framed(response, display_name, inline):
    response.headers.update(storage.safe_headers(response.mimetype))
    response.headers["Content-Disposition"] = storage.content_disposition(display_name, inline=inline)
    policy = parse_policy(response.headers["Content-Security-Policy"])
    policy["frame-ancestors"] = ("'self'",)
    response.headers["Content-Security-Policy"] = format_policy(policy)
    response.headers["X-Frame-Options"] = "SAMEORIGIN"
    return response
