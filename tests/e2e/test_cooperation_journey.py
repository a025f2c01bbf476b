"""The cooperation life cycle in the browser: the distributor nominates, the officer
accepts, the university approves, the officer ends it; the SMS reaches the log."""

import json

import pytest
from playwright.sync_api import expect

import models
from browser import assert_accessible, make_staff, officer_login, staff_login
from helpers import PASSWORD

pytestmark = pytest.mark.e2e


def distributor_login(page, base, username):
    page.goto(base + "/distributor/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    with page.expect_navigation():
        page.click("main form button[type=submit]")
    assert page.url.rstrip("/").endswith("/distributor"), page.url


def test_cooperation_life_cycle(page, second_page, new_context, live_server, make_officer, shot, app, tmp_path):
    import notify

    base = live_server
    officer = make_officer(qualified=True)
    with models.db.connection_context():
        models.create_distributor(
            "pakhsh", PASSWORD, "شرکت پخش سلامت", "company", "09121110000", manager_name="رضا مدیری"
        )
    make_staff("reviewer1", "university", full_name="بازبین تهران")

    # --- the distributor defines a branch and names the officer (Persian digits)
    distributor = page
    distributor_login(distributor, base, "pakhsh")
    distributor.goto(base + "/distributor/branches/new")
    distributor.fill("#name", "شعبه ونک")
    distributor.select_option("#province", label="تهران")
    distributor.select_option("#city", label="تهران")
    distributor.fill("#address", "تهران، میدان ونک، پلاک ۵")
    shot(distributor, "01-branch-form")
    assert_accessible(distributor, "branch form")
    with distributor.expect_navigation():
        distributor.click("main form button[type=submit]")
    distributor.click("[data-branch] a.btn-outline-primary")
    distributor.fill("#national_code", officer.national_code.translate(str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")))
    with distributor.expect_navigation():
        distributor.click("main form button[type=submit]")
    # Check answers: the officer's name, then the request goes out.
    expect(distributor.locator("#nominee-name")).to_have_text(officer.full_name)
    shot(distributor, "02a-nominee-confirm")
    assert_accessible(distributor, "nominee confirmation")
    with distributor.expect_navigation():
        distributor.click("#confirm-nomination")
    expect(distributor.locator("[data-status=pending_officer]")).to_have_count(1)
    shot(distributor, "02-distributor-pending")
    assert_accessible(distributor, "distributor dashboard")

    # --- the officer accepts
    officer_page = second_page
    officer_login(officer_page, base, officer.user_code)
    officer_page.goto(base + "/officer/cooperation/")
    expect(officer_page.locator("main")).to_contain_text("شرکت پخش سلامت")
    shot(officer_page, "03-officer-requests")
    assert_accessible(officer_page, "officer cooperation list")
    officer_page.click("main .card a.btn")
    expect(officer_page.locator("main")).to_contain_text("میدان ونک")
    shot(officer_page, "04-officer-request")
    with officer_page.expect_navigation():
        officer_page.click("button[name=decision][value=approve]")

    # --- the Tehran reviewer approves
    reviewer_context = new_context()
    reviewer = reviewer_context.new_page()
    staff_login(reviewer, base, "reviewer1")
    reviewer.goto(base + "/admin/cooperation/")
    expect(reviewer.locator("main table.model-list")).to_contain_text(officer.national_code)
    shot(reviewer, "05-cartable")
    cooperation_id = reviewer.locator("main table.model-list tbody tr a[href*='review']").first.inner_text()
    reviewer.goto(f"{base}/admin/cooperation/review/?id={cooperation_id.strip()}")
    expect(reviewer.locator("main")).to_contain_text("شعبه ونک")
    shot(reviewer, "06-review")
    assert_accessible(reviewer, "cooperation review")
    reviewer.check("input[name=decision][value=approve]")
    with reviewer.expect_navigation():
        reviewer.click("#decision-form button[type=submit]")
    expect(reviewer.locator("h1 [data-status=active]")).to_have_count(1)

    distributor.goto(base + "/distributor/")
    expect(distributor.locator("[data-branch] [data-status=active]")).to_contain_text(officer.last_name)
    shot(distributor, "07-distributor-active")

    # --- the officer ends the cooperation (in a context that answers the confirmation)
    officer_page = new_context().new_page()
    officer_login(officer_page, base, officer.user_code)
    officer_page.on("dialog", lambda dialog: dialog.accept())
    officer_page.goto(base + "/officer/termination/new")
    expect(officer_page.locator("[role=note]")).to_contain_text("مسئولیت")
    officer_page.fill("#reason", "پایان قرارداد کاری با شرکت")
    shot(officer_page, "08-termination")
    assert_accessible(officer_page, "termination form")
    with officer_page.expect_navigation():
        officer_page.click("button[name=action][value=finalize]")
    expect(officer_page.locator("[data-status=finalized]")).to_have_count(1)
    shot(officer_page, "09-terminated")

    distributor.goto(base + "/distributor/")
    expect(distributor.locator("[data-status=ended]")).to_have_count(1)
    shot(distributor, "10-distributor-ended")

    with models.db.connection_context():
        notify.deliver_pending(notify.backend_from_config(app.config))
    lines = [json.loads(line) for line in (tmp_path / "sms.log").read_text(encoding="utf-8").splitlines()]
    to_manager = [line["text"] for line in lines if line["to"] == "09121110000"]
    assert any(officer.last_name in text for text in to_manager), to_manager
