"""Daily work (issue 20) in a real Chromium: the reviewer's cartable as a work queue,
the decision form, the officer's next step, and phones (no sideways scroll at 360 px)."""

from __future__ import annotations

import datetime
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

# Wider than the viewport by this many pixels is a sideways scroll.
NO_SIDEWAYS_SCROLL = "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"


def assert_accessible(page, label):
    """No axe violation of impact moderate or above (the issue's bar for key pages)."""
    found = [v for v in axe_violations(page) if v["impact"] in ("moderate", "serious", "critical")]
    assert not found, f"axe on {label}:\n" + format_violations(found)


def submitted_request(app, officer, reviewer=None, state="submitted"):
    """A qualification request with real documents on disk, driven to ``state``."""
    from models import qualification as quals

    store = storage.DocumentStore(app.config["UPLOAD_DIR"])
    with models.db.connection_context():
        owner = officer.as_actor()
        request = quals.start_request(officer, owner)
        for kind in ("degree", "national_card", "id_booklet", "photo"):
            data, name = (JPEG_BYTES, "photo.jpg") if kind == "photo" else (MINIMAL_PDF, f"{kind}.pdf")
            quals.attach_document(request, owner, kind, store.save(io.BytesIO(data), name))
        request = request.apply("submit", owner)
        if state in ("deficient", "resubmitted"):
            request = request.apply("deficiency", reviewer.as_actor(), note="عکس واضح نیست.", reason="photo")
        if state == "resubmitted":
            request = request.apply("resubmit", owner, note="عکس جدید بارگذاری شد")
        return request


@pytest.fixture
def queue(app, make_officer):
    """A Tehran reviewer with three requests needing a decision (one overdue, one back
    after a deficiency), one waiting for its applicant."""
    reviewer = make_staff("rev", "university", full_name="بازبین تهران")
    rows = {
        "new": submitted_request(app, make_officer()),
        "overdue": submitted_request(app, make_officer()),
        "resubmitted": submitted_request(app, make_officer(), reviewer, "resubmitted"),
        "deficient": submitted_request(app, make_officer(), reviewer, "deficient"),
    }
    with models.db.connection_context():
        models.QualificationRequest.update(due_on=models.utcnow().date() - datetime.timedelta(days=2)).where(
            models.QualificationRequest.id == rows["overdue"].id
        ).execute()
    return reviewer, rows


