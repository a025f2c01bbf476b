"""Qualification pages, uploads, documents and the cartable, through HTTP."""

import io

import pytest

import models
from helpers import MINIMAL_PDF, documents_payload, staff_client_for

TEHRAN = "دانشگاه علوم پزشکی تهران"
ISFAHAN = "دانشگاه علوم پزشکی اصفهان"


def submit_request(client):
    data = {"action": "submit", **documents_payload()}
    return client.post("/officer/qualification/new", data=data, content_type="multipart/form-data")


def test_new_request_page_names_the_reviewing_university(officer_client):
    html = officer_client.get("/officer/qualification/new").get_data(as_text=True)
    assert TEHRAN in html
    for code in ("degree", "national_card", "id_booklet", "photo", "other"):
        assert f'name="doc_{code}"' in html


def test_draft_keeps_its_files_between_visits(officer_client, dbc):
    data = {"action": "save", **documents_payload(("degree", "photo"))}
    response = officer_client.post("/officer/qualification/new", data=data, content_type="multipart/form-data")
    assert response.status_code == 302
    html = officer_client.get("/officer/qualification/new").get_data(as_text=True)
    assert 'data-document="degree"' in html and 'data-document="photo"' in html
    assert "مدرک degree.pdf" in html
    request = models.QualificationRequest.get()
    assert request.status == "draft"
    # Submitting without the rest is refused, with the missing kinds named.
    response = officer_client.post(
        "/officer/qualification/new", data={"action": "submit"}, content_type="multipart/form-data"
    )
    assert response.status_code == 422
    assert "کارت ملی" in response.get_data(as_text=True)


def test_submit_with_all_documents(officer_client, dbc, app):
    response = submit_request(officer_client)
    assert response.status_code == 302
    request = models.QualificationRequest.get()
    assert request.status == "submitted" and request.university.name == TEHRAN
    docs = list(request.current_documents())
    assert len(docs) == 4
    # Stored under generated names, the Persian name kept for display only.
    assert all(d.storage_name != d.display_name and "مدرک" not in d.storage_name for d in docs)
    assert {d.display_name for d in docs} >= {"مدرک degree.pdf", "عکس پرسنلی.jpg"}
    detail = officer_client.get(f"/officer/qualification/{request.id}").get_data(as_text=True)
    assert 'data-status="submitted"' in detail


@pytest.mark.parametrize(
    "content, name, message",
    [
        (b"<html><script>alert(1)</script></html>", "مدرک.pdf", "PDF"),
        (b"<svg xmlns='http://www.w3.org/2000/svg'/>", "photo.jpg", "PDF"),
        (b"", "empty.pdf", "خالی"),
        (b"%PDF-1.4 <html><script>x</script>", "polyglot.pdf", "PDF"),
    ],
)
def test_bad_uploads_are_refused_with_a_clear_message(officer_client, dbc, app, content, name, message):
    data = {"action": "save", "doc_degree": (io.BytesIO(content), name)}
    response = officer_client.post("/officer/qualification/new", data=data, content_type="multipart/form-data")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert message in html and 'role="alert"' in html
    assert models.Document.select().count() == 0
    store = app.config["UPLOAD_DIR"]
    import os

    assert not any(files for root, _dirs, files in os.walk(store) if not root.endswith("tmp"))


def test_oversized_document_is_refused(officer_client, dbc):
    big = MINIMAL_PDF + b"0" * (5 * 1024 * 1024)
    data = {"action": "save", "doc_degree": (io.BytesIO(big), "big.pdf")}
    response = officer_client.post("/officer/qualification/new", data=data, content_type="multipart/form-data")
    assert response.status_code == 422
    assert "۵ مگابایت" in response.get_data(as_text=True)
    assert models.Document.select().count() == 0


def test_body_over_the_limit_is_413(officer_client, app):
    app.config["MAX_CONTENT_LENGTH"] = 1024
    data = {"action": "save", "doc_degree": (io.BytesIO(MINIMAL_PDF * 100), "a.pdf")}
    response = officer_client.post("/officer/qualification/new", data=data, content_type="multipart/form-data")
    assert response.status_code == 413


def test_a_file_with_the_same_persian_name_replaces_the_drafts_file(officer_client, dbc):
    names = []
    for _ in range(2):
        officer_client.post(
            "/officer/qualification/new",
            content_type="multipart/form-data",
            data={"action": "save", "doc_degree": (io.BytesIO(MINIMAL_PDF), "مدرک تحصیلی.pdf")},
        )
        names.append(models.Document.select().order_by(models.Document.id.desc()).first().storage_name)
    # No reviewer saw the first file of the draft: its row and its file are gone (M4).
    docs = list(models.Document.select())
    assert len(docs) == 1 and docs[0].storage_name == names[1] != names[0]
    assert docs[0].superseded_at is None


