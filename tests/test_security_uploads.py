"""Hostile uploads and downloads: bodies over the limit, disguised and polyglot files, path-like
names, download headers and path tricks.

Checklist items 22-26 (see SECURITY.md); the rest of 22-25 is in test_qualification_web.py
and test_storage.py.
"""

from __future__ import annotations

import io
import os
from pathlib import Path

import models
from helpers import (
    JPEG_BYTES,
    MINIMAL_PDF,
    ROOT,
    UUID_NAME,
    documents_payload,
    files_under,
    login,
    png_bytes,
    registration_data,
    staff_client_for,
)

# ---------------------------------------------------------------------- 22: body size


def multipart(fields: dict, files: dict) -> tuple[bytes, str]:
    boundary = "----securitytestboundary"
    parts = []
    for name, value in fields.items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode())
    for name, (content, filename) in files.items():
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
            f"Content-Type: application/pdf\r\n\r\n".encode()
            + content
            + b"\r\n"
        )
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def test_body_of_max_content_length_plus_one_is_413_with_nothing_left(app, officer_client, dbc):
    body, content_type = multipart({"action": "save"}, {"doc_degree": (MINIMAL_PDF + b"0" * 4000, "a.pdf")})
    app.config["MAX_CONTENT_LENGTH"] = len(body) - 1
    response = officer_client.post("/officer/qualification/new", data=body, content_type=content_type)
    assert response.status_code == 413
    assert "۵ مگابایت" in response.get_data(as_text=True) or "5 MB" in response.get_data(as_text=True)
    assert models.Document.select().count() == 0 and models.QualificationRequest.select().count() == 0
    assert files_under(app.config["UPLOAD_DIR"]) == []
    # Exactly the limit is accepted.
    app.config["MAX_CONTENT_LENGTH"] = len(body)
    assert officer_client.post("/officer/qualification/new", data=body, content_type=content_type).status_code == 302
    assert models.Document.select().count() == 1


def test_oversized_form_fields_are_413(app, client, dbc):
    # A multipart text field over MAX_FORM_MEMORY_SIZE (1 MB)...
    response = client.post(
        "/officer/register", content_type="multipart/form-data", data=registration_data(address="ا" * (600 * 1024))
    )
    assert response.status_code == 413
    # ...and a url-encoded body over MAX_CONTENT_LENGTH (Werkzeug applies only that one to it).
    app.config["MAX_CONTENT_LENGTH"] = 64 * 1024
    response = client.post("/officer/register", data=registration_data(address="ا" * (64 * 1024)))
    assert response.status_code == 413
    assert models.Officer.select().count() == 0


# ---------------------------------------------------------------------- 23, 24: upload content and names

DISGUISED = [
    (b"<!DOCTYPE html><html><script>alert(1)</script></html>", "scan.jpg"),
    (b"\xef\xbb\xbf<html><body onload=alert(1)>", "report.pdf"),
    (b"<svg xmlns='http://www.w3.org/2000/svg' onload='alert(1)'/>", "photo.png"),
    (b"<?xml version='1.0'?><svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>", "a.pdf"),
    (JPEG_BYTES[:20] + b"<script>alert(1)</script>" + JPEG_BYTES[20:], "polyglot.jpg"),
    (png_bytes()[:33] + b"<svg onload=alert(1)>" + png_bytes()[33:], "polyglot.png"),
    (b"GIF89a\x01\x00\x01\x00\x00\x00\x00;", "anim.gif"),
    (b"  %PDF-1.4 leading spaces", "space.pdf"),
    (b"PK\x03\x04 a zip or docx", "cv.docx"),
    (b"\x89PNG\r\n\x1a\n" + b"\x00" * 20, "no-ihdr.png"),
]


def test_disguised_and_polyglot_uploads_are_refused_on_every_upload_route(app, make_officer, dbc):
    officer = make_officer()
    qualified = make_officer(qualified=True)
    first, second = app.test_client(), app.test_client()
    login(first, "/officer/login", officer.user_code)
    login(second, "/officer/login", qualified.user_code)
    for content, name in DISGUISED:
        r1 = first.post(
            "/officer/qualification/new",
            content_type="multipart/form-data",
            data={"action": "save", "doc_photo": (io.BytesIO(content), name)},
        )
        r2 = second.post(
            "/officer/edit-requests/new",
            content_type="multipart/form-data",
            data={"action": "submit", "doc_degree": (io.BytesIO(content), name)},
        )
        assert (r1.status_code, r2.status_code) == (422, 422), name
    assert models.Document.select().count() == 0 and models.EditRequest.select().count() == 0
    assert files_under(app.config["UPLOAD_DIR"]) == []
    # The real thing, for contrast, is accepted.
    r = first.post(
        "/officer/qualification/new",
        content_type="multipart/form-data",
        data={"action": "save", "doc_photo": (io.BytesIO(JPEG_BYTES), "photo.jpg")},
    )
    assert r.status_code == 302 and len(files_under(app.config["UPLOAD_DIR"])) == 1


