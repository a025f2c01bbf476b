"""Every page is Persian and right-to-left, and its text is drawn with the vendored
Vazirmatn font (not a system fallback)."""

import pytest
from playwright.sync_api import expect

from browser import assert_accessible, assert_no_dialogs, make_staff, officer_login, staff_login

pytestmark = pytest.mark.e2e

PUBLIC_PAGES = ["/", "/officer/register", "/officer/login", "/admin/login"]
OFFICER_PAGES = ["/officer/", "/officer/messages/", "/officer/qualification/new", "/officer/profile"]
STAFF_PAGES = ["/admin/", "/admin/qualification/", "/admin/message/", "/admin/message/new/"]


def rendered_fonts(page, selector: str) -> list:
    """The fonts Chromium actually drew the element's text with (DevTools protocol)."""
    cdp = page.context.new_cdp_session(page)
    try:
        cdp.send("DOM.enable")
        cdp.send("CSS.enable")
        root = cdp.send("DOM.getDocument", {"depth": 0})["root"]["nodeId"]
        node = cdp.send("DOM.querySelector", {"nodeId": root, "selector": selector})["nodeId"]
        assert node, f"no {selector} on {page.url}"
        return cdp.send("CSS.getPlatformFontsForNode", {"nodeId": node})["fonts"]
    finally:
        cdp.detach()


def assert_persian_rtl_with_vazirmatn(page, path: str) -> None:
    html = page.locator("html")
    expect(html).to_have_attribute("dir", "rtl")
    expect(html).to_have_attribute("lang", "fa")
    state = page.evaluate("""async () => {
      await document.fonts.ready;
      return {
        bodyFamily: getComputedStyle(document.body).fontFamily,
        bodyDirection: getComputedStyle(document.body).direction,
        loaded: [...document.fonts].filter(f => f.status === 'loaded').map(f => f.family + ' ' + f.weight),
        checkFD: document.fonts.check('16px "Vazirmatn FD"'),
        // Plain Vazirmatn (Latin digits) is only fetched where used: load it to prove it works.
        plainLoaded: (await document.fonts.load('16px Vazirmatn', 'کد ۱۲۳ 123')).length,
        checkPlain: document.fonts.check('16px Vazirmatn'),
      };
    }""")
    assert "Vazirmatn" in state["bodyFamily"], (path, state)
    assert state["bodyDirection"] == "rtl", (path, state)
    assert any("Vazirmatn" in face for face in state["loaded"]), (path, state)
    assert state["checkFD"] and state["plainLoaded"] and state["checkPlain"], (path, state)
    for selector in ("main h1", "main p, main label, main td"):
        fonts = rendered_fonts(page, selector)
        used = [f for f in fonts if f["glyphCount"] > 0]
        assert used and all(f["isCustomFont"] and "Vazirmatn" in f["familyName"] for f in used), (
            f"{path} {selector} drawn with {fonts}"
        )


def test_pages_are_rtl_persian_in_vazirmatn(page, second_page, live_server, make_officer, shot, dialogs):
    base = live_server
    for path in PUBLIC_PAGES:
        page.goto(base + path)
        assert_persian_rtl_with_vazirmatn(page, path)
    page.goto(base + "/")
    shot(page, "01-home")
    assert_accessible(page, "home")
    page.goto(base + "/officer/login")
    assert_accessible(page, "officer login")
    page.goto(base + "/admin/login")
    shot(page, "02-admin-login")
    assert_accessible(page, "staff login")

    officer = make_officer()
    officer_login(page, base, officer.user_code)
    for path in OFFICER_PAGES:
        page.goto(base + path)
        assert_persian_rtl_with_vazirmatn(page, path)

    make_staff("directorate1", "directorate", university=None)
    staff_login(second_page, base, "directorate1")
    for path in STAFF_PAGES:
        second_page.goto(base + path)
        assert_persian_rtl_with_vazirmatn(second_page, path)
    second_page.goto(base + "/admin/")
    shot(second_page, "03-admin-dashboard")
    assert_accessible(second_page, "admin dashboard")
    assert_no_dialogs(dialogs)
