"""Daily work (issue 20), the forms and pages around it, in a real Chromium: errors that
link to their fields, the Persian file control with photo guidance and upload progress,
the distributor's menu and empty lists, the staff login page, digits in English, and the
certificate's emblem and photo. Each page at 1280 and 360 px, without sideways scroll."""

from __future__ import annotations

import io

import pytest
from playwright.sync_api import expect

import models
import storage
from browser import axe_violations, format_violations, make_staff, officer_login, staff_login
from helpers import JPEG_BYTES, MINIMAL_PDF, PASSWORD

pytestmark = pytest.mark.e2e

PHONE = {"width": 360, "height": 740}
DESK = {"width": 1280, "height": 900}
SIDEWAYS = "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"


def assert_accessible(page, label):
    """No axe violation of impact moderate or above (the issue's bar for key pages)."""
    found = [v for v in axe_violations(page) if v["impact"] in ("moderate", "serious", "critical")]
    assert not found, f"axe on {label}:\n" + format_violations(found)


def both_widths(page, shot, label):
    """Screenshots at 1280 and 360 px; at 360 px the page never scrolls sideways."""
    page.set_viewport_size(DESK)
    shot(page, f"{label}-desk")
    page.set_viewport_size(PHONE)
    wide = page.evaluate(SIDEWAYS)
    shot(page, f"{label}-phone")
    page.set_viewport_size(DESK)
    assert wide <= 0, f"{label} scrolls sideways by {wide} px at 360 px"


def documents(tmp_path):
    paths = {}
    for kind in ("degree", "national_card", "id_booklet", "photo"):
        name, data = ("عکس پرسنلی.jpg", JPEG_BYTES) if kind == "photo" else (f"{kind}.pdf", MINIMAL_PDF)
        paths[kind] = tmp_path / name
        paths[kind].write_bytes(data)
    return paths


def test_the_error_summary_links_each_message_to_its_field(page, live_server, shot):
    page.goto(live_server + "/officer/register")
    with page.expect_navigation():
        page.click("main form button[type=submit]")
    summary = page.locator("#error-summary[role=alert]")
    expect(summary).to_be_focused()
    first = summary.locator("li a").first
    expect(first).to_have_attribute("href", "#national_code")
    expect(first).to_contain_text("کد ملی خود را وارد کنید.")
    expect(page.locator("#national_code-error")).to_contain_text("کد ملی خود را وارد کنید.")
    expect(page.locator("#national_code")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("main")).not_to_contain_text("این فیلد الزامی است")
    both_widths(page, shot, "register-errors")
    assert_accessible(page, "registration with errors")
    summary.locator("a[href='#mobile']").click()
    expect(page.locator("#mobile")).to_be_focused()


# Records what the upload-progress box shows, across the page the answer replaces it with
# (uploads.js writes the answer into the same window).
UPLOAD_LOG = """
window.__uploadLog = window.__uploadLog || [];
document.addEventListener('DOMContentLoaded', function () {
  var box = document.querySelector('[data-upload-progress]');
  if (!box) { return; }
  new MutationObserver(function () {
    window.__uploadLog.push({hidden: box.hidden, value: box.querySelector('progress').value,
                             text: box.querySelector('[data-upload-status]').textContent});
  }).observe(box, {attributes: true, childList: true, subtree: true, characterData: true});
});
"""


def test_the_file_control_is_persian_with_photo_guidance_and_progress(page, live_server, make_officer, tmp_path, shot):
    officer = make_officer()
    files = documents(tmp_path)
    page.add_init_script(UPLOAD_LOG)
    officer_login(page, live_server, officer.user_code)
    page.goto(live_server + "/officer/qualification/new")
    photo = page.locator(".file-field", has=page.locator("#doc_photo"))
    # A Persian button and "no file chosen yet" in Persian; the native control lies on top, transparent.
    expect(photo.locator(".file-picker-button")).to_have_text("انتخاب فایل")
    expect(photo.locator("[data-file-name]")).to_have_text("هنوز فایلی انتخاب نشده است")
    assert page.evaluate("() => getComputedStyle(document.getElementById('doc_photo')).opacity") == "0"
    expect(page.locator("#doc_photo-guide")).to_contain_text("۳×۴")
    expect(page.locator("#doc_photo")).to_have_attribute("aria-describedby", "doc_photo-help doc_photo-guide")
    both_widths(page, shot, "upload-empty")
    assert_accessible(page, "new request, styled file fields")

    for kind, path in files.items():
        page.set_input_files(f"#doc_{kind}", str(path))
    expect(photo.locator("[data-file-name]")).to_have_text("عکس پرسنلی.jpg")
    thumb = photo.locator("[data-file-thumb]")
    expect(thumb).to_be_visible()
    assert page.evaluate("() => document.querySelector('[data-file-thumb]:not([hidden])').naturalWidth") > 0
    expect(page.locator(".file-field", has=page.locator("#doc_degree")).locator("[data-file-thumb]")).to_be_hidden()
    both_widths(page, shot, "upload-chosen")

    with page.expect_navigation():
        page.click("button[name=action][value=submit]")
    expect(page.locator("h1 [data-status=submitted]")).to_have_count(1)
    assert page.url.rstrip("/").split("/")[-1].isdigit(), page.url
    expect(page.locator("[data-document=photo]")).to_contain_text("عکس پرسنلی.jpg")
    # The progress box was shown while the files travelled, up to 100 %, then "checking".
    log = page.evaluate("() => window.__uploadLog")
    assert any(not entry["hidden"] for entry in log), log
    assert any(entry["value"] == 100 for entry in log), log
    assert any("در حال بارگذاری فایل‌ها" in entry["text"] for entry in log), log
    # The flashed confirmation survived (the answer was shown as it came, not fetched again).
    expect(page.locator("main .alert-success")).to_be_visible()


