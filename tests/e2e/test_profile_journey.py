"""An officer changes a free field at once and files a name change that a reviewer approves."""

import pytest
from playwright.sync_api import expect

import models
from browser import assert_accessible, make_staff, officer_login, staff_login

pytestmark = pytest.mark.e2e


def test_free_field_and_reviewed_name_change(page, second_page, live_server, make_officer, shot):
    base = live_server
    officer = make_officer(qualified=True)
    make_staff("reviewer1", "university", full_name="بازبین تهران")

    officer_login(page, base, officer.user_code)
    page.goto(base + "/officer/profile")
    expect(page.locator("[data-field=national_code][data-policy=locked]")).to_have_count(1)
    expect(page.locator("[data-field=first_name][data-policy=reviewed]")).to_have_count(1)
    shot(page, "01-profile")
    assert_accessible(page, "profile")

    # A free field changes at once.
    page.goto(base + "/officer/profile/edit")
    page.fill("#phone", "۰۲۱۸۸۷۷۶۶۵۵")
    shot(page, "02-profile-edit")
    assert_accessible(page, "profile edit")
    with page.expect_navigation():
        page.click("main form button[type=submit]")
    expect(page.locator("[data-field=phone] td").first).to_contain_text("02188776655")

    # The name changes only through a reviewed request.
    page.goto(base + "/officer/edit-requests/new")
    page.fill("#first_name", "فاطمه")
    shot(page, "03-edit-request")
    assert_accessible(page, "edit request form")
    with page.expect_navigation():
        page.click("button[name=action][value=submit]")
    expect(page.locator("h1 [data-status=submitted]")).to_have_count(1)
    expect(page.locator("[data-field=first_name]")).to_contain_text("فاطمه")
    edit_id = page.locator("article[data-id]").get_attribute("data-id")

    reviewer = second_page
    staff_login(reviewer, base, "reviewer1")
    reviewer.goto(f"{base}/admin/editrequest/review/?id={edit_id}")
    expect(reviewer.locator("#comparison [data-field=first_name]")).to_contain_text("فاطمه")
    shot(reviewer, "04-review-side-by-side")
    assert_accessible(reviewer, "edit request review")
    reviewer.check("input[name=decision][value=approve]")
    with reviewer.expect_navigation():
        reviewer.click("#decision-form button[type=submit]")

    page.goto(base + "/officer/profile")
    expect(page.locator("[data-field=first_name] td").first).to_contain_text("فاطمه")
    shot(page, "05-profile-after")
    with models.db.connection_context():
        assert models.Officer.get_by_id(officer.id).first_name == "فاطمه"