def test_cartable_tabs_row_open_decision_and_next(page, live_server, queue, shot):
    base = live_server
    _reviewer, rows = queue
    staff_login(page, base, "rev")
    page.goto(base + "/admin/qualification/")

    # Default tab: needs my decision, with counts; the resubmitted request is marked.
    tabs = page.locator("#cartable-tabs")
    expect(tabs.locator("[data-tab=mine][aria-current=page]")).to_have_count(1)
    expect(tabs.locator("[data-tab=mine] [data-count]")).to_have_attribute("data-count", "3")
    expect(tabs.locator("[data-tab=applicant] [data-count]")).to_have_attribute("data-count", "1")
    expect(tabs.locator("[data-tab=overdue] [data-count]")).to_have_attribute("data-count", "1")
    expect(page.locator("tr.cartable-row")).to_have_count(3)
    expect(page.locator(f"tr[data-id='{rows['resubmitted'].id}'] [data-resubmitted]")).to_have_count(1)
    expect(page.locator(f"tr[data-id='{rows['deficient'].id}']")).to_have_count(0)
    # The queue order: the overdue request first.
    expect(page.locator("tr.cartable-row").first).to_have_attribute("data-id", str(rows["overdue"].id))
    shot(page, "01-cartable-desk")
    assert_accessible(page, "cartable")

    # Another tab, by its link.
    with page.expect_navigation():
        page.click("#cartable-tabs [data-tab=applicant]")
    expect(page.locator("tr.cartable-row")).to_have_count(1)
    expect(page.locator("tr.cartable-row")).to_have_attribute("data-id", str(rows["deficient"].id))
    with page.expect_navigation():
        page.click("#cartable-tabs [data-tab=mine]")

    # Keyboard: J focuses the first request, Enter opens its review.
    page.keyboard.press("j")
    expect(page.locator("tr.cartable-row").first.locator("a.review-link")).to_be_focused()
    page.keyboard.press("j")
    expect(page.locator("tr.cartable-row").nth(1).locator("a.review-link")).to_be_focused()
    page.keyboard.press("k")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert f"id={rows['overdue'].id}" in page.url
    page.go_back()

    # The whole row opens the review: a click on the officer's name.
    with page.expect_navigation():
        page.locator(f"tr[data-id='{rows['new'].id}'] td.col-officer").click()
    assert f"id={rows['new'].id}" in page.url and "tab=mine" in page.url

    # The decision form: nothing preselected, only the chosen decision's fields.
    expect(page.locator("#deficiency_reason")).to_be_hidden()
    expect(page.locator("#reason")).to_be_hidden()
    page.check("#decision-deficiency")
    expect(page.locator("#deficiency_reason")).to_be_visible()
    expect(page.locator("#reason")).to_be_hidden()
    expect(page.locator("#deficiency_reason")).to_have_value("")
    shot(page, "02-review-desk")
    assert_accessible(page, "review")
    # A missing note and kind: both marked, the decision kept.
    with page.expect_navigation():
        page.click("#decision-form button[type=submit]")
    expect(page.locator("#error-summary[role=alert]")).to_be_visible()
    expect(page.locator("#note[aria-invalid=true]")).to_have_count(1)
    expect(page.locator("#deficiency_reason[aria-invalid=true]")).to_have_count(1)
    expect(page.locator("#decision-deficiency")).to_be_checked()
    expect(page.locator("#deficiency_reason")).to_be_visible()
    shot(page, "03-review-errors-desk")
    assert_accessible(page, "review with errors")
    page.select_option("#deficiency_reason", "photo")
    page.fill("#note", "عکس پرسنلی تار است")
    with page.expect_navigation():
        page.click("#decision-form button[type=submit]")
    # After the decision: the next request of the same tab, focused.
    expect(page.locator("#next-request")).to_be_focused()
    shot(page, "04-review-decided-desk")
    with page.expect_navigation():
        page.click("#next-request")
    assert "tab=mine" in page.url and f"id={rows['new'].id}" not in page.url

    # The same cartable on a phone: stacked cards, labelled cells, no sideways scroll.
    page.set_viewport_size(PHONE)
    page.goto(base + "/admin/qualification/")
    assert page.evaluate(NO_SIDEWAYS_SCROLL) <= 0
    first_cell = page.locator("tr.cartable-row").first.locator("td.col-officer")
    assert page.evaluate("el => getComputedStyle(el).display", first_cell.element_handle()) == "block"
    assert page.evaluate("el => getComputedStyle(el, '::before').content", first_cell.element_handle()) != "none"
    shot(page, "05-cartable-phone")
    assert_accessible(page, "cartable at 360 px")
    page.goto(base + page.locator("tr.cartable-row").first.locator("a.review-link").get_attribute("href"))
    assert page.evaluate(NO_SIDEWAYS_SCROLL) <= 0
    shot(page, "06-review-phone")


def officer_pages(request_id):
    return [
        "/officer/",
        "/officer/qualification/",
        f"/officer/qualification/{request_id}",
        "/officer/profile",
        "/officer/profile/edit",
        "/officer/messages/",
        "/officer/cooperation/",
        "/officer/termination/",
        "/officer/edit-requests/",
        "/officer/password",
    ]


