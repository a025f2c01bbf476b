"""Issue 16 in Chromium: an officer registers with the code read from the SMS log and
reloads the user-code page; a directorate user deactivates one officer while a second one
confirms the birth-date correction the first filed for another."""

import pytest
from playwright.sync_api import expect

import models
from browser import assert_accessible, code_from_sms_log, make_staff, staff_login
from helpers import MINIMAL_PDF, PASSWORD
from test_officer_journey import fill_registration, submit_registration

pytestmark = pytest.mark.e2e


def test_register_with_the_sms_code_and_reload_the_user_code(app, page, live_server, shot):
    base = live_server
    page.goto(base + "/officer/register")
    fill_registration(page)
    submit_registration(page)
    expect(page.locator("#register-confirm-form input[name=code]")).to_be_visible()
    with models.db.connection_context():
        assert models.Officer.select().count() == 0  # not before the code
    shot(page, "01-code-form")
    assert_accessible(page, "registration code form")
    code = code_from_sms_log(app, "09121234567")
    page.fill("input[name=code]", f"{(int(code) + 1) % 1_000_000:06d}")  # a wrong one first
    with page.expect_navigation():
        page.click("#register-confirm-form button[type=submit]")
    expect(page.locator("[role=alert]")).to_be_visible()
    page.fill("input[name=code]", code)
    with page.expect_navigation():
        page.click("#register-confirm-form button[type=submit]")
    user_code = page.locator("#user-code").inner_text().strip()
    with models.db.connection_context():
        assert models.Officer.get().user_code == user_code
    page.reload()
    expect(page.locator("#user-code")).to_have_text(user_code)
    shot(page, "02-user-code-after-reload")
    page.set_viewport_size({"width": 360, "height": 780})
    page.reload()
    expect(page.locator("#user-code")).to_have_text(user_code)
    shot(page, "03-user-code-360")


def manage(page, base, officer_id):
    page.goto(f"{base}/admin/officer/manage/?id={officer_id}")


def test_deactivation_and_a_four_eyes_correction(page, second_page, live_server, make_officer, shot, tmp_path):
    base = live_server
    leaving, corrected = make_officer(qualified=True), make_officer(qualified=True)
    make_staff("director1", "directorate", university=None, full_name="کارشناس یکم اداره کل")
    make_staff("director2", "directorate", university=None, full_name="کارشناس دوم اداره کل")
    first, second = page, second_page
    staff_login(first, base, "director1")
    staff_login(second, base, "director2")

    # The first deactivates an officer (retirement).
    manage(first, base, leaving.id)
    shot(first, "01-manage-1280")
    assert_accessible(first, "manage page")
    first.fill("#reason-deactivate", "بازنشستگی، نامه شماره ۱۲۳")
    with first.expect_navigation():
        first.click("#form-deactivate button[type=submit]")
    expect(first.locator("#account-status")).to_have_attribute("data-status", "deactivated")

    # The first files a birth-date correction of another officer, with evidence.
    evidence = tmp_path / "birth-certificate.pdf"
    evidence.write_bytes(MINIMAL_PDF)
    manage(first, base, corrected.id)
    first.fill("#birth_date", "1369/02/10")
    first.set_input_files("#doc_evidence", str(evidence))
    first.fill("#reason-correct_identity", "شناسنامه المثنی صادر شده است")
    with first.expect_navigation():
        first.click("#form-correct_identity button[type=submit]")
    pending = first.locator("[data-status=pending][data-id]")
    expect(pending).to_have_count(1)
    expect(first.locator("#form-confirm_correction")).to_have_count(0)  # not for its proposer

    # The second confirms it.
    manage(second, base, corrected.id)
    second.set_viewport_size({"width": 360, "height": 780})
    shot(second, "02-manage-360-pending-correction")
    second.set_viewport_size({"width": 1280, "height": 900})
    second.fill("#reason-confirm_correction", "سند دیده و تأیید شد")
    with second.expect_navigation():
        second.click("#form-confirm_correction button[type=submit]")
    expect(second.locator("[data-status=confirmed][data-id]")).to_have_count(1)
    expect(second.locator("[data-field=birth_date]")).to_contain_text("1369")
    shot(second, "03-correction-confirmed")

    with models.db.connection_context():
        assert not models.Officer.get_by_id(leaving.id).is_active
        assert models.Officer.get_by_id(corrected.id).birth_date.isoformat() == "1990-04-30"


def test_a_distributor_recovers_its_password_by_sms_to_the_manager(app, page, live_server, shot):
    base = live_server
    with models.db.connection_context():
        models.create_distributor("pakhsh-e2e", PASSWORD, "شرکت پخش آزمون", "company", "09127770000")
    page.goto(base + "/distributor/login")
    with page.expect_navigation():
        page.click("a[href='/distributor/password/reset']")
    page.fill("input[name=username]", "pakhsh-e2e")
    with page.expect_navigation():
        page.click("main form button[type=submit]")
    assert page.url.endswith("/distributor/password/reset/confirm")
    expect(page.locator("input[name=username]")).to_have_value("pakhsh-e2e")  # kept in the session
    shot(page, "01-confirm-1280")
    assert_accessible(page, "distributor reset confirm")
    page.fill("input[name=code]", code_from_sms_log(app, "09127770000"))
    page.fill("input[name=new_password]", "Tazeh-Ramz-1404")
    page.fill("input[name=new_password_confirm]", "Tazeh-Ramz-1404")
    with page.expect_navigation():
        page.click("main form button[type=submit]")
    assert page.url.endswith("/distributor/login")
    page.set_viewport_size({"width": 360, "height": 780})
    shot(page, "02-login-after-reset-360")
    page.fill("input[name=username]", "pakhsh-e2e")
    page.fill("input[name=password]", "Tazeh-Ramz-1404")
    with page.expect_navigation():
        page.click("main form button[type=submit]")
    assert page.url.rstrip("/").endswith("/distributor")


def test_the_claims_queue_in_the_directorates_menu(page, live_server, make_officer, shot):
    base = live_server
    officer = make_officer(qualified=True)
    with models.db.connection_context():
        models.IdentityClaim.create(
            officer=officer,
            national_code=officer.national_code,
            mobile="09121111111",
            first_name="مریم",
            last_name="احمدی",
        )
    make_staff("director1", "directorate", university=None, full_name="کارشناس یکم اداره کل")
    from backoffice.base import clear_options_cache

    clear_options_cache()  # the menu counts at most once a minute; an earlier test's pages counted none
    staff_login(page, base, "director1")
    link = page.locator("nav a[href='/admin/officer/claims/']")
    expect(link.locator("[data-count='1']")).to_be_visible()
    with page.expect_navigation():
        link.click()
    expect(page.locator(f"tr[data-id] >> text={officer.national_code}")).to_be_visible()
    shot(page, "01-claims-1280")
    page.set_viewport_size({"width": 360, "height": 780})
    shot(page, "02-claims-360")