def test_without_javascript_the_native_file_control_still_uploads(browser, live_server, make_officer, tmp_path):
    officer = make_officer()
    context = browser.new_context(java_script_enabled=False, locale="fa-IR")
    page = context.new_page()
    try:
        officer_login(page, live_server, officer.user_code)
        page.goto(live_server + "/officer/qualification/new")
        expect(page.locator(".file-picker-face").first).to_be_hidden()
        expect(page.locator("#doc_photo")).to_be_visible()
        page.set_input_files("#doc_photo", str(documents(tmp_path)["photo"]))
        with page.expect_navigation():
            page.click("button[name=action][value=submit]")
        # Three documents missing: each marked at its own field, the photo kept as a draft.
        expect(page.locator("#error-summary li")).to_have_count(3)
        expect(page.locator("#doc_degree-error")).to_contain_text("را پیوست کنید")
        expect(page.locator("[data-document=photo]")).to_contain_text("عکس پرسنلی.jpg")
    finally:
        context.close()


def distributor_login(page, base):
    page.goto(base + "/distributor/login")
    page.fill("input[name=username]", "pakhsh")
    page.fill("input[name=password]", PASSWORD)
    with page.expect_navigation():
        page.click("main form button[type=submit]")


def test_the_distributor_has_a_menu_and_empty_lists_say_what_to_do(page, live_server, shot):
    with models.db.connection_context():
        models.create_distributor("pakhsh", PASSWORD, "شرکت پخش سلامت", "company", "09121110000", manager_name="رضا")
    distributor_login(page, live_server)
    menu = page.locator("#site-menu")
    expect(menu.locator("a[aria-current=page]")).to_have_text("شعبه‌ها و درخواست‌ها")
    expect(menu.locator("a[href='/distributor/branches/new']")).to_have_count(1)
    expect(menu.locator("a[href='/distributor/password']")).to_have_count(1)
    # No empty table: a panel that says what to do next, with the action.
    expect(page.locator("main table")).to_have_count(0)
    empty = page.locator("[data-empty=branches]")
    expect(empty).to_contain_text("هنوز شعبه‌ای تعریف نکرده‌اید")
    expect(page.locator("[data-empty=requests]")).to_be_visible()
    both_widths(page, shot, "distributor-empty")
    assert_accessible(page, "distributor dashboard, empty")
    page.set_viewport_size(PHONE)
    expect(menu).to_be_hidden()
    page.click("[data-menu-toggle=site-menu]")
    expect(menu).to_be_visible()
    shot(page, "distributor-menu-open-phone")
    page.set_viewport_size(DESK)

    with page.expect_navigation():
        empty.locator("a.btn").click()
    expect(page.locator("#site-menu a[aria-current=page]")).to_have_text("تعریف شعبه")
    page.fill("#name", "شعبه مرکزی")
    page.select_option("#province", label="اصفهان")
    page.select_option("#city", label="اصفهان")
    page.fill("#address", "اصفهان، خیابان چهارباغ، پلاک ۱۲")
    with page.expect_navigation():
        page.click("main form button[type=submit]")
    # One branch, no request yet: the panel offers to name its officer.
    expect(page.locator("[data-empty=branches]")).to_have_count(0)
    requests = page.locator("[data-empty=requests]")
    expect(requests.locator("a.btn")).to_contain_text("شعبه مرکزی")
    both_widths(page, shot, "distributor-one-branch")
    with page.expect_navigation():
        requests.locator("a.btn").click()
    assert page.url.endswith("/nominate"), page.url


