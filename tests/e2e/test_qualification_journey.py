"""A qualification request goes round the deficiency loop, officer and reviewer each in
their own browser: submit, deficiency, fix and resubmit, approve."""

import re

import pytest
from playwright.sync_api import expect

import models
from browser import assert_accessible, assert_no_dialogs, make_staff, officer_login, staff_login
from helpers import JPEG_BYTES, MINIMAL_PDF

pytestmark = pytest.mark.e2e

NOTE = "تصویر کارت ملی ناخواناست؛ لطفاً تصویر واضح‌تری بفرستید."
COMMENT = "تصویر جدید کارت ملی پیوست شد."


@pytest.fixture
def documents(tmp_path):
    """Real files with Persian names, as an applicant would pick them."""
    folder = tmp_path / "uploads"
    folder.mkdir()
    files = {
        "degree": ("مدرک تحصیلی.pdf", MINIMAL_PDF),
        "national_card": ("کارت ملی.pdf", MINIMAL_PDF),
        "id_booklet": ("شناسنامه.pdf", MINIMAL_PDF),
        "photo": ("عکس پرسنلی.jpg", JPEG_BYTES),
        "replacement": ("کارت ملی جدید.pdf", MINIMAL_PDF),
    }
    paths = {}
    for kind, (name, content) in files.items():
        path = folder / name
        path.write_bytes(content)
        paths[kind] = path
    return paths


def test_deficiency_loop_in_the_browser(page, second_page, live_server, make_officer, documents, shot, dialogs):
    base = live_server
    officer = make_officer()  # lives in Tehran: reviewed by Tehran's university
    make_staff("reviewer1", "university", full_name="بازبین تهران")

    # --- the officer files the request with four documents
    officer_login(page, base, officer.user_code)
    page.goto(base + "/officer/qualification/new")
    expect(page.locator("#reviewing-university")).to_contain_text("دانشگاه علوم پزشکی تهران")
    for kind in ("degree", "national_card", "id_booklet", "photo"):
        page.set_input_files(f"input[name=doc_{kind}]", str(documents[kind]))
    shot(page, "01-new-request")
    assert_accessible(page, "new qualification request")
    with page.expect_navigation():
        page.click("button[name=action][value=submit]")
    match = re.search(r"/officer/qualification/(\d+)$", page.url)
    assert match, page.url
    request_id = int(match.group(1))
    expect(page.locator("h1 [data-status=submitted]")).to_have_count(1)
    expect(page.locator("[data-document=degree]")).to_contain_text("مدرک تحصیلی.pdf")
    expect(page.locator("[data-document=photo]")).to_contain_text("عکس پرسنلی.jpg")
    shot(page, "02-detail-submitted")
    assert_accessible(page, "request detail (submitted)")

    # --- the Tehran reviewer finds it in the cartable and declares a deficiency
    reviewer = second_page
    staff_login(reviewer, base, "reviewer1")
    reviewer.goto(base + "/admin/qualification/")
    expect(reviewer.locator("main table.model-list")).to_contain_text(officer.national_code)
    shot(reviewer, "03-cartable")
    assert_accessible(reviewer, "reviewer cartable")
    reviewer.goto(f"{base}/admin/qualification/review/?id={request_id}")
    expect(reviewer.locator("h1 [data-status=submitted]")).to_have_count(1)
    expect(reviewer.locator("main")).to_contain_text(officer.national_code)
    expect(reviewer.locator("[data-document]")).to_have_count(4)
    shot(reviewer, "04-review")
    assert_accessible(reviewer, "review page")
    reviewer.check("input[name=decision][value=deficiency]")
    reviewer.select_option("#deficiency_reason", "illegible_document")  # nothing is preselected
    reviewer.fill("#note", NOTE)
    with reviewer.expect_navigation():
        reviewer.click("#decision-form button[type=submit]")
    expect(reviewer.locator("h1 [data-status=deficient]")).to_have_count(1)

    # --- the officer sees the note, replaces the national card and resubmits
    page.goto(f"{base}/officer/qualification/{request_id}")
    expect(page.locator("h1 [data-status=deficient]")).to_have_count(1)
    expect(page.locator("#reviewer-note")).to_have_text(NOTE)
    shot(page, "05-deficient")
    assert_accessible(page, "request detail (deficient)")
    page.set_input_files("input[name=doc_national_card]", str(documents["replacement"]))
    page.fill("#comment", COMMENT)
    with page.expect_navigation():
        page.click("button[name=action][value=resubmit]")
    expect(page.locator("h1 [data-status=submitted]")).to_have_count(1)
    expect(page.locator("[data-document=national_card]")).to_contain_text("کارت ملی جدید.pdf")
    shot(page, "06-resubmitted")

    # --- the same reviewer sees the new file and the comment, and approves
    reviewer.goto(f"{base}/admin/qualification/review/?id={request_id}")
    expect(reviewer.locator("h1 [data-status=submitted]")).to_have_count(1)
    expect(reviewer.locator("main")).to_contain_text(COMMENT)
    expect(reviewer.locator("[data-document=national_card]")).to_contain_text("کارت ملی جدید.pdf")
    reviewer.check("input[name=decision][value=approve]")
    with reviewer.expect_navigation():
        reviewer.click("#decision-form button[type=submit]")
    expect(reviewer.locator("h1 [data-status=approved]")).to_have_count(1)
    shot(reviewer, "07-approved-review")

    # --- the officer's desk shows the qualification number
    with models.db.connection_context():
        number = models.Officer.get_by_id(officer.id).qualification_number
    assert number
    page.goto(base + "/officer/")
    approved = page.locator("[data-status=approved]")
    expect(approved).to_contain_text(number)
    shot(page, "08-approved-dashboard")
    assert_accessible(page, "officer dashboard (qualified)")
    page.goto(f"{base}/officer/qualification/{request_id}")
    expect(page.locator("h1 [data-status=approved]")).to_have_count(1)
    assert_accessible(page, "request detail (approved)")
    assert_no_dialogs(dialogs)