def test_path_names_are_only_labels_and_a_drafts_replaced_file_goes(app, officer_client, dbc, tmp_path):
    upload_dir = Path(app.config["UPLOAD_DIR"])
    for name, kind in (
        ("../../x.pdf", "degree"),
        ("..\\..\\x.pdf", "national_card"),
        ("/etc/passwd.pdf", "id_booklet"),
        ("مدرک.pdf", "other"),
        ("مدرک.pdf", "other"),
    ):
        response = officer_client.post(
            "/officer/qualification/new",
            content_type="multipart/form-data",
            data={"action": "save", f"doc_{kind}": (io.BytesIO(MINIMAL_PDF), name)},
        )
        assert response.status_code == 302
    documents = list(models.Document.select().order_by(models.Document.id))
    names = [d.display_name for d in documents]
    # (the test client's multipart encoder turns "..\\x" into "....x": a label either way)
    # The second مدرک.pdf replaced the first in the draft: no reviewer saw it, so it went (M4).
    assert names[0] == "x.pdf" and names[1].endswith("x.pdf") and names[2:] == ["passwd.pdf", "مدرک.pdf"]
    assert not any("/" in n or "\\" in n for n in names)
    assert all(UUID_NAME.fullmatch(d.storage_name) for d in documents)
    assert len({d.storage_name for d in documents}) == 4
    stored = sorted(os.path.relpath(f, upload_dir) for f in files_under(upload_dir))
    assert stored == sorted(d.storage_name for d in documents)  # the replaced file is gone too
    for outside in (upload_dir.parent / "x.pdf", upload_dir.parent.parent / "x.pdf", ROOT / "x.pdf"):
        assert not outside.exists()


# ---------------------------------------------------------------------- 25: download headers


def test_download_headers(app, officer_client, make_staff, dbc):
    officer_client.post(
        "/officer/qualification/new",
        content_type="multipart/form-data",
        data={"action": "submit", **documents_payload()},
    )
    pdf = models.Document.get(models.Document.content_type == "application/pdf")
    jpeg = models.Document.get(models.Document.content_type == "image/jpeg")
    models.Document.update(display_name='a"\r\nX-Injected: 1 مدرک.pdf').where(models.Document.id == pdf.id).execute()
    response = officer_client.get(f"/officer/documents/{pdf.id}")
    headers = response.headers
    assert response.status_code == 200
    assert headers["Content-Disposition"].startswith("attachment; ")
    assert "filename*=UTF-8''" in headers["Content-Disposition"]
    assert "%D9%85%D8%AF%D8%B1%DA%A9" in headers["Content-Disposition"]  # مدرک, percent-encoded
    assert "\r" not in headers["Content-Disposition"] and "X-Injected" not in headers
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Content-Type"] == "application/pdf"
    assert (
        "sandbox" in headers["Content-Security-Policy"] and "default-src 'none'" in headers["Content-Security-Policy"]
    )
    assert "no-store" in headers["Cache-Control"]
    # A row whose type is not one of the three accepted (a legacy import, a tampered row)
    # is served as a download of bytes, never as HTML.
    models.Document.update(content_type="text/html").where(models.Document.id == jpeg.id).execute()
    response = officer_client.get(f"/officer/documents/{jpeg.id}")
    assert response.headers["Content-Type"] == "application/octet-stream"
    assert response.headers["Content-Disposition"].startswith("attachment")
    # Staff: attachments, inline images and inline PDFs all keep the sandbox (finding I5).
    reviewer = staff_client_for(app, make_staff("university"))
    models.Document.update(content_type="image/jpeg").where(models.Document.id == jpeg.id).execute()
    # An inline PDF is a picture of its first page (I5: tests/test_attack_uploads.py).
    for doc, inline, served in (
        (pdf, "", "application/pdf"),
        (jpeg, "&inline=1", "image/jpeg"),
        (pdf, "&inline=1", "image/png"),
    ):
        response = reviewer.get(f"/admin/qualification/document/?doc={doc.id}{inline}")
        assert response.status_code == 200
        csp = response.headers["Content-Security-Policy"]
        assert "sandbox" in csp and "default-src 'none'" in csp
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Content-Type"] == served


# ---------------------------------------------------------------------- 26: path tricks

TRAVERSALS = [
    "/files/..%2f..%2fapp.db",
    "/files/../../instance/app.db",
    "/static/..%2f..%2finstance/app.db",
    "/static/..%2f..%2f..%2fapp.py",
    "/static/%2e%2e/%2e%2e/%2e%2e/app.py",
    "/static/../../app.py",
    "/static/..\\..\\app.py",
    "/admin/static/..%2f..%2f..%2fapp.py",
    "/static//etc/passwd",
    "/officer/documents/..%2f..",
    "/officer/documents/..%2f..%2finstance%2fapp.db",
    "/officer/documents/1%2f..%2f..%2fapp.db",
    "/instance/app.db",
    "/instance/secret_key",
    "/.git/config",
    "/app.py",
    "/.env",
]


def test_path_tricks_are_404(app, officer_client):
    for url in TRAVERSALS:
        # (Werkzeug answers "//" in a path with a 308 to the merged path, which is then a 404)
        response = officer_client.get(url, follow_redirects=True)
        assert response.status_code == 404, (url, response.status_code)
        body = response.data
        assert b"SQLite format" not in body and b"create_app" not in body and b"root:" not in body, url