def test_no_sideways_scroll_at_360_px(page, second_page, live_server, app, make_officer, shot):
    """Every page, logged out and in, fits a 360 px screen; the menu collapses."""
    base = live_server
    reviewer = make_staff("rev", "university", full_name="بازبین تهران")
    officer = make_officer()
    request = submitted_request(app, officer, reviewer, "deficient")
    with models.db.connection_context():
        models.create_distributor("pakhsh", PASSWORD, "شرکت پخش سلامت", "company", "09121110000", manager_name="رضا")
    page.set_viewport_size(PHONE)

    def check(path, label):
        page.goto(base + path)
        wide = page.evaluate(NO_SIDEWAYS_SCROLL)
        shot(page, f"{label}-phone")
        assert wide <= 0, f"{path} scrolls sideways by {wide} px at 360 px"
        # The same page at 1280 px, saved next to it (the screenshots of every page).
        page.set_viewport_size(DESK)
        shot(page, f"{label}-desk")
        page.set_viewport_size(PHONE)

    for path, label in (
        ("/", "home"),
        ("/verify", "verify"),
        ("/officer/register", "register"),
        ("/officer/login", "login"),
        ("/distributor/login", "distributor-login"),
        ("/admin/login", "admin-login"),
    ):
        check(path, label)

    officer_login(page, base, officer.user_code)
    # The menu is collapsed behind a button, and opens.
    expect(page.locator("#site-menu")).to_be_hidden()
    page.click("[data-menu-toggle=site-menu]")
    expect(page.locator("#site-menu")).to_be_visible()
    expect(page.locator("#site-menu [aria-current=page]")).to_have_count(1)
    shot(page, "officer-menu-open-phone")
    for path in officer_pages(request.id):
        check(path, "officer" + path.replace("/", "-").rstrip("-"))

    page.context.clear_cookies()
    page.goto(base + "/distributor/login")
    page.fill("input[name=username]", "pakhsh")
    page.fill("input[name=password]", PASSWORD)
    with page.expect_navigation():
        page.click("main form button[type=submit]")
    check("/distributor/", "distributor-dashboard")
    check("/distributor/branches/new", "distributor-branch-new")

    page.context.clear_cookies()
    staff_login(page, base, "rev")
    for path, label in (
        ("/admin/", "admin-dashboard"),
        ("/admin/qualification/", "admin-cartable"),
        ("/admin/qualification/?tab=applicant", "admin-cartable-applicant"),
        (f"/admin/qualification/review/?id={request.id}&tab=applicant", "admin-review"),
        ("/admin/cooperation/", "admin-cooperation"),
        ("/admin/editrequest/", "admin-editrequest"),
    ):
        check(path, label)


def test_officer_dashboard_shows_the_next_step(page, live_server, app, make_officer, shot):
    """A deficient request's card says what the reviewer asked for and of what kind; the
    menu shows the unread notices and marks the current page."""
    base = live_server
    reviewer = make_staff("rev", "university", full_name="بازبین تهران")
    officer = make_officer()
    request = submitted_request(app, officer, reviewer, "deficient")
    officer_login(page, base, officer.user_code)
    card = page.locator("#next-step-deficient")
    expect(card).to_contain_text("عکس واضح نیست.")
    expect(card.locator("[data-reason=photo]")).to_have_count(1)
    expect(card.locator(f"a[href$='/officer/qualification/{request.id}']")).to_have_count(1)
    expect(page.locator("#menu-unread")).to_have_count(1)
    expect(page.locator(".site-menu a[aria-current=page]")).to_have_attribute("href", "/officer/")
    shot(page, "01-dashboard-deficient-desk")
    assert_accessible(page, "dashboard")
    page.set_viewport_size(PHONE)
    page.reload()
    assert page.evaluate(NO_SIDEWAYS_SCROLL) <= 0
    shot(page, "02-dashboard-deficient-phone")
    page.set_viewport_size(DESK)


def test_termination_asks_for_confirmation_only_once_the_reason_is_written(
    page, live_server, make_officer, dialogs, shot
):
    """An empty reason is reported first; the confirm dialog comes only for a valid form."""
    base = live_server
    officer = make_officer(qualified=True)
    with models.db.connection_context():
        distributor = models.create_distributor(
            "pakhsh", PASSWORD, "شرکت پخش سلامت", "company", "09121110000", manager_name="رضا"
        )
        city = models.City.get(models.City.name == "تهران")
        branch = models.cooperation.create_branch(
            distributor.as_actor(), "شعبه ونک", city.province, city, "تهران، میدان ونک، پلاک ۵"
        )
        cooperation = models.cooperation.nominate(branch, distributor.as_actor(), officer.national_code)
        cooperation.apply("officer_approve", officer.as_actor())
    reviewer = make_staff("rev", "university", full_name="بازبین تهران")
    with models.db.connection_context():
        models.Cooperation.get_by_id(cooperation.id).apply("approve", reviewer.as_actor())
    officer_login(page, base, officer.user_code)
    page.goto(base + "/officer/termination/new")
    with page.expect_navigation():
        page.click("button[value=finalize]")
    expect(page.locator("#error-summary[role=alert]")).to_be_visible()
    assert dialogs == []  # no confirm for a form that is not valid yet
    shot(page, "01-termination-noreason")
    page.fill("#reason", "پایان قرارداد با شرکت")
    page.click("button[value=finalize]")
    assert [d["type"] for d in dialogs] == ["confirm"]  # dismissed: nothing ended
    dialogs.clear()
    with models.db.connection_context():
        assert models.Cooperation.get_by_id(cooperation.id).status == "active"
