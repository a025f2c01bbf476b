"""An officer registers in Persian, logs in, and reads a directorate notice — in Chromium."""

import re

import pytest
from playwright.sync_api import expect

import models
from browser import assert_accessible, assert_no_dialogs, code_from_sms_log, make_staff, officer_login, staff_login
from helpers import PASSWORD

pytestmark = pytest.mark.e2e

# An XSS probe: must come back as text, never as markup (the dialog watcher and the
# img check below would catch it).
NOTICE_SUBJECT = "اطلاعیه آزمون <img src=x onerror=alert(1)>"
NOTICE_BODY = "متن اطلاعیه برای همه کارشناسان.\n<script>alert('xss')</script>"


PICKER_HIDDEN = """() => [...document.querySelectorAll('jdp-container')]
    .every(c => getComputedStyle(c).display === 'none')"""


def close_datepicker(page):
    """The Jalali picker opens on focus and covers the next fields. Escape closes it, but
    only once its opening has finished (and Tab does not close it at all), so retry."""
    for _ in range(30):
        if page.evaluate(PICKER_HIDDEN):
            return
        page.keyboard.press("Escape")
        page.wait_for_timeout(100)
    raise AssertionError("the Jalali date picker did not close")


def fill_registration(
    page, national_code="۰۴۹۹۳۷۰۸۹۹", first_name="مریم", password=PASSWORD, password_confirm=PASSWORD
):
    page.fill("#national_code", national_code)
    page.fill("#birth_date", "1370/05/21")
    close_datepicker(page)
    page.fill("#first_name", first_name)
    page.fill("#last_name", "احمدی")
    page.fill("#father_name", "علی")
    page.check("input[name=gender][value=female]")
    page.fill("#id_card_number", "1234")
    page.fill("#mobile", "09121234567")
    page.fill("#email", "maryam@example.com")
    page.select_option("#province", label="تهران")
    page.select_option("#city", label="تهران")
    page.fill("#address", "تهران، خیابان انقلاب، پلاک ۱۰")
    page.fill("#postal_code", "1314567890")
    page.select_option("#field_of_study", label="مهندسی پزشکی")
    page.select_option("#degree_level", label="کارشناسی")
    page.fill("#password", password)
    page.fill("#password_confirm", password_confirm)


def submit_registration(page):
    with page.expect_navigation():
        page.click("#register-form button[type=submit]")


def confirm_mobile(page, app, mobile="09121234567"):
    """The code form: type the code the SMS log shows, and land on the user-code page."""
    expect(page.locator("input[name=code]")).to_be_visible()
    page.fill("input[name=code]", code_from_sms_log(app, mobile))
    with page.expect_navigation():
        page.click("#register-confirm-form button[type=submit]")


def test_register_login_and_read_a_notice(app, page, second_page, live_server, shot, dialogs):
    base = live_server

    # --- register, typing the national code in Persian digits
    page.goto(base + "/officer/register")
    expect(page.locator("#register-form")).to_be_visible()
    assert_accessible(page, "register form")
    fill_registration(page)
    # The script narrows the cities to the chosen province.
    enabled_groups = page.eval_on_selector(
        "#city", "s => [...s.querySelectorAll('optgroup')].filter(g => !g.disabled).map(g => g.label)"
    )
    assert enabled_groups == ["تهران"]
    expect(page.locator("#birth_date")).to_have_value("1370/05/21")
    shot(page, "01-register-form")
    submit_registration(page)
    confirm_mobile(page, app)

    user_code = page.locator("#user-code").inner_text().strip()
    assert re.fullmatch(r"\d{5,}", user_code), user_code
    shot(page, "02-registered")
    assert_accessible(page, "registration complete")
    with models.db.connection_context():
        officer = models.Officer.get(models.Officer.user_code == user_code)
        assert officer.national_code == "0499370899"  # Persian digits were normalised
        assert officer.first_name == "مریم" and officer.city.name == "تهران"

    # --- log in with the user code
    officer_login(page, base, user_code)
    expect(page.locator("#unread-count")).to_have_attribute("data-count", "0")
    assert_accessible(page, "officer dashboard (no messages)")

    # --- a directorate user, in another browser context, writes to everyone
    make_staff("directorate1", "directorate", university=None, full_name="کارشناس اداره کل")
    admin = second_page
    staff_login(admin, base, "directorate1")
    admin.goto(base + "/admin/message/new/")
    admin.fill("#subject", NOTICE_SUBJECT)
    admin.fill("#body", NOTICE_BODY)
    admin.select_option("#audience", value="all")
    shot(admin, "03-admin-notice-form")
    with admin.expect_navigation():
        admin.locator("form.admin-form input[type=submit]").first.click()
    assert re.search(r"/admin/message/?(\?.*)?$", admin.url), admin.url
    expect(admin.locator("main .alert")).to_have_count(1)  # "saved" flash
    expect(admin.locator("main table.model-list")).to_contain_text(NOTICE_SUBJECT)
    assert admin.locator("img[src=x]").count() == 0
    shot(admin, "04-admin-notice-list")
    # The list as such (the flash's own problem is test_admin_flash_message_is_accessible).
    admin.goto(base + "/admin/message/")
    assert_accessible(admin, "admin notice list")

    # --- the officer sees one unread notice
    page.goto(base + "/officer/")
    expect(page.locator("#unread-count")).to_have_attribute("data-count", "1")
    shot(page, "05-dashboard-unread")
    assert_accessible(page, "officer dashboard")

    page.click("a[href$='/officer/messages/']")
    unread = page.locator("[data-status=unread]")
    expect(unread).to_have_count(1)
    expect(page.locator(".list-group-item").first).to_contain_text(NOTICE_SUBJECT)
    assert page.locator("img[src=x]").count() == 0
    shot(page, "06-messages")
    assert_accessible(page, "messages list")

    with page.expect_navigation():
        page.locator(".list-group-item a").first.click()
    expect(page.locator("article[data-status=read] h1")).to_have_text(NOTICE_SUBJECT)
    expect(page.locator(".notice-body")).to_contain_text("<script>alert('xss')</script>")
    assert page.locator("img[src=x]").count() == 0
    shot(page, "07-notice")
    assert_accessible(page, "notice page")

    # --- read: the count goes back to zero (the list's badge: see the test below)
    page.goto(base + "/officer/")
    expect(page.locator("#unread-count")).to_have_attribute("data-count", "0")
    shot(page, "08-dashboard-read")
    assert_no_dialogs(dialogs)