def test_the_staff_login_page_looks_like_the_rest(page, live_server, shot):
    make_staff("rev", "university", full_name="بازبین تهران")
    page.goto(live_server + "/admin/login")
    expect(page.locator("html")).to_have_attribute("dir", "rtl")
    expect(page.locator("html")).to_have_attribute("lang", "fa")
    assert page.title().startswith("ورود کارکنان")
    expect(page.locator("main h1")).to_have_text("ورود کارکنان")
    expect(page.locator("main")).to_contain_text("امروز:")
    assert "۱۴" in page.locator("[data-today]").inner_text() or page.evaluate(
        "() => getComputedStyle(document.body).fontFamily"
    ).startswith('"Vazirmatn FD"')
    expect(page.locator("#staff-forgot")).to_be_visible()
    expect(page.locator("main a[href='/']")).to_have_count(1)
    # The form sits in one centred column, not in the right half of a full-bleed page.
    box = page.locator("main .card").bounding_box()
    assert abs((box["x"] + box["width"] / 2) - DESK["width"] / 2) < 20, box
    both_widths(page, shot, "admin-login")
    assert_accessible(page, "staff login")

    with page.expect_navigation():
        page.click("main form button[type=submit]")
    expect(page.locator("#error-summary")).to_contain_text("نام کاربری خود را وارد کنید.")
    shot(page, "admin-login-errors-desk")

    with page.expect_navigation():
        page.click("header button[lang=en]")
    expect(page.locator("html")).to_have_attribute("dir", "ltr")
    expect(page.locator("main h1")).to_have_text("Staff login")
    shot(page, "admin-login-en-desk")
    with page.expect_navigation():
        page.click("header button[lang=fa]")
    staff_login(page, live_server, "rev")
    # The back office has the same switch; in English its counts are ASCII digits.
    page.goto(live_server + "/admin/qualification/")
    with page.expect_navigation():
        page.click("nav button[lang=en]")
    expect(page.locator("html")).to_have_attribute("dir", "ltr")
    assert "/admin/qualification/" in page.url, page.url
    tabs = page.locator("#cartable-tabs").inner_text()
    assert "0" in tabs and not [ch for ch in tabs if "\u06f0" <= ch <= "\u06f9"], tabs
    shot(page, "admin-cartable-en-desk")


def rendered_font(page, selector: str) -> list[str]:
    """The font families Chromium drew the element's text with."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("DOM.enable")
    cdp.send("CSS.enable")
    root = cdp.send("DOM.getDocument")["root"]["nodeId"]
    node = cdp.send("DOM.querySelector", {"nodeId": root, "selector": selector})["nodeId"]
    fonts = cdp.send("CSS.getPlatformFontsForNode", {"nodeId": node})["fonts"]
    return [f["familyName"] for f in fonts if f["glyphCount"] > 0]


def test_digits_are_ascii_in_english_and_persian_in_persian(page, live_server, make_officer, shot):
    officer = make_officer()
    officer_login(page, live_server, officer.user_code)
    user_code = "main h1 + p span.ltr"
    # Persian: every digit is drawn Persian (the FD face), the user code included.
    expect(page.locator(user_code)).to_have_text(officer.user_code)
    assert set(rendered_font(page, user_code)) == {"Vazirmatn FD"}, rendered_font(page, user_code)
    with page.expect_navigation():
        page.click("header button[lang=en]")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    assert set(rendered_font(page, user_code)) == {"Vazirmatn"}, rendered_font(page, user_code)
    shot(page, "english-dashboard-desk")
    page.goto(live_server + "/officer/profile")
    text = page.locator("main").inner_text()
    assert officer.national_code in text, text
    assert not [ch for ch in text if "\u06f0" <= ch <= "\u06f9" or "\u0660" <= ch <= "\u0669"], text
    assert "Vazirmatn FD" not in rendered_font(page, "main h1")


def approved_officer_with_photo(app, make_officer):
    from models import qualification as quals

    reviewer = make_staff("rev", "university", full_name="بازبین تهران")
    officer = make_officer()
    store = storage.DocumentStore(app.config["UPLOAD_DIR"])
    with models.db.connection_context():
        owner = officer.as_actor()
        request = quals.start_request(officer, owner)
        for kind in ("degree", "national_card", "id_booklet", "photo"):
            data, name = (JPEG_BYTES, "photo.jpg") if kind == "photo" else (MINIMAL_PDF, f"{kind}.pdf")
            quals.attach_document(request, owner, kind, store.save(io.BytesIO(data), name))
        request = request.apply("submit", owner)
        request.apply("approve", reviewer.as_actor())
    return officer


def test_the_certificate_has_our_emblem_and_the_approved_photo(page, live_server, app, make_officer, shot):
    officer = approved_officer_with_photo(app, make_officer)
    officer_login(page, live_server, officer.user_code)
    page.goto(live_server + "/officer/certificate")
    emblem = page.locator(".certificate-emblem")
    expect(emblem).to_have_attribute("src", "/static/img/emblem.svg")
    expect(emblem).to_have_attribute("alt", "نشان سامانه ثبت مسئولان فنی")
    photo = page.locator("[data-certificate-photo]")
    expect(photo).to_have_count(1)
    page.wait_for_load_state("load")
    assert page.evaluate("() => document.querySelector('.certificate-emblem').naturalWidth") > 0
    assert page.evaluate("() => document.querySelector('[data-certificate-photo]').naturalWidth") > 0
    expect(page.locator(".qr svg")).to_have_count(1)
    both_widths(page, shot, "certificate")
    assert_accessible(page, "certificate")


def test_a_certificate_without_a_picture_photo_has_no_photo_frame(page, live_server, make_officer):
    officer = make_officer(qualified=True)  # qualified by the legacy import: no photo on file
    officer_login(page, live_server, officer.user_code)
    page.goto(live_server + "/officer/certificate")
    expect(page.locator(".certificate-emblem")).to_be_visible()
    expect(page.locator("[data-certificate-photo]")).to_have_count(0)
