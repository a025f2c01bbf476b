"""Errors the GOV.UK way, at request level: each field says what is wrong with it, in
Persian, at the field and in a summary whose items link to the fields, all in one round."""

import io
import re

import pytest

import models
from helpers import MINIMAL_PDF, PASSWORD, documents_payload, login, nominate_someone


def summary_items(html: str) -> list[tuple[str, str]]:
    """(href, text) of each link of the error summary, in order."""
    summary = html[html.index('id="error-summary"') :]
    summary = summary[: summary.index("</div>")]
    return [
        (href, re.sub(r"\s+", " ", text).strip()) for href, text in re.findall(r'<a href="([^"]+)">(.*?)</a>', summary)
    ]


def error_under(html: str, field_id: str) -> str:
    match = re.search(rf'<div id="{field_id}-error" class="form-error">(.*?)</div>', html, re.S)
    assert match, f"no error under {field_id}"
    return re.sub(r"<[^>]+>", "", match.group(1)).strip()


def test_an_empty_registration_names_every_field_in_the_order_of_the_page(client, dbc):
    response = client.post("/officer/register", data={"gender": ""})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    items = summary_items(html)
    hrefs = [href for href, _ in items]
    # The summary follows the page: national code and birth date first, the password last.
    assert hrefs[:4] == ["#national_code", "#birth_date", "#first_name", "#last_name"]
    assert hrefs[-1] == "#password"
    texts = dict(items)
    assert texts["#national_code"].endswith("کد ملی خود را وارد کنید.")
    assert texts["#mobile"].endswith("شماره همراه خود را وارد کنید.")
    assert texts["#postal_code"].endswith("کد پستی خود را وارد کنید.")
    assert "این فیلد الزامی است" not in html  # no generic "this field is required" on this form
    # The same words sit under the field, after a hidden «خطا:» for screen readers.
    assert error_under(html, "first_name") == "خطا: نام خود را وارد کنید."
    assert error_under(html, "father_name") == "خطا: نام پدر خود را وارد کنید."


def test_the_login_forms_say_what_is_missing(client, dbc):
    html = client.post("/officer/login", data={"username": "", "password": ""}).get_data(as_text=True)
    assert "کد کاربری یا کد ملی خود را وارد کنید." in html and "گذرواژه خود را وارد کنید." in html
    html = client.post("/distributor/login", data={"username": "", "password": ""}).get_data(as_text=True)
    assert "نام کاربری خود را وارد کنید." in html


def test_password_change_reports_every_mistake_specifically(officer_client):
    response = officer_client.post(
        "/officer/password", data={"current_password": "", "new_password": "", "new_password_confirm": "x"}
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    hrefs = [href for href, _ in summary_items(html)]
    assert hrefs == ["#current_password", "#new_password", "#new_password_confirm"]
    assert "گذرواژه فعلی خود را وارد کنید." in html
    assert "گذرواژه‌ای انتخاب کنید" in html


def test_submitting_without_documents_marks_each_missing_one_at_its_field(officer_client, dbc):
    files = {"doc_degree": (io.BytesIO(b"not a pdf at all"), "degree.pdf")}
    response = officer_client.post(
        "/officer/qualification/new", data={"action": "submit", **files}, content_type="multipart/form-data"
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    hrefs = [href for href, _ in summary_items(html)]
    # The refused file and the three documents not attached, in one round, in the page's order.
    assert hrefs == ["#doc_degree", "#doc_national_card", "#doc_id_booklet", "#doc_photo"]
    assert "عکس پرسنلی را پیوست کنید." in error_under(html, "doc_photo")
    assert 'id="doc_photo"' in html and "doc_photo-error" in html
    assert models.QualificationRequest.get().status == "draft"


def test_a_complete_submission_still_goes_through(officer_client, dbc):
    response = officer_client.post(
        "/officer/qualification/new",
        data={"action": "submit", **documents_payload()},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    assert models.QualificationRequest.get().status == "submitted"


def test_resubmitting_a_request_missing_a_document_marks_it(officer_client, dbc):
    officer_client.post(
        "/officer/qualification/new",
        data={"action": "save", "doc_degree": (io.BytesIO(MINIMAL_PDF), "d.pdf")},
        content_type="multipart/form-data",
    )
    qrequest = models.QualificationRequest.get()
    response = officer_client.post(f"/officer/qualification/{qrequest.id}", data={"action": "submit"})
    assert response.status_code == 422
    hrefs = [href for href, _ in summary_items(response.get_data(as_text=True))]
    assert hrefs == ["#doc_national_card", "#doc_id_booklet", "#doc_photo"]


def test_an_empty_nomination_asks_for_the_national_code(app, make_officer, dbc):
    cooperation = nominate_someone(make_officer)
    client = app.test_client()
    assert login(client, "/distributor/login", "pakhsh", PASSWORD).status_code == 302
    response = client.post(f"/distributor/branches/{cooperation.branch_id}/nominate", data={"national_code": ""})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert summary_items(html)[0][0] == "#national_code"
    assert "کد ملی مسئول فنی مورد نظر را وارد کنید." in html


@pytest.mark.parametrize("qualified", [False, True])
def test_the_profile_edit_page_names_its_groups(app, make_officer, qualified):
    officer = make_officer(qualified=qualified)
    client = app.test_client()
    assert login(client, "/officer/login", officer.user_code).status_code == 302
    html = client.get("/officer/profile/edit").get_data(as_text=True)
    assert "اطلاعات تماس و شخصی" in html and "بی‌درنگ و بدون بررسی" in html
    if qualified:
        # After approval only the free fields are here, and the page says where the rest change.
        assert "ویرایش اطلاعات تماس" in html and 'href="/officer/edit-requests/new"' in html
        assert "همراه درخواست شما بررسی" not in html
    else:
        assert "همراه درخواست شما بررسی" in html and 'name="first_name"' in html