def test_messages_list_shows_an_opened_notice_as_read(page, live_server, make_officer, dialogs):
    officer = make_officer()
    staff = make_staff("directorate1", "directorate", university=None)
    with models.db.connection_context():
        notice = models.send_notice(staff.as_actor(ip="127.0.0.1"), "اطلاعیه", "متن", "all")
    officer_login(page, live_server, officer.user_code)
    page.goto(f"{live_server}/officer/messages/{notice.id}")
    expect(page.locator("article[data-status=read]")).to_have_count(1)
    page.goto(live_server + "/officer/messages/")
    expect(page.locator("[data-status=read]")).to_have_count(1, timeout=2000)
    expect(page.locator("[data-status=unread]")).to_have_count(0, timeout=2000)


def test_registration_errors_are_shown_in_persian(page, live_server, shot, dialogs):
    base = live_server
    page.goto(base + "/officer/register")
    fill_registration(
        page, national_code="1234567890", first_name="مریم", password=PASSWORD, password_confirm="Kh0sh-Amad-2025"
    )
    submit_registration(page)

    summary = page.locator("[role=alert]")
    expect(summary).to_be_visible()
    expect(summary.locator("a[href='#national_code']")).to_have_count(1)
    expect(summary.locator("a[href='#password_confirm']")).to_have_count(1)
    expect(page.locator("#national_code")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#password_confirm")).to_have_attribute("aria-invalid", "true")
    # The error is tied to its field for screen readers.
    assert "national_code-error" in (page.get_attribute("#national_code", "aria-describedby") or "")
    expect(page.locator("#national_code-error")).not_to_be_empty()
    # What the applicant typed is kept (but never the passwords).
    expect(page.locator("#first_name")).to_have_value("مریم")
    expect(page.locator("#national_code")).to_have_value("1234567890")
    expect(page.locator("#password")).to_have_value("")
    # The summary takes the focus, so a screen reader announces it.
    assert page.evaluate("() => document.activeElement && document.activeElement.id") == "error-summary"
    with models.db.connection_context():
        assert models.Officer.select().count() == 0
    shot(page, "01-errors")
    assert_accessible(page, "registration errors")

    # A phone-sized screen: nothing sticks out sideways.
    page.set_viewport_size({"width": 375, "height": 812})
    page.wait_for_function("() => window.innerWidth === 375")
    scroll_width = page.evaluate("() => document.documentElement.scrollWidth")
    assert scroll_width <= 375, f"horizontal scroll on a 375px screen: scrollWidth={scroll_width}"
    shot(page, "02-errors-mobile")
    assert_no_dialogs(dialogs)


def test_admin_flash_message_is_accessible(second_page, live_server, dialogs):
    make_staff("directorate1", "directorate", university=None)
    admin = second_page
    staff_login(admin, live_server, "directorate1")
    admin.goto(live_server + "/admin/message/new/")
    admin.fill("#subject", "اطلاعیه")
    admin.fill("#body", "متن")
    with admin.expect_navigation():
        admin.locator("form.admin-form input[type=submit]").first.click()
    expect(admin.locator("main .alert")).to_have_count(1)
    assert_accessible(admin, "admin list with a flash message")