def test_documents_are_served_only_to_their_owner(app, officer_client, make_officer, dbc):
    submit_request(officer_client)
    document = models.Document.select().first()
    response = officer_client.get(f"/officer/documents/{document.id}")
    assert response.status_code == 200 and response.data.startswith(b"%PDF")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert "filename*=UTF-8''" in response.headers["Content-Disposition"]
    other = make_officer()
    other_client = app.test_client()
    other_client.post("/officer/login", data={"username": other.user_code, "password": "Kh0sh-Amad-2024"})
    assert other_client.get(f"/officer/documents/{document.id}").status_code == 404
    assert app.test_client().get(f"/officer/documents/{document.id}").status_code == 302


def test_full_loop_through_the_back_office(app, officer_client, make_staff, dbc):
    submit_request(officer_client)
    request = models.QualificationRequest.get()
    reviewer = staff_client_for(app, make_staff("university", TEHRAN))
    listing = reviewer.get("/admin/qualification/").get_data(as_text=True)
    assert officer_client.officer.national_code in listing
    page = reviewer.get(f"/admin/qualification/review/?id={request.id}")
    assert page.status_code == 200
    assert officer_client.officer.national_code in page.get_data(as_text=True)
    response = reviewer.post(
        f"/admin/qualification/review/?id={request.id}",
        data={"decision": "deficiency", "note": "تصویر کارت ملی ناخواناست"},
    )
    assert response.status_code == 302
    detail = officer_client.get(f"/officer/qualification/{request.id}").get_data(as_text=True)
    assert "تصویر کارت ملی ناخواناست" in detail and 'data-status="deficient"' in detail
    response = officer_client.post(
        f"/officer/qualification/{request.id}",
        content_type="multipart/form-data",
        data={
            "action": "resubmit",
            "comment": "تصویر جدید",
            "doc_national_card": (io.BytesIO(MINIMAL_PDF), "کارت ملی جدید.pdf"),
        },
    )
    assert response.status_code == 302
    assert models.QualificationRequest.get_by_id(request.id).status == "submitted"
    response = reviewer.post(f"/admin/qualification/review/?id={request.id}", data={"decision": "approve"})
    assert response.status_code == 302
    assert models.Officer.get_by_id(officer_client.officer.id).is_qualified
    inbox = officer_client.get("/officer/messages/").get_data(as_text=True)
    assert inbox.count('data-status="unread"') == 2


def test_reviewer_of_another_university_sees_nothing(app, officer_client, make_staff, dbc):
    submit_request(officer_client)
    request = models.QualificationRequest.get()
    document = models.Document.select().first()
    other = staff_client_for(app, make_staff("university", ISFAHAN))
    assert officer_client.officer.national_code not in other.get("/admin/qualification/").get_data(as_text=True)
    assert other.get(f"/admin/qualification/details/?id={request.id}").status_code in (302, 404)
    assert other.get(f"/admin/qualification/review/?id={request.id}").status_code == 404
    assert other.get(f"/admin/qualification/document/?doc={document.id}").status_code == 404
    response = other.post(f"/admin/qualification/review/?id={request.id}", data={"decision": "approve"})
    assert response.status_code == 404
    export = other.get("/admin/qualification/export/csv/").get_data(as_text=True)
    assert officer_client.officer.national_code not in export
    assert models.QualificationRequest.get_by_id(request.id).status == "submitted"


def test_reviewer_sees_documents_inline_and_export_is_safe(app, officer_client, make_staff, dbc):
    submit_request(officer_client)
    request = models.QualificationRequest.get()
    reviewer = staff_client_for(app, make_staff("university", TEHRAN))
    document = models.Document.select().where(models.Document.content_type == "image/jpeg").first()
    response = reviewer.get(f"/admin/qualification/document/?doc={document.id}&inline=1")
    assert response.status_code == 200 and response.headers["Content-Disposition"].startswith("inline;")
    export = reviewer.get("/admin/qualification/export/csv/")
    body = export.get_data(as_text=True)
    assert body.startswith("\ufeff") and officer_client.officer.national_code in body
    assert str(request.id) in body


def test_drafts_are_not_in_the_reviewers_cartable(app, officer_client, make_staff, dbc):
    officer_client.post(
        "/officer/qualification/new",
        data={"action": "save", **documents_payload(("degree",))},
        content_type="multipart/form-data",
    )
    request = models.QualificationRequest.get()
    reviewer = staff_client_for(app, make_staff("university", TEHRAN))
    assert reviewer.get(f"/admin/qualification/review/?id={request.id}").status_code == 404


def test_province_can_be_corrected_before_first_approval(officer_client, dbc):
    isfahan_city = models.City.get(models.City.name == "اصفهان")
    response = officer_client.post(
        "/officer/qualification/place", data={"province": str(isfahan_city.province_id), "city": str(isfahan_city.id)}
    )
    assert response.status_code == 302
    html = officer_client.get("/officer/qualification/new").get_data(as_text=True)
    assert ISFAHAN in html
